package io.jtensor.distributed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Starts process trees for the multi-process tests (mpirun with JVMs under it, the launcher with its workers) so that
 * they can never hang a build: every run has a hard limit, the whole tree is destroyed at the end (descendants
 * first), and every process id seen in the tree is remembered so that a test can check none of them survived.
 */
public final class ChildProcesses {
    private ChildProcesses() {}

    /** How a run ended: its exit code (or null when it hit the limit), its output (stdout and stderr) and duration. */
    public record Result(Integer exitCode, String output, Duration elapsed, Set<Long> pidsSeen) {
        public boolean timedOut() { return exitCode == null; }

        /**
         * The processes of the tree still alive after {@code grace} (should be none): a process that was sent a
         * signal as the tree ended needs a moment to go.
         */
        public List<ProcessHandle> survivors(Duration grace) {
            long deadline = System.nanoTime() + grace.toNanos();
            for (long pid : pidsSeen) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    try {
                        h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (Exception e) {
                        // still alive: listed below
                    }
                });
            }
            List<ProcessHandle> alive = new ArrayList<>();
            for (long pid : pidsSeen) ProcessHandle.of(pid).filter(ProcessHandle::isAlive).ifPresent(alive::add);
            return alive;
        }
    }

    /** The java executable of this JVM. */
    public static String java() { return Path.of(System.getProperty("java.home"), "bin", "java").toString(); }

    /** The JVM flags a child running jtensor needs, plus start-up savers (C1 only, small heap, one CPU thread). */
    public static List<String> javaCommand(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED", "--add-modules",
                "jdk.incubator.vector", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-Xshare:auto",
                "-Djtensor.cpu.threads=1", "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The mpirun on this machine, or null. */
    public static String mpirun() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "mpirun");
            if (Files.isExecutable(p)) return p.toString();
        }
        return Files.isExecutable(Path.of("/usr/bin/mpirun")) ? "/usr/bin/mpirun" : null;
    }

    /**
     * {@code mpirun -np n} of a Java main class of the test class path. Root may run it (CI runs as root), ranks may
     * outnumber cores, and they are not pinned: several JVMs share two cores.
     */
    public static List<String> mpirunJava(int n, List<String> jvmProperties, String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(mpirun(), "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                "-np", String.valueOf(n)));
        List<String> java = javaCommand(mainClass, args);
        // Through env: mpirun rewrites the -cp of an executable named "java" (its Java-bindings support) and breaks it.
        cmd.add("/usr/bin/env");
        cmd.add(java.get(0));
        cmd.addAll(jvmProperties);
        cmd.addAll(java.subList(1, java.size()));
        return cmd;
    }

    /** Runs cmd with a hard limit; the tree is destroyed when it ends or the limit passes. */
    public static Result run(List<String> cmd, Map<String, String> env, Duration limit) throws IOException, InterruptedException {
        return run(cmd, env, limit, null);
    }

    /**
     * As {@link #run(List, Map, Duration)}; {@code whileRunning}, when given, is called on a separate thread with the
     * root process (to kill a worker mid-run, say).
     */
    public static Result run(List<String> cmd, Map<String, String> env, Duration limit, java.util.function.Consumer<Process> whileRunning)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        seen.add(p.pid());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> copy(p.getInputStream(), out));
        Thread watcher = Thread.ofPlatform().daemon().start(() -> {
            while (p.isAlive()) {
                p.descendants().forEach(d -> seen.add(d.pid()));
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Thread action = whileRunning == null ? null : Thread.ofPlatform().daemon().start(() -> whileRunning.accept(p));
        boolean finished;
        try {
            finished = p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            destroyTree(p);
            watcher.interrupt();
            if (action != null) action.interrupt();
        }
        reader.join(5000);
        String text;
        synchronized (out) {
            text = out.toString(StandardCharsets.UTF_8);
        }
        return new Result(finished ? p.exitValue() : null, text, Duration.ofNanos(System.nanoTime() - start), seen);
    }

    /** Kills the descendants, then the root, and waits (bounded) for them to go. */
    public static void destroyTree(Process p) {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        for (ProcessHandle h : tree) h.destroyForcibly();
        p.destroyForcibly();
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reported by the caller's survivors() check
            }
        }
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }
}
