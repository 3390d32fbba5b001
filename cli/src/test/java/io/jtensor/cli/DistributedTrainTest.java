package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jtensor train --distributed mpi} wired to a group of one (the real backends are tested under mpirun):
 * DDP wraps the model, the job's line names the processes, the accuracy is printed once, the checkpoint loads into
 * the plain model (no "module." prefix), and the group is closed at the end.
 */
class DistributedTrainTest {
    private final Function<String, ProcessGroup> original = TrainCommand.processGroups;

    @AfterEach void restore() { TrainCommand.processGroups = original; }

    /** Rank 0 of a world of one: every collective leaves its arrays as they are. */
    static final class Solo implements ProcessGroup {
        final List<String> calls = new ArrayList<>();
        boolean closed;
        private static final Work DONE = new Work() {
            @Override public boolean isCompleted() { return true; }
            @Override public void await(Duration timeout) {}
        };

        @Override public int rank() { return 0; }
        @Override public int size() { return 1; }
        @Override public int localRank() { return 0; }
        @Override public String backend() { return "mpi"; }
        /** "SUM F16" per all-reduce, in order. */
        final List<String> reduced = new ArrayList<>();

        @Override public Work allReduceAsync(NDArray a, ReduceOp op) { calls.add("allReduce"); reduced.add(op + " " + a.dtype()); return DONE; }
        @Override public Work broadcastAsync(NDArray a, int root) { calls.add("broadcast"); return DONE; }
        @Override public Work allGatherAsync(NDArray out, NDArray in) { out.copyFrom(in.unsqueeze(0)); return DONE; }
        @Override public Work reduceScatterAsync(NDArray out, NDArray in, ReduceOp op) { out.copyFrom(in.squeeze(0)); return DONE; }
        @Override public void barrier() {}
        @Override public Duration timeout() { return Duration.ofSeconds(10); }
        @Override public void close() { closed = true; }
    }

    @Test void distributedTrainRunsDdpAndPrintsTheAccuracyOnce(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        Solo solo = new Solo();
        List<String> asked = new ArrayList<>();
        TrainCommand.processGroups = backend -> {
            asked.add(backend);
            return solo;
        };
        MainTest.Result r = MainTest.run("train", "--model", "mlp", "--limit", "256", "--epochs", "1", "--workers", "1",
                "--distributed", "mpi", "--checkpoint-dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("mpi"), asked);
        assertTrue(solo.closed, "the group is closed at the end");
        assertTrue(solo.calls.contains("allReduce"), "gradients went through the group: " + solo.calls);
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).contains(", 1 processes (mpi), batch 64 per process"), lines.get(0));
        assertEquals(1, lines.stream().filter(l -> l.startsWith("test accuracy: ")).count(), r.out());

        MainTest.Result e = MainTest.run("eval", "--checkpoint", dir.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        String last = lines.get(lines.size() - 1), evalLast = e.out().lines().reduce((a, b) -> b).orElse("");
        assertEquals(last.substring(0, 21), evalLast.substring(0, 21), "eval of the DDP checkpoint gives the accuracy train printed");
    }

    @Test void ampO2UnderDistributedWrapsAfterAmpInitializeAndTiesTheScalerToTheGroup() {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        Solo solo = new Solo();
        TrainCommand.processGroups = backend -> solo;
        MainTest.Result r = MainTest.run("train", "--model", "mlp", "--limit", "128", "--epochs", "1", "--workers", "1",
                "--distributed", "mpi", "--amp", "O2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().findFirst().orElse("").contains("amp O2 F16"), r.out());
        // DDP's buckets hold half gradients: it wrapped the model after Amp.initialize cast it.
        assertTrue(solo.reduced.contains("SUM F16"), "half gradient buckets: " + solo.reduced);
        assertTrue(!solo.reduced.contains("SUM F32"), "no fp32 gradient buckets (the MLP is all half under O2): " + solo.reduced);
        // The scaler's found-inf flag went through the group.
        assertTrue(solo.reduced.contains("MAX I32"), "found-inf all-reduced with MAX: " + solo.reduced);
    }

    @Test void twoMpiRanksUnderJtensorLaunchTrainOneModelAndPrintTheWholeTestSetsAccuracyOnce(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        Assumptions.assumeTrue(LaunchCommand.mpirun() != null, "mpirun not found on PATH (install openmpi-bin)");
        java.io.ByteArrayOutputStream outBytes = new java.io.ByteArrayOutputStream(), errBytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream out = new java.io.PrintStream(outBytes, true, java.nio.charset.StandardCharsets.UTF_8);
        java.io.PrintStream err = new java.io.PrintStream(errBytes, true, java.nio.charset.StandardCharsets.UTF_8);
        java.util.concurrent.CompletableFuture<Integer> run = java.util.concurrent.CompletableFuture.supplyAsync(() -> LaunchCommand.run(new String[] {
                "--nproc-per-node", "2", "--backend", "mpi", "--", "train", "--model", "mlp", "--limit", "512", "--epochs", "1",
                "--workers", "1", "--distributed", "mpi", "--checkpoint-dir", dir.toString()}, out, err));
        int code;
        try {
            code = run.get(150, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
            throw new AssertionError("jtensor launch ... train --distributed mpi still running after 150 s; out:\n" + outBytes);
        }
        String text = outBytes.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, code, () -> text + errBytes);
        List<String> accuracy = text.lines().filter(l -> l.contains("test accuracy: ")).toList();
        assertEquals(1, accuracy.size(), "one accuracy line for the job:\n" + text);
        assertTrue(accuracy.get(0).startsWith("[rank 0] test accuracy: "), accuracy.get(0));
        assertTrue(text.lines().anyMatch(l -> l.startsWith("[rank 0] train: ") && l.contains("2 processes (mpi)")), text);
        assertTrue(text.lines().noneMatch(l -> l.startsWith("[rank 1] train:")), "rank 1 prints nothing of its own:\n" + text);
        double acc = Double.parseDouble(accuracy.get(0).substring("[rank 0] test accuracy: ".length()).substring(0, 6));
        assertTrue(acc > 0.3, "test accuracy " + acc);

        MainTest.Result e = MainTest.run("eval", "--checkpoint", dir.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        String evalLast = e.out().lines().reduce((a, b) -> b).orElse("");
        assertTrue(evalLast.startsWith("test accuracy: " + accuracy.get(0).substring(24, 30)),
                "eval of rank 0's checkpoint over the whole test set: " + evalLast + " against " + accuracy.get(0));
    }

    @Test void mpiWithAGpuDeviceIsAUsageError() {
        TrainCommand.processGroups = backend -> { throw new AssertionError("no group should be joined"); };
        MainTest.Result r = MainTest.run("train", "--distributed", "mpi", "--device", "cuda:0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--distributed mpi"), r.err());
    }
}
