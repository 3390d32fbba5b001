package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.DdpTesting.assertClose;
import static io.jtensor.nn.parallel.DdpTesting.copies;
import static io.jtensor.nn.parallel.DdpTesting.input;
import static io.jtensor.nn.parallel.DdpTesting.labels;
import static io.jtensor.nn.parallel.DdpTesting.rows;
import static io.jtensor.nn.parallel.DdpTesting.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Module;
import io.jtensor.nn.amp.Amp;
import io.jtensor.nn.amp.GradScaler;
import io.jtensor.nn.amp.OptLevel;
import io.jtensor.nn.models.MLP;
import io.jtensor.nn.optim.SGD;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mixed precision under DistributedDataParallel on two thread ranks, in Apex's order: rank 0's fp32 state broadcast,
 * {@code Amp.initialize}, then the wrap; the scaler's found-inf flag all-reduced over the group.
 */
class AmpDistributedDataParallelTest {
    static final int STEPS = 4;
    static final int W = 2;

    /** What one run leaves: the model state, the O2 masters, and per step the scale after it and whether it stepped. */
    record Run(Map<String, double[]> state, List<double[]> masters, List<Double> scales, List<Boolean> stepped,
               List<Map<String, double[]>> stateBefore) {}

    static MLP mlp() { return new MLP(6, 16, 3); }

