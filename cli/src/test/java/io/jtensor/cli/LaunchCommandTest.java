package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code jtensor launch} with real worker processes ({@link LaunchTestWorker}): torchrun's variables and rank
 * prefixes, fail-fast with the failing worker's status, a worker killed mid-step, Ctrl-C, the mpirun path, and bad
 * command lines. Every wait is bounded and every process this test started is killed when it ends.
 */
class LaunchCommandTest {
    private static final Pattern READY = Pattern.compile("\\[rank (\\d)\\] ready pid=(\\d+)");

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final Set<Long> started = ConcurrentHashMap.newKeySet();

    @AfterEach
    void killEverythingStarted() {
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
        for (long pid : started) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    private String out() { return outBytes.toString(StandardCharsets.UTF_8); }
    private String err() { return errBytes.toString(StandardCharsets.UTF_8); }

    private static List<String> worker(String mode) {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-Djtensor.cpu.threads=1", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-Xmx64m", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                LaunchTestWorker.class.getName(), mode);
    }

    private static String[] launchArgs(List<String> flags, List<String> command) {
        List<String> a = new ArrayList<>(flags);
        a.add("--");
        a.addAll(command);
        return a.toArray(String[]::new);
    }

    /** Runs the launcher on another thread so the test can act on its workers; the result within limitSeconds. */
    private CompletableFuture<Integer> launchAsync(String[] args) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(LaunchCommand.run(args, out, err));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** The worker pids by rank, once every rank printed "ready" (bounded). */
    private long[] awaitReady(int n, int limitSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(limitSeconds);
        while (System.nanoTime() < deadline) {
            long[] pids = new long[n];
            int found = 0;
            Matcher m = READY.matcher(out());
            while (m.find()) {
                int r = Integer.parseInt(m.group(1));
                if (r < n && pids[r] == 0) {
                    pids[r] = Long.parseLong(m.group(2));
                    started.add(pids[r]);
                    found++;
                }
            }
            if (found == n) return pids;
            Thread.sleep(50);
        }
        throw new AssertionError("not every rank reported ready within " + limitSeconds + " s; out:\n" + out() + "\nerr:\n" + err());
    }

