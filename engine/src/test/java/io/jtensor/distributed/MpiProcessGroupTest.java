package io.jtensor.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.bindings.mpi.Mpi;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The mpi backend on real processes: mpirun starts 2 or 4 JVMs on this machine (oversubscribed), each runs
 * {@link MpiCollectivesCheck}, and the timeout scenario {@link MpiTimeoutCheck}. Every run has a hard limit and its
 * whole process tree is destroyed at the end. Skipped, saying why, where Open MPI is not installed (CI installs it).
 */
class MpiProcessGroupTest {
    private static final Map<String, String> ENV = Map.of("OMPI_MCA_rmaps_base_oversubscribe", "1");

    @BeforeAll
    static void needsOpenMpi() {
        assumeTrue(ChildProcesses.mpirun() != null, "mpirun not found on PATH (install openmpi-bin)");
        assumeTrue(Mpi.isLoadable(), () -> "libmpi not loadable: " + failureOf());
    }

    private static String failureOf() {
        try {
            Mpi.load();
            return "?";
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    @ParameterizedTest(name = "{0} processes")
    @ValueSource(ints = {2, 4})
    void collectivesMatchTheirDefinitions(int n) throws Exception {
        ChildProcesses.Result r = ChildProcesses.run(
                ChildProcesses.mpirunJava(n, List.of(), MpiCollectivesCheck.class.getName()), ENV, Duration.ofSeconds(90));
        assertFalse(r.timedOut(), () -> "mpirun -np " + n + " did not finish within 90 s; output so far:\n" + r.output());
        assertEquals(0, r.exitCode(), () -> "mpirun -np " + n + " failed:\n" + r.output());
        for (int rank = 0; rank < n; rank++) {
            String line = "rank " + rank + ": ";
            assertTrue(r.output().contains(line) && r.output().contains("checks passed"),
                    "rank " + rank + " did not report its checks:\n" + r.output());
        }
        assertTrue(r.output().contains("MPI_THREAD_MULTIPLE, size " + n), "thread level not reported as granted:\n" + r.output());
        assertTrue(r.survivors(Duration.ofSeconds(5)).isEmpty(), () -> "processes left behind 5 s after the end: " + r.survivors(Duration.ZERO));
    }

    @Test
    void aRankThatSkipsACollectiveMakesTheOthersFailWithTheTimeoutError() throws Exception {
        ChildProcesses.Result r = ChildProcesses.run(ChildProcesses.mpirunJava(2, List.of("-Djtensor.distributed.timeout=2"),
                MpiTimeoutCheck.class.getName()), ENV, Duration.ofSeconds(60));
        String out = r.output();
        assertFalse(r.timedOut(), () -> "the job hung instead of failing; output:\n" + out);
        assertTrue(out.contains("rank 0 caught: allReduce #2 (SUM, F32 [8]) on rank 0 of 2 (mpi) did not complete within 2.0 s"),
                "rank 0 did not fail with the timeout error naming the collective, the rank and the wait:\n" + out);
        assertTrue(out.contains("rank 0 later call: allReduce: the process group (rank 0 of 2 (mpi)) has failed"),
                "a call after the timeout did not fail at once:\n" + out);
        assertFalse(out.contains("(wrong)"), out);
        assertNotEquals(0, r.exitCode(), "mpirun reported success for an aborted job:\n" + out);
        // 2 s timeout + JVM starts: far below the 120 s rank 1 sleeps, so the abort ended rank 1.
        assertTrue(r.elapsed().toSeconds() < 40, "took " + r.elapsed());
        assertTrue(r.survivors(Duration.ofSeconds(5)).isEmpty(), () -> "processes left behind 5 s after the end: " + r.survivors(Duration.ZERO));
    }
}