    /**
     * STEPS of SGD with momentum under {@code level}; {@code group} null: one process on the whole batch; otherwise
     * this rank's half of it under DDP. {@code infRank} plants an inf in that rank's input at step {@code infStep}.
     */
    static Run train(Module m, ProcessGroup group, OptLevel level, DType half, NDArray x, NDArray y, int infRank, int infStep) {
        int rank = group == null ? 0 : group.rank();
        Device dev = group == null ? Device.cpu() : Device.cpu(rank);
        m.to(dev);
        long n = group == null ? x.size(0) : x.size(0) / W;
        if (group != null) DistributedDataParallel.broadcastModuleStates(m, group);
        SGD opt = new SGD(m.parameters(), 0.1, 0.9);
        Amp amp = Amp.initialize(m, opt, level, half);
        GradScaler scaler = amp.scaler();
        Module model = m;
        if (group != null) {
            scaler.processGroup(group);
            model = DistributedDataParallelTest.smallBuckets(m, (ThreadProcessGroup) group).build();
        }
        List<Double> scales = new ArrayList<>();
        List<Boolean> stepped = new ArrayList<>();
        List<Map<String, double[]>> before = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            before.add(snapshot(m));
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor in = rows(x, rank * n, n, dev);
                if (rank == infRank && s == infStep) {
                    in = Tensor.wrap(in.data().copy());   // never the shared batch
                    in.data().narrow(0, 0, 1).fill(Double.POSITIVE_INFINITY);
                }
                Tensor out, loss;
                try (AutoCloseable fwd = amp.forwardScope()) {
                    out = amp.castOutput(model.forward(amp.castInput(in)));
                    loss = out.crossEntropy(rows(y, rank * n, n, dev));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                opt.zeroGrad();
                scaler.scale(loss).backward();
                stepped.add(scaler.step(opt));
                scaler.update();
                scales.add(scaler.getScale());
            }
        }
        List<double[]> masters = amp.masterParameters().stream().map(t -> t.data().toDoubleArray()).toList();
        return new Run(snapshot(m), masters, scales, stepped, before);
    }

    static List<Run> sharded(List<MLP> models, OptLevel level, DType half, NDArray x, NDArray y, int infRank, int infStep) {
        return ThreadRanks.run(W, DistributedDataParallelTest.COLLECTIVE_TIMEOUT, DistributedDataParallelTest.LIMIT, (rank, group) -> {
            MLP m = models.get(rank);
            // Rank 1 starts elsewhere: only the broadcast before Amp.initialize makes its masters rank 0's.
            if (rank == 1) for (Tensor p : m.parameters()) p.data().mulInPlace(1.5);
            return train(m, group, level, half, x, y, infRank, infStep);
        });
    }

    static void assertSameBits(Run a, Run b, String what) {
        assertClose(a.state(), b.state(), 0, what + ": parameters");
        assertEquals(a.masters().size(), b.masters().size(), what + ": master count");
        for (int k = 0; k < a.masters().size(); k++) {
            double[] ma = a.masters().get(k), mb = b.masters().get(k);
            for (int i = 0; i < ma.length; i++) {
                assertEquals(Double.doubleToLongBits(ma[i]), Double.doubleToLongBits(mb[i]), what + ": master " + k + "[" + i + "]");
            }
        }
        assertEquals(a.scales(), b.scales(), what + ": scales");
        assertEquals(a.stepped(), b.stepped(), what + ": steps taken");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"O1, F16", "O2, F16", "O2, BF16"})
    void shardedAmpRanksStayBitIdenticalAndEndNearTheWholeBatch(OptLevel level, DType half) {
        List<MLP> models = copies(W + 1, AmpDistributedDataParallelTest::mlp);
        try (NDArray x = input(11, 8, 6); NDArray y = labels(12, 8, 3)) {
            Run whole = train(models.get(W), null, level, half, x, y, -1, -1);
            List<Run> ranks = sharded(models.subList(0, W), level, half, x, y, -1, -1);
            assertSameBits(ranks.get(0), ranks.get(1), level + " " + half + " rank 1 vs rank 0");
            if (level == OptLevel.O2) assertNotEquals(0, ranks.get(0).masters().size(), "O2 keeps masters");
            assertEquals(List.of(true, true, true, true), ranks.get(0).stepped(), "no step skipped");
            // Half rounding of shard-sized versus whole-batch sums: a few half ulps, relative to each tensor's largest value.
            double tol = half == DType.BF16 ? 3e-2 : 5e-3;
            assertClose(whole.state(), ranks.get(0).state(), tol, level + " " + half + " sharded vs whole batch");
        }
    }

    @Test
    void anInfOnOneRankSkipsTheStepAndHalvesTheScaleOnEveryRank() {
        List<MLP> models = copies(W, AmpDistributedDataParallelTest::mlp);
        try (NDArray x = input(13, 8, 6); NDArray y = labels(14, 8, 3)) {
            for (OptLevel level : List.of(OptLevel.O1, OptLevel.O2)) {
                List<MLP> fresh = level == OptLevel.O1 ? models : copies(W, AmpDistributedDataParallelTest::mlp);
                List<Run> ranks = sharded(fresh, level, DType.F16, x, y, 1, 2);
                for (int r = 0; r < W; r++) {
                    Run run = ranks.get(r);
                    String what = level + " rank " + r;
                    assertEquals(List.of(true, true, false, true), run.stepped(), what + ": only step 2 skipped");
                    assertEquals(run.scales().get(1) * 0.5, run.scales().get(2), what + ": scale halved at the skip");
                    // Parameters before step 3 are those before step 2: the skip changed nothing.
                    assertClose(run.stateBefore().get(2), run.stateBefore().get(3), 0, what + ": parameters across the skip");
                }
                assertSameBits(ranks.get(0), ranks.get(1), level + " rank 1 vs rank 0");
            }
        }
    }

    /** The wrong order (wrap, then O2 casts the parameters to half) fails loudly at the first backward on every rank. */
    @Test
    void castingTheModelAfterWrappingItFailsNamingTheOrder() {
        List<MLP> models = copies(W, AmpDistributedDataParallelTest::mlp);
        try (NDArray x = input(15, 8, 6); NDArray y = labels(16, 8, 3)) {
            List<String> messages = ThreadRanks.run(W, DistributedDataParallelTest.COLLECTIVE_TIMEOUT, DistributedDataParallelTest.LIMIT,
                    (rank, group) -> {
                        MLP m = models.get(rank);
                        Device dev = Device.cpu(rank);
                        m.to(dev);
                        Module ddp = DistributedDataParallelTest.smallBuckets(m, group).build();
                        SGD opt = new SGD(m.parameters(), 0.1, 0.9);
                        Amp amp = Amp.initialize(m, opt, OptLevel.O2, DType.F16);
                        try (MemoryScope scope = MemoryScope.open()) {
                            Tensor out = amp.castOutput(ddp.forward(amp.castInput(rows(x, rank * 4L, 4, dev))));
                            amp.scaler().scale(out.crossEntropy(rows(y, rank * 4L, 4, dev))).backward();
                            return "backward passed";
                        } catch (IllegalStateException e) {
                            return e.getMessage();
                        }
                    });
            for (int r = 0; r < W; r++) {
                String msg = messages.get(r);
                assertTrue(msg.contains("F16 gradient") && msg.contains("built for F32") && msg.contains("before new DistributedDataParallel"),
                        "rank " + r + ": " + msg);
            }
        }
    }
}
