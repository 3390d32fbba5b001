package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.DdpTesting.assertClose;
import static io.jtensor.nn.parallel.DdpTesting.copies;
import static io.jtensor.nn.parallel.DdpTesting.grads;
import static io.jtensor.nn.parallel.DdpTesting.input;
import static io.jtensor.nn.parallel.DdpTesting.labels;
import static io.jtensor.nn.parallel.DdpTesting.rows;
import static io.jtensor.nn.parallel.DdpTesting.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.BertClassifier;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.SGD;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * DistributedDataParallel on ranks that are threads of this JVM (each on its own logical CPU device): W ranks, each
 * on its shard of a fixed batch, must end where one process training on the whole batch ends.
 */
class DistributedDataParallelTest {
    static final Duration COLLECTIVE_TIMEOUT = Duration.ofSeconds(20);
    static final Duration LIMIT = Duration.ofSeconds(60);
    static final int STEPS = 3;

    /** Small buckets (4 KB first, then 16 KB), so that even LeNet-5 has several and their order matters. */
    static DistributedDataParallel.Builder smallBuckets(Module m, ThreadProcessGroup g) {
        return DistributedDataParallel.builder(m, g).firstBucketBytes(4096).bucketCapMb(16.0 / 1024);
    }

    /** One process, whole batch: STEPS of SGD with momentum; returns the final state. */
    static Map<String, double[]> wholeBatch(Module model, NDArray x, NDArray y) {
        SGD opt = new SGD(model.parameters(), 0.1, 0.9);
        for (int s = 0; s < STEPS; s++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor out = model.forward(Tensor.wrap(x.share()));
                opt.zeroGrad();
                out.crossEntropy(Tensor.wrap(y.share())).backward();
                opt.step();
            }
        }
        return snapshot(model);
    }

    /** W ranks, rank r on rows [r*N/W, (r+1)*N/W) of the batch; returns each rank's final state. */
    static List<Map<String, double[]>> sharded(List<? extends Module> replicas, NDArray x, NDArray y, boolean syncBn,
                                               List<DistributedDataParallel> keep) {
        int w = replicas.size();
        long n = x.size(0) / w;
        return ThreadRanks.run(w, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
            Device dev = Device.cpu(rank);
            Module m = replicas.get(rank).to(dev);
            if (syncBn) SyncBatchNorm.convert(m, group);
            DistributedDataParallel ddp = smallBuckets(m, group).build();
            if (keep != null) synchronized (keep) { keep.add(ddp); }
            SGD opt = new SGD(ddp.parameters(), 0.1, 0.9);
            for (int s = 0; s < STEPS; s++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor out = ddp.forward(rows(x, rank * n, n, dev));
                    opt.zeroGrad();
                    out.crossEntropy(rows(y, rank * n, n, dev)).backward();
                    opt.step();
                }
            }
            return snapshot(m);
        });
    }

    static Supplier<LeNet5> lenet(boolean bn) { return () -> new LeNet5(1, 16, 16, 10, bn); }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 4})
    void lenet5OnShardsEndsWhereTheWholeBatchEnds(int w) {
        List<LeNet5> models = copies(w + 1, lenet(false));
        try (NDArray x = input(1, 8, 1, 16, 16); NDArray y = labels(2, 8, 10)) {
            Map<String, double[]> expected = wholeBatch(models.get(w), x, y);
            List<Map<String, double[]>> ranks = sharded(models.subList(0, w), x, y, false, null);
            for (int r = 0; r < w; r++) assertClose(expected, ranks.get(r), 2e-4, "rank " + r + " of " + w);
        }
    }

    @ParameterizedTest(name = "{0} ranks")
    @ValueSource(ints = {2, 4})
    void lenet5WithSyncBatchNormEqualsWholeBatchStatistics(int w) {
        List<LeNet5> models = copies(w + 1, lenet(true));
        try (NDArray x = input(3, 8, 1, 16, 16); NDArray y = labels(4, 8, 10)) {
            Map<String, double[]> expected = wholeBatch(models.get(w), x, y);
            List<Map<String, double[]>> ranks = sharded(models.subList(0, w), x, y, true, null);
            // The state includes the running mean and variance: whole-batch statistics on every rank.
            for (int r = 0; r < w; r++) assertClose(expected, ranks.get(r), 2e-4, "rank " + r + " of " + w);
        }
    }

    @Test
    void plainBatchNormOnShardsDiffersFromTheWholeBatch() {
        // The control for the test above: without SyncBatchNorm, shard statistics are not the batch's.
        List<LeNet5> models = copies(3, lenet(true));
        try (NDArray x = input(3, 8, 1, 16, 16); NDArray y = labels(4, 8, 10)) {
            Map<String, double[]> expected = wholeBatch(models.get(2), x, y);
            List<Map<String, double[]>> ranks = sharded(models.subList(0, 2), x, y, false, null);
            assertThrows(AssertionError.class, () -> assertClose(expected, ranks.get(0), 2e-4, "rank 0"));
        }
    }

    @Test
    void bertEncoderOnShardsEndsWhereTheWholeBatchEnds() {
        BertConfig cfg = BertConfig.smallForFeatures(8, 6, 4).withLayers(2, 2, 16, 32).withDropout(0);
        List<BertClassifier> models = copies(3, () -> new BertClassifier(cfg, new Generator(7)));
        try (NDArray x = input(5, 8, 6, 8); NDArray y = labels(6, 8, 4)) {
            Map<String, double[]> expected = wholeBatch(models.get(2), x, y);
            List<DistributedDataParallel> ddps = new java.util.ArrayList<>();
            List<Map<String, double[]>> ranks = sharded(models.subList(0, 2), x, y, false, ddps);
            for (int r = 0; r < 2; r++) assertClose(expected, ranks.get(r), 2e-4, "rank " + r);
            for (DistributedDataParallel d : ddps) {
                assertTrue(d.bucketsRebuilt(), "buckets rebuilt after the first step");
                assertTrue(d.bucketParameterNames().size() >= 2, "several buckets: " + d.bucketBytes());
                assertEquals(ddps.get(0).bucketParameterNames(), d.bucketParameterNames(), "the same buckets on every rank");
            }
        }
    }

    @Test
    void rankZerosParametersAndBuffersReachEveryRankAtConstruction() {
        List<LeNet5> models = copies(2, lenet(true));
        List<Map<String, double[]>> states = ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
            Module m = models.get(rank).to(Device.cpu(rank));
            if (rank == 1) {
                for (Tensor p : m.parameters()) p.data().mulInPlace(3);
                for (NDArray b : m.namedBuffers().values()) b.addInPlace(5);
            }
            new DistributedDataParallel(m, group);
            return snapshot(m);
        });
        assertClose(states.get(0), states.get(1), 0, "rank 1 after construction");
    }

    /** Two linear branches whose gradients become ready in an order that depends on the rank. */
    static final class Branches extends Module {
        final Linear a = registerModule("a", new Linear(6, 3));
        final Linear b = registerModule("b", new Linear(6, 3));
        final Linear wide = registerModule("wide", new Linear(6, 40));
        final Linear head = registerModule("head", new Linear(40, 3));
        boolean aFirst = true;

        @Override public Tensor forward(Tensor x) {
            // The engine runs the later-recorded branch first, so this choice decides which gradients are ready first.
            Tensor first = aFirst ? a.forward(x) : b.forward(x);
            Tensor second = aFirst ? b.forward(x) : a.forward(x);
            Tensor h = head.forward(wide.forward(x).relu());
            return first.add(second).add(h);
        }
    }

    @Test
    void bucketsLaunchInTheSameOrderOnEveryRankWhateverOrderGradientsAreReadyIn() {
        List<Branches> models = copies(3, Branches::new);
        try (NDArray x = input(7, 8, 6); NDArray y = labels(8, 8, 3)) {
            Map<String, double[]> expected = wholeBatch(models.get(2), x, y);
            List<Object[]> ranks = ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                Branches m = models.get(rank);
                m.to(dev);
                m.aFirst = rank == 0;
                // One parameter per bucket: every ready-order difference becomes a launch-order question.
                DistributedDataParallel ddp = DistributedDataParallel.builder(m, group).firstBucketBytes(1).bucketCapMb(1e-9).build();
                SGD opt = new SGD(ddp.parameters(), 0.1, 0.9);
                for (int s = 0; s < STEPS; s++) {
                    try (MemoryScope scope = MemoryScope.open()) {
                        Tensor out = ddp.forward(rows(x, rank * 4L, 4, dev));
                        opt.zeroGrad();
                        out.crossEntropy(rows(y, rank * 4L, 4, dev)).backward();
                        opt.step();
                    }
                }
                return new Object[] {snapshot(m), group.issued(), ddp.lastLaunchOrder()};
            });
            assertEquals(ranks.get(0)[1], ranks.get(1)[1], "the collectives each rank issued, in order");
            @SuppressWarnings("unchecked") List<Integer> order = (List<Integer>) ranks.get(1)[2];
            for (int i = 0; i < order.size(); i++) assertEquals(i, order.get(i), "launch " + i + " on rank 1: " + order);
            for (int r = 0; r < 2; r++) {
                @SuppressWarnings("unchecked") Map<String, double[]> state = (Map<String, double[]>) ranks.get(r)[0];
                assertClose(expected, state, 2e-4, "rank " + r);
            }
        }
    }

    @Test
    void theFirstBucketIsLaunchedWhileBackwardIsStillRunning() {
        List<LeNet5> models = copies(2, lenet(false));
        try (NDArray x = input(9, 4, 1, 16, 16); NDArray y = labels(10, 4, 10)) {
            List<List<Integer>> counts = ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                DistributedDataParallel ddp = smallBuckets(models.get(rank).to(dev), group).build();
                try (MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(rows(x, rank * 2L, 2, dev)).crossEntropy(rows(y, rank * 2L, 2, dev)).backward();
                }
                return ddp.lastReadyCountAtLaunch();
            });
            int params = models.get(0).parameters().size();
            for (List<Integer> c : counts) {
                assertTrue(c.size() > 1, "several buckets: " + c);
                assertTrue(c.get(0) < params, "bucket 0 launched when " + c.get(0) + " of " + params + " gradients were ready");
            }
        }
    }

    /** A model with a layer that only some forwards use. */
    static final class Optional extends Module {
        final Linear trunk = registerModule("trunk", new Linear(5, 3));
        final Linear extra = registerModule("extra", new Linear(5, 3));
        final Linear never = registerModule("never", new Linear(5, 3));
        boolean useExtra;

        @Override public Tensor forward(Tensor x) {
            Tensor out = trunk.forward(x);
            return useExtra ? out.add(extra.forward(x)) : out;
        }
    }

    @Test
    void aParameterWithoutGradientFailsNamingItAndTheFix() {
        List<Optional> models = copies(2, Optional::new);
        try (NDArray x = input(11, 4, 5)) {
            AssertionError e = assertThrows(AssertionError.class, () -> ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                DistributedDataParallel ddp = new DistributedDataParallel(models.get(rank).to(dev), group);
                try (MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(rows(x, rank * 2L, 2, dev)).sum().backward();
                }
                return null;
            }));
            for (int r = 0; r < 2; r++) {
                Throwable cause = ThreadRanks.failureOf(e, r);
                assertNotNull(cause, "rank " + r + " fails: " + e);
                String msg = cause.getMessage();
                for (String part : List.of("extra.weight", "extra.bias", "never.weight", "never.bias", "findUnusedParameters")) {
                    assertTrue(msg.contains(part), "'" + part + "' in: " + msg);
                }
                assertFalse(msg.contains("trunk."), msg);
            }
        }
    }

    @Test
    void findUnusedParametersAveragesWhatSomeRanksUsedAndLeavesTheNeverUsedAlone() {
        List<Optional> models = copies(3, Optional::new);
        try (NDArray x = input(12, 4, 5)) {
            // Reference: the mean over ranks of each rank's loss, in one process (rank 1 skips "extra").
            Optional ref = models.get(2);
            for (int r = 0; r < 2; r++) {
                ref.useExtra = r == 0;
                try (MemoryScope scope = MemoryScope.open()) {
                    ref.forward(rows(x, r * 2L, 2, Device.cpu())).sum().mul(0.5).backward();
                }
            }
            Map<String, double[]> expected = grads(ref);
            List<Map<String, double[]>> ranks = ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                Optional m = models.get(rank);
                m.to(dev);
                m.useExtra = rank == 0;
                DistributedDataParallel ddp = DistributedDataParallel.builder(m, group).findUnusedParameters(true).build();
                for (int step = 0; step < 2; step++) {
                    m.zeroGrad();
                    try (MemoryScope scope = MemoryScope.open()) {
                        ddp.forward(rows(x, rank * 2L, 2, dev)).sum().backward();
                    }
                }
                return grads(m);
            });
            assertNull(expected.get("never.weight"));
            for (int r = 0; r < 2; r++) assertClose(expected, ranks.get(r), 1e-5, "rank " + r);
        }
    }

    @Test
    void noSyncAccumulatesLocallyAndTheNextBackwardAveragesTheSum() {
        List<Branches> models = copies(3, Branches::new);
        try (NDArray x = input(13, 8, 6); NDArray y = labels(14, 8, 3)) {
            // Reference: (1/W) * sum over ranks and micro-batches of each micro-batch's mean loss gradient.
            Branches ref = models.get(2);
            for (int r = 0; r < 2; r++) {
                for (int k = 0; k < 2; k++) {
                    try (MemoryScope scope = MemoryScope.open()) {
                        long start = r * 4L + k * 2L;
                        ref.forward(rows(x, start, 2, Device.cpu())).crossEntropy(rows(y, start, 2, Device.cpu())).mul(0.5).backward();
                    }
                }
            }
            Map<String, double[]> expected = grads(ref);
            List<Object[]> ranks = ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                DistributedDataParallel ddp = smallBuckets(models.get(rank).to(dev), group).build();
                int before = group.issued().size();
                try (var s = ddp.noSync(); MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(rows(x, rank * 4L, 2, dev)).crossEntropy(rows(y, rank * 4L, 2, dev)).backward();
                }
                int duringNoSync = group.issued().size() - before;
                try (MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(rows(x, rank * 4L + 2, 2, dev)).crossEntropy(rows(y, rank * 4L + 2, 2, dev)).backward();
                }
                return new Object[] {grads(ddp.module()), duringNoSync};
            });
            for (int r = 0; r < 2; r++) {
                assertEquals(0, ranks.get(r)[1], "collectives issued under noSync on rank " + r);
                @SuppressWarnings("unchecked") Map<String, double[]> g = (Map<String, double[]>) ranks.get(r)[0];
                assertClose(expected, g, 1e-5, "rank " + r);
            }
        }
    }

    /** A module whose forward reads a buffer that forward itself never changes. */
    static final class Scaled extends Module {
        final Linear fc = registerModule("fc", new Linear(3, 2));
        Scaled() { registerBuffer("scale", NDArray.ones(DType.F32, Device.cpu(), 1)); }

        NDArray scale() { return buffer("scale"); }

        @Override public Tensor forward(Tensor x) {
            try (NDArray s = scale().copy()) {
                return fc.forward(x).mul(s.item());
            }
        }
    }

    @ParameterizedTest(name = "broadcastBuffers {0}")
    @ValueSource(booleans = {true, false})
    void buffersComeFromRankZeroAtEachTrainingForwardUnlessTurnedOff(boolean broadcast) {
        List<Scaled> models = copies(2, Scaled::new);
        try (NDArray x = input(15, 2, 3)) {
            List<Double> scales = ThreadRanks.run(2, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                Scaled m = models.get(rank);
                m.to(dev);
                DistributedDataParallel ddp = DistributedDataParallel.builder(m, group).broadcastBuffers(broadcast).build();
                m.scale().fill(rank == 0 ? 2 : 7);
                try (MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(rows(x, 0, 2, dev)).sum().backward();
                }
                return m.scale().item();
            });
            assertEquals(2, scales.get(0));
            assertEquals(broadcast ? 2 : 7, scales.get(1), "rank 1's buffer after a training forward");
        }
    }

    @Test
    void ranksWithDifferentModelsFailAtConstructionNamingTheDifference() {
        AssertionError e = assertThrows(AssertionError.class, () -> ThreadRanks.run(3, COLLECTIVE_TIMEOUT, LIMIT, (rank, group) -> {
            Module m = new io.jtensor.nn.Sequential(new Linear(4, 3), new Linear(3, rank == 2 ? 5 : 2)).to(Device.cpu(rank));
            new DistributedDataParallel(m, group);
            return null;
        }));
        for (int r = 0; r < 3; r++) {
            String msg = ThreadRanks.failureOf(e, r).getMessage();
            assertTrue(msg.contains("rank 0 has 1.weight [2, 3] F32, rank 2 has 1.weight [5, 3] F32"), msg);
        }
    }

    @Test
    void aRankThatSkipsTheBackwardMakesTheOthersFailWithATimeoutNotAHang() {
        List<LeNet5> models = copies(2, lenet(false));
        try (NDArray x = input(16, 4, 1, 16, 16)) {
            AssertionError e = assertThrows(AssertionError.class, () -> ThreadRanks.run(2, Duration.ofSeconds(2), LIMIT, (rank, group) -> {
                Device dev = Device.cpu(rank);
                DistributedDataParallel ddp = smallBuckets(models.get(rank).to(dev), group).build();
                if (rank == 1) return null;
                try (MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(rows(x, 0, 2, dev)).sum().backward();
                }
                return null;
            }));
            Throwable cause = ThreadRanks.failureOf(e, 0);
            assertNotNull(cause, e.toString());
            assertTrue(cause.getMessage().contains("allReduce") && cause.getMessage().contains("rank 0")
                    && cause.getMessage().contains("timed out after 2000 ms"), cause.getMessage());
            assertNull(ThreadRanks.failureOf(e, 1), "rank 1 did nothing wrong");
        }
    }

    @Test
    void bucketsAreKeyedByDtypeInReverseOrderFirstSmallThenCapped() {
        // slots: 0: F32 600 KB, 1: F64 300 KB, 2: F32 600 KB, 3: F32 2 MB, 4: F32 30 MB, 5: F32 1 KB
        List<BucketAssignment.Slot> slots = List.of(
                new BucketAssignment.Slot(DType.F32, Device.cpu(), 600_000), new BucketAssignment.Slot(DType.F64, Device.cpu(), 300_000),
                new BucketAssignment.Slot(DType.F32, Device.cpu(), 600_000), new BucketAssignment.Slot(DType.F32, Device.cpu(), 2_000_000),
                new BucketAssignment.Slot(DType.F32, Device.cpu(), 30_000_000), new BucketAssignment.Slot(DType.F32, Device.cpu(), 1_000));
        List<List<Integer>> b = BucketAssignment.bySize(slots, List.of(5, 4, 3, 2, 1, 0), 1 << 20, 25L << 20);
        // F32 in reverse order: {5, 4} passes 1 MiB; then {3, 2, 0} is under 25 MiB when the order ends; F64 {1} apart.
        assertEquals(List.of(List.of(5, 4), List.of(3, 2, 0), List.of(1)), b);
        assertNotEquals(b.get(1), b.get(2));
    }
}
