package io.jtensor.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The processes one {@code jtensor launch} started, and the rules they live by:
 * <ul>
 *   <li>Output: every line goes to the launcher's stdout or stderr prefixed {@code [rank R]} (under mpirun, its
 *       {@code --tag-output} tags {@code [job,R]<stdout>:} are rewritten to the same prefix).</li>
 *   <li>Fail-fast: when a worker exits non-zero the others are stopped (SIGTERM, then SIGKILL after
 *       {@link #GRACE_MILLIS}) and the launcher exits with that worker's status (128 + signal when a signal ended
 *       it). Under mpirun, mpirun does this itself and the launcher passes its status on.</li>
 *   <li>No orphans: stopping a worker stops its whole tree (ProcessHandle.descendants(), deepest first, taken
 *       while the worker is still alive so that its children are not lost when they are re-parented). A shutdown
 *       hook does the same when the launcher is interrupted (Ctrl-C, SIGTERM). A launcher killed with SIGKILL runs
 *       no hook: for that case each worker starts through {@code setpriv --pdeathsig KILL} (util-linux, where
 *       present), so the kernel kills it when the launcher dies.</li>
 * </ul>
 */
final class Workers {
    static final long GRACE_MILLIS = 5000;
    private static final Pattern MPI_TAG = Pattern.compile("^\\[\\d+,(\\d+)\\]<(stdout|stderr)>:(.*)$");
    private static final String SETPRIV = "/usr/bin/setpriv";

    private final List<Process> processes = new ArrayList<>();
    private final List<Thread> pipes = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final PrintStream out, err;

    private Workers(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Starts the plan's processes, waits for them and returns the launcher's exit status. */
    static int run(LaunchCommand.Plan plan, PrintStream out, PrintStream err) {
        Workers w = new Workers(out, err);
        Thread hook = new Thread(w::stopAll, "jtensor-launch-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (plan.backend().equals("mpi")) w.startMpirun(plan);
            else for (int i = 0; i < plan.nprocPerNode(); i++) w.startWorker(plan, i);
            return w.waitFailFast();
        } finally {
            w.stopAll();
            w.drainOutput();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs anyway
            }
        }
    }

    private static List<String> withParentDeathSignal(List<String> cmd) {
        if (!Files.isExecutable(Path.of(SETPRIV))) return cmd;
        List<String> c = new ArrayList<>(List.of(SETPRIV, "--pdeathsig", "KILL", "--"));
        c.addAll(cmd);
        return c;
    }

    private void startWorker(LaunchCommand.Plan plan, int local) {
        ProcessBuilder pb = new ProcessBuilder(withParentDeathSignal(plan.command()));
        pb.environment().putAll(plan.torchrunEnv(local));
        String rank = pb.environment().get("RANK");
        Process p = start(pb, "rank " + rank);
        pipe(p.getInputStream(), "[rank " + rank + "] ", out);
        pipe(p.getErrorStream(), "[rank " + rank + "] ", err);
    }

    private void startMpirun(LaunchCommand.Plan plan) {
        String mpirun = LaunchCommand.mpirun();
        if (mpirun == null) throw new CommandException("--backend mpi needs mpirun on PATH (Debian: apt-get install openmpi-bin)");
        boolean root = "root".equals(System.getProperty("user.name"));
        Process p = start(new ProcessBuilder(withParentDeathSignal(plan.mpirunCommand(mpirun, root))), "mpirun");
        pipeTagged(p.getInputStream(), out);
        pipeTagged(p.getErrorStream(), err);
    }

    private Process start(ProcessBuilder pb, String name) {
        try {
            Process p = pb.start();
            synchronized (this) {
                processes.add(p);
                names.add(name);
            }
            return p;
        } catch (IOException e) {
            stopAll();
            throw new CommandException("could not start " + name + " (" + String.join(" ", pb.command()) + "): " + e.getMessage());
        }
    }

    /** Waits until all exit 0 (returns 0) or one fails (stops the rest, returns its status). */
    private int waitFailFast() {
        List<CompletableFuture<Process>> exits = new ArrayList<>();
        for (Process p : processes) exits.add(p.onExit());
        int remaining = exits.size();
        boolean[] seen = new boolean[exits.size()];
        while (remaining > 0) {
            CompletableFuture.anyOf(unfinished(exits, seen)).join();
            for (int i = 0; i < exits.size(); i++) {
                if (seen[i] || !exits.get(i).isDone()) continue;
                seen[i] = true;
                remaining--;
                int status = processes.get(i).exitValue();
                if (status != 0) {
                    err.println("[launch] " + names.get(i) + " exited with status " + status
                            + (remaining > 0 ? "; stopping the other workers" : ""));
                    stopAll();
                    return status;
                }
            }
        }
        return 0;
    }

    private static CompletableFuture<?>[] unfinished(List<CompletableFuture<Process>> exits, boolean[] seen) {
        List<CompletableFuture<Process>> open = new ArrayList<>();
        for (int i = 0; i < exits.size(); i++) if (!seen[i]) open.add(exits.get(i));
        return open.toArray(CompletableFuture[]::new);
    }

    /** Stops every worker's tree: SIGTERM first, SIGKILL to whatever is left after the grace period. */
    private synchronized void stopAll() {
        List<ProcessHandle> tree = new ArrayList<>();
        for (Process p : processes) {
            List<ProcessHandle> desc = new ArrayList<>(p.descendants().toList());
            java.util.Collections.reverse(desc);
            tree.addAll(desc);
            tree.add(p.toHandle());
        }
        tree.removeIf(h -> !h.isAlive());
        if (tree.isEmpty()) return;
        for (ProcessHandle h : tree) h.destroy();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
        for (ProcessHandle h : tree) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                // still alive: killed below
            }
        }
        for (ProcessHandle h : tree) if (h.isAlive()) h.destroyForcibly();
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                err.println("[launch] process " + h.pid() + " did not exit after SIGKILL");
            }
        }
    }

    /** Lets the output threads print the last lines of processes that have ended (bounded: a grandchild may hold a pipe). */
    private void drainOutput() {
        for (Thread t : pipes) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void pipe(InputStream in, String prefix, PrintStream to) {
        pipes.add(Thread.ofPlatform().daemon().name("jtensor-launch-output").start(() -> forEachLine(in, line -> {
            synchronized (to) {
                to.println(prefix + line);
            }
        })));
    }

    /** mpirun's tagged lines ({@code [1,R]<stdout>:text}) become {@code [rank R] text}; its own lines {@code [mpirun] ...}. */
    private void pipeTagged(InputStream in, PrintStream fallback) {
        pipes.add(Thread.ofPlatform().daemon().name("jtensor-launch-output").start(() -> forEachLine(in, line -> {
            Matcher m = MPI_TAG.matcher(line);
            PrintStream to = m.matches() ? (m.group(2).equals("stdout") ? out : err) : fallback;
            String text = m.matches() ? "[rank " + m.group(1) + "] " + m.group(3) : "[mpirun] " + line;
            synchronized (to) {
                to.println(text);
            }
        })));
    }

    private static void forEachLine(InputStream in, java.util.function.Consumer<String> sink) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) sink.accept(line);
        } catch (IOException e) {
            // the process ended
        }
    }
}
