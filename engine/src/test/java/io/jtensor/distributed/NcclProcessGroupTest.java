package io.jtensor.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.TestDevices;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.nccl.Nccl;
import io.jtensor.distributed.ProcessGroup.ReduceOp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nccl backend on a GPU host: world size 1 on cuda:0 (every collective is then the identity, or a copy for
 * all-gather), and two ranks on one GPU where NCCL allows it (2.30+ with NCCL_MULTI_RANK_GPU_ENABLE=1), each rank on
 * a logical device of GPU 0. Skipped elsewhere, saying why.
 */
class NcclProcessGroupTest {
    @BeforeAll
    static void needsGpuAndNccl() {
        assumeTrue(Backends.cudaAvailable(), () -> "no CUDA here: " + TestDevices.cudaSkipReason());
        assumeTrue(Nccl.isLoadable(), "NCCL (libnccl.so.2) not found on this GPU host");
    }

    @Test
    void worldSizeOneOnCuda0() {
        Device d = Device.cuda(0);
        try (NcclProcessGroup pg = NcclProcessGroup.create(new Rendezvous(0, 1, 0, "single", null, 0), Duration.ofSeconds(60))) {
            for (DType t : List.of(DType.F32, DType.F64, DType.F16, DType.BF16)) {
                for (ReduceOp op : ReduceOp.values()) {
                    try (NDArray host = MpiCollectivesCheck.filled(0, t, 1001); NDArray a = host.to(d)) {
                        pg.allReduce(a, op);
                        assertArrayEquals(host.toDoubleArray(), a.toDoubleArray(), 0, "allReduce " + op + " " + t);
                    }
                }
                try (NDArray host = MpiCollectivesCheck.filled(0, t, 7, 13); NDArray a = host.to(d); NDArray view = a.t()) {
                    pg.broadcast(view, 0);
                    pg.allReduce(view, ReduceOp.SUM);
                    assertArrayEquals(host.toDoubleArray(), a.toDoubleArray(), 0, "non-contiguous " + t);
                    try (NDArray out = NDArray.zeros(t, d, 1, 13, 7)) {
                        pg.allGather(out, view);
                        try (NDArray expect = host.t().contiguous()) {
                            assertArrayEquals(expect.toDoubleArray(), out.toDoubleArray(), 0, "allGather " + t);
                        }
                    }
                }
            }
            pg.barrier();
            assertTrue(pg.toString().contains("NCCL "), pg.toString());
        }
    }

    @Test
    void twoRanksOnOneGpu() throws Exception {
        int v = Nccl.version();
        assumeTrue(v >= 23000, "two ranks on one GPU need NCCL >= 2.30 (NCCL_MULTI_RANK_GPU_ENABLE); this host has " + Nccl.versionString(v));
        List<ChildProcesses.Result> results = new java.util.ArrayList<>();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Map<String, String> env = Map.of("RANK", "" + r, "WORLD_SIZE", "2", "LOCAL_RANK", "" + r, "MASTER_ADDR", "127.0.0.1",
                    "MASTER_PORT", "29611", "NCCL_MULTI_RANK_GPU_ENABLE", "1");
            List<String> cmd = ChildProcesses.javaCommand(NcclPairCheck.class.getName());
            cmd.add(1, "-Djtensor.cuda.logicalDevices=2");
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    var res = ChildProcesses.run(cmd, env, Duration.ofSeconds(120));
                    synchronized (results) {
                        results.add(res);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (Thread t : threads) t.join(150_000);
        assertEquals(2, results.size(), "a rank's run did not return");
        for (ChildProcesses.Result res : results) {
            assertFalse(res.timedOut(), () -> "a rank hung:\n" + res.output());
            assertEquals(0, res.exitCode(), res::output);
            assertTrue(res.output().contains("nccl pair ok"), res.output());
        }
    }
}
