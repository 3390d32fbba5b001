package io.jtensor.nn.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.bindings.mpi.Mpi;
import io.jtensor.distributed.ChildProcesses;
import java.io.IOException;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DDP over real processes: {@code mpirun -np W} (oversubscribed) runs {@link DdpWorker}s on the MPI backend; each
 * rank trains its shard of a fixed batch, and every rank must end with the parameters (and, with SyncBatchNorm, the
 * running statistics) of one process training on the whole batch here, with the same buckets launched in the same
 * order. Every job has a hard time limit after which its whole process tree is destroyed.
 */
class DdpMpiTest {
    private static final long JOB_LIMIT_S = 150;

    @BeforeAll static void needsMpi() {
        Assumptions.assumeTrue(ChildProcesses.mpirun() != null, "mpirun not found on PATH (install openmpi-bin)");
        Assumptions.assumeTrue(Mpi.isLoadable(), "libmpi is not loadable (install libopenmpi3)");
    }

    @ParameterizedTest(name = "{0} on {1} processes")
    @CsvSource({"LENET_SYNC_BN, 2", "LENET_SYNC_BN, 4", "BERT, 2"})
    void ranksEndWhereOneProcessOnTheWholeBatchEnds(DdpScenario scenario, int w, @TempDir Path dir) throws Exception {
        Map<String, double[]> expected = scenario.train(scenario.model(), null, null);
        runJob(scenario, w, dir);
        String launch0 = null, buckets0 = null;
        for (int r = 0; r < w; r++) {
            List<String> lines = Files.readAllLines(dir.resolve("rank-" + r + ".txt"));
            Map<String, double[]> state = new LinkedHashMap<>();
            String launch = null, buckets = null;
            for (String l : lines) {
                String[] p = l.split(" ", 3);
                switch (p[0]) {
                    case "state" -> state.put(p[1], Arrays.stream(p[2].split(",")).mapToDouble(Double::parseDouble).toArray());
                    case "launch" -> launch = l;
                    case "buckets" -> buckets = l;
                    default -> fail("unexpected line from rank " + r + ": " + l);
                }
            }
            DdpTesting.assertClose(expected, state, 2e-4, scenario + ", rank " + r + " of " + w);
            if (r == 0) {
                launch0 = launch;
                buckets0 = buckets;
            }
            assertEquals(launch0, launch, "bucket launch order, rank " + r + " against rank 0");
            assertEquals(buckets0, buckets, "buckets, rank " + r + " against rank 0");
        }
        assertTrue(launch0.startsWith("launch [0, 1"), launch0);
    }

    @ParameterizedTest(name = "{0} on 2 processes")
    @CsvSource({"FIND_UNUSED", "NO_SYNC"})
    void averagedGradientsEqualTheMeanOfTheRanksLosses(DdpGradScenario scenario, @TempDir Path dir) throws Exception {
        Map<String, double[]> expected = scenario.expectedGrads();
        runJob("GRADS_" + scenario, DdpGradScenario.RANKS, dir);
        for (int r = 0; r < DdpGradScenario.RANKS; r++) {
            Map<String, double[]> grads = new LinkedHashMap<>();
            for (String l : Files.readAllLines(dir.resolve("rank-" + r + ".txt"))) {
                String[] p = l.split(" ", 3);
                if (!p[0].equals("grad")) fail("rank " + r + ": " + l);
                grads.put(p[1], p[2].equals("none") ? null : Arrays.stream(p[2].split(",")).mapToDouble(Double::parseDouble).toArray());
            }
            DdpTesting.assertClose(expected, grads, 1e-5, scenario + ", rank " + r);
        }
    }

    @org.junit.jupiter.api.Test
    void aParameterNoRankUsesFailsTheBackwardOnEveryRankNamingIt(@TempDir Path dir) throws Exception {
        runJob("GRADS_UNUSED_ERROR", DdpGradScenario.RANKS, dir);
        for (int r = 0; r < DdpGradScenario.RANKS; r++) {
            String text = String.join("\n", Files.readAllLines(dir.resolve("rank-" + r + ".txt")));
            assertTrue(text.startsWith("error ") && text.contains("extra.weight, extra.bias, never.weight, never.bias")
                    && text.contains("findUnusedParameters(true)"), "rank " + r + ": " + text);
        }
    }

    private static void runJob(DdpScenario scenario, int w, Path dir) throws IOException, InterruptedException {
        runJob(scenario.name(), w, dir);
    }

    private static void runJob(String scenario, int w, Path dir) throws IOException, InterruptedException {
        ChildProcesses.Result r = ChildProcesses.run(ChildProcesses.mpirunJava(w, List.of("-Djtensor.distributed.timeout=60"),
                DdpWorker.class.getName(), scenario, dir.toString()), Map.of(), Duration.ofSeconds(JOB_LIMIT_S));
        if (r.timedOut()) fail("mpirun -np " + w + " " + scenario + " still running after " + JOB_LIMIT_S + " s; output:\n" + r.output());
        if (r.exitCode() != 0) fail("mpirun -np " + w + " " + scenario + " exited with " + r.exitCode() + "; output:\n" + r.output());
        assertTrue(r.survivors(Duration.ofSeconds(5)).isEmpty(), () -> "processes left behind: " + r.survivors(Duration.ZERO));
    }
}