    private static void assertAllGone(long[] pids) throws Exception {
        for (long pid : pids) {
            var h = ProcessHandle.of(pid);
            if (h.isPresent()) {
                try {
                    h.get().onExit().get(5, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new AssertionError("worker " + pid + " outlived the launcher by 5 s");
                }
            }
        }
    }

    @Test
    void workersGetTorchrunVariablesAndEveryLineItsRankPrefix() {
        int code = LaunchCommand.run(launchArgs(List.of("--nproc-per-node", "2", "--master-port", "29555"), worker("hello")), out, err);
        assertEquals(0, code, () -> out() + err());
        assertTrue(out().contains("[rank 0] hello from 0 of 2 local 0 master 127.0.0.1:29555"), out());
        assertTrue(out().contains("[rank 1] hello from 1 of 2 local 1 master 127.0.0.1:29555"), out());
        assertTrue(err().contains("[rank 1] err line of 1"), err());
    }

    @Test
    void aSecondNodeNumbersItsRanksAfterTheFirst() {
        int code = LaunchCommand.run(launchArgs(List.of("--nproc-per-node", "2", "--nnodes", "2", "--node-rank", "1"),
                worker("hello")), out, err);
        assertEquals(0, code, () -> out() + err());
        assertTrue(out().contains("[rank 2] hello from 2 of 4 local 0"), out());
        assertTrue(out().contains("[rank 3] hello from 3 of 4 local 1"), out());
    }

    @Test
    void aFailingWorkerStopsTheOthersAndGivesItsStatus() throws Exception {
        long t0 = System.nanoTime();
        CompletableFuture<Integer> code = launchAsync(launchArgs(List.of("--nproc-per-node", "2"), worker("fail")));
        long[] ready = awaitReadyOne(0, code);
        int status = code.get(30, TimeUnit.SECONDS);
        assertEquals(3, status, () -> out() + err());
        assertTrue(err().contains("[launch] rank 1 exited with status 3; stopping the other workers"), err());
        assertFalse(out().contains("(wrong)"), out());
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) < 30);
        assertAllGone(ready);
    }

    /** Rank r's pid once it printed ready (the failing rank never does). */
    private long[] awaitReadyOne(int r, CompletableFuture<Integer> launch) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            boolean ended = launch.isDone();
            Matcher m = READY.matcher(out());
            while (m.find()) {
                if (Integer.parseInt(m.group(1)) == r) {
                    long pid = Long.parseLong(m.group(2));
                    started.add(pid);
                    return new long[] {pid};
                }
            }
            if (ended) break;
            Thread.sleep(50);
        }
        // The failing rank may have ended the job before rank r printed: nothing of rank r to check then.
        return new long[0];
    }

    @Test
    void aWorkerKilledMidStepEndsTheLaunchWithinSeconds() throws Exception {
        CompletableFuture<Integer> code = launchAsync(launchArgs(List.of("--nproc-per-node", "2"), worker("steps")));
        long[] pids = awaitReady(2, 30);
        long killedAt = System.nanoTime();
        ProcessHandle.of(pids[1]).orElseThrow().destroyForcibly();
        int status = code.get(20, TimeUnit.SECONDS);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt);
        assertEquals(128 + 9, status, () -> "expected the SIGKILLed worker's status; " + err());
        assertTrue(seconds < 10, "the launcher took " + seconds + " s to end after the kill");
        assertAllGone(pids);
    }

    @Test
    void underMpirunTheRanksComeFromMpiAndAKilledRankEndsTheJob() throws Exception {
        assumeTrue(LaunchCommand.mpirun() != null, "mpirun not found on PATH (install openmpi-bin)");
        int code = LaunchCommand.run(launchArgs(List.of("--nproc-per-node", "2", "--backend", "mpi"), worker("hello")), out, err);
        assertEquals(0, code, () -> out() + err());
        assertTrue(out().contains("[rank 0] hello from 0 of 2 local 0"), out());
        assertTrue(out().contains("[rank 1] hello from 1 of 2 local 1"), out());
        assertTrue(err().contains("[rank 0] err line of 0"), err());

        outBytes.reset();
        CompletableFuture<Integer> killed = launchAsync(launchArgs(List.of("--nproc-per-node", "2", "--backend", "mpi"),
                worker("mpi-steps")));
        long[] pids = awaitReady(2, 30);
        long killedAt = System.nanoTime();
        ProcessHandle.of(pids[1]).orElseThrow().destroyForcibly();
        int status = killed.get(20, TimeUnit.SECONDS);
        assertNotEquals(0, status, () -> out() + err());
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt) < 10);
        assertAllGone(pids);
    }

    @Test
    void anInterruptedLauncherStopsItsWorkers() throws Exception {
        // The launcher in a JVM of its own, interrupted the way Ctrl-C does (SIGINT), must take its workers with it.
        endLauncherAndCheckWorkers("-INT");
    }

    @Test
    void aLauncherKilledOutrightLeavesNoWorkerBehind() throws Exception {
        // SIGKILL runs no shutdown hook: the workers' parent-death signal (setpriv --pdeathsig) must end them.
        assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) not installed");
        endLauncherAndCheckWorkers("-KILL");
    }

    private void endLauncherAndCheckWorkers(String signal) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xmx128m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "launch", "--nproc-per-node", "2", "--"));
        cmd.addAll(worker("steps"));
        Process launcher = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        started.add(launcher.pid());
        Thread.ofPlatform().daemon().start(() -> {
            try {
                launcher.getInputStream().transferTo(out);
            } catch (java.io.IOException e) {
                // ended
            }
        });
        long[] pids = awaitReady(2, 30);
        Process kill = new ProcessBuilder("kill", signal, String.valueOf(launcher.pid())).start();
        assertTrue(kill.waitFor(5, TimeUnit.SECONDS));
        assertTrue(launcher.waitFor(15, TimeUnit.SECONDS), "the launcher did not end within 15 s of " + signal);
        assertAllGone(pids);
    }

    @Test
    void badCommandLinesAreUsageErrors() {
        assertEquals(2, LaunchCommand.run(new String[] {"--", "train"}, out, err));
        assertTrue(err().contains("jtensor launch: --nproc-per-node is required"), err());
        assertEquals(2, LaunchCommand.run(new String[] {"--nproc-per-node", "2"}, out, err));
        assertTrue(err().contains("expected the command to run after --"), err());
        assertEquals(2, LaunchCommand.run(new String[] {"--nproc-per-node", "2", "--backend", "gloo", "--", "x"}, out, err));
        assertTrue(err().contains("--backend: expected one of nccl, mpi, got 'gloo'"), err());
        assertEquals(2, LaunchCommand.run(new String[] {"--nproc-per-node", "0", "--", "x"}, out, err));
        assertTrue(err().contains("--nproc-per-node: expected an integer >= 1, got 0"), err());
        assertEquals(2, LaunchCommand.run(new String[] {"--nproc-per-node", "1", "--nnodes", "2", "--node-rank", "2", "--", "x"}, out, err));
        assertTrue(err().contains("--node-rank: expected 0..1"), err());
    }

    @Test
    void helpShowsTheLaunchSynopsis() {
        assertEquals(0, Main.run(new String[] {"launch", "--help"}, out, err));
        assertTrue(out().contains("usage: jtensor launch --nproc-per-node N [flags] -- <command ...>"), out());
        assertTrue(out().contains("--backend NAME"), out());
        assertTrue(Main.usage().contains("launch    start one worker process per device"), Main.usage());
    }

    @Test
    void aJtensorCommandRunsInAJvmLikeThisOne() {
        List<String> cmd = LaunchCommand.workerCommand(List.of("train", "--model", "mlp"));
        assertTrue(cmd.get(0).endsWith("/bin/java"), cmd.toString());
        int main = cmd.indexOf(Main.class.getName());
        assertTrue(main > 0 && cmd.get(main - 2).equals("-cp"), cmd.toString());
        assertEquals(List.of("train", "--model", "mlp"), cmd.subList(main + 1, cmd.size()));
        assertEquals(List.of("python3", "x.py"), LaunchCommand.workerCommand(List.of("python3", "x.py")));
    }
}
