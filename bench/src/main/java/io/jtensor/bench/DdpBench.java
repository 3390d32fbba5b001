package io.jtensor.bench;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.BertClassifier;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.SGD;
import io.jtensor.nn.parallel.DistributedDataParallel;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * Training throughput with and without DistributedDataParallel, on the CPU.
 * <pre>java ... io.jtensor.bench.DdpBench MODEL MODE GLOBAL_BATCH STEPS ROUNDS
 *   MODEL  lenet5 (with batch norm, 1x28x28) | bert (2 layers, hidden 64, 28 rows of 28)
 *   MODE   plain: no DDP | ddp: 25 MB buckets (PyTorch's) | ddp-one: one bucket, reduced after backward
 *          | ddp-small: 1 MB buckets | ddp-64k: 16 KB then 64 KB buckets (several even for these small models) | overhead: plain and DDP at world size 1 alternating in one JVM</pre>
 * Under {@code mpirun} the DDP modes join the MPI job ({@code ProcessGroup.init("mpi")}) and each rank trains
 * GLOBAL_BATCH / size samples per step; otherwise they run at world size 1 on a group of one whose collectives are
 * no-ops, which isolates what the Reducer itself costs (hooks, packing, unpacking). Rank 0 prints samples/s of the
 * whole job (best and median round) and each rank its peak CPU memory.
 */
public final class DdpBench {
    private DdpBench() {}

    public static void main(String[] args) {
        if (args[1].equals("overhead")) {
            overhead(args[0], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            return;
        }
        String model = args[0], mode = args[1];
        int global = Integer.parseInt(args[2]), steps = Integer.parseInt(args[3]), rounds = Integer.parseInt(args[4]);
        boolean underMpi = System.getenv("OMPI_COMM_WORLD_SIZE") != null;
        ProcessGroup group = mode.equals("plain") ? null : underMpi ? ProcessGroup.init("mpi") : new GroupOfOne();
        int size = group == null ? 1 : group.size(), rank = group == null ? 0 : group.rank();
        int batch = global / size;
        Generator.manualSeed(1);
        Module m = build(model);
        Module trained = switch (mode) {
            case "plain" -> m;
            case "ddp" -> new DistributedDataParallel(m, group);
            case "ddp-one" -> DistributedDataParallel.builder(m, group).firstBucketBytes(1L << 40).bucketCapMb(1 << 20).build();
            case "ddp-small" -> DistributedDataParallel.builder(m, group).bucketCapMb(1).build();
            case "ddp-64k" -> DistributedDataParallel.builder(m, group).firstBucketBytes(16 << 10).bucketCapMb(1.0 / 16).build();
            default -> throw new IllegalArgumentException("mode: plain, ddp, ddp-one, ddp-small, ddp-64k or overhead, got " + mode);
        };
        Generator g = new Generator(7 + rank);
        NDArray x = NDArray.rand(g, DType.F32, Device.cpu(), batch, 1, 28, 28).keep();
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = (i + rank) % 10;
        NDArray y = NDArray.of(labels, batch).keep();
        SGD opt = new SGD(trained.parameters(), 0.01, 0.9);
        double[] rates = new double[rounds];
        run(trained, opt, x, y, steps); // warm-up round
        Backends.cpu().allocator().stats(Device.cpu()).resetPeak();
        for (int r = 0; r < rounds; r++) {
            if (group != null) group.barrier();
            long t0 = System.nanoTime();
            run(trained, opt, x, y, steps);
            if (group != null) group.barrier();
            rates[r] = (double) steps * batch * size / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(rates);
        long peak = Backends.cpu().allocator().stats(Device.cpu()).peak();
        String buckets = trained instanceof DistributedDataParallel d ? ", buckets " + d.bucketBytes() : "";
        if (rank == 0) {
            System.out.printf(Locale.ROOT, "%s %s world %d, global batch %d: best %.1f samples/s, median %.1f%s%n", model, mode, size, global,
                    rates[rounds - 1], rates[rounds / 2], buckets);
        }
        System.out.printf(Locale.ROOT, "rank %d peak CPU memory %.1f MiB%n", rank, peak / 1048576.0);
        if (group != null) group.close();
    }

    /**
     * Mode {@code overhead}: plain training and DDP at world size 1 (a group of one) in one JVM, rounds alternating,
     * so that the noise of a shared machine falls on both alike; under {@code mpirun -np 1} DDP runs on the MPI group.
     */
    private static void overhead(String model, int batch, int steps, int rounds) {
        Generator.manualSeed(1);
        Module plain = build(model), wrapped = build(model);
        // Under mpirun -np 1 the real MPI group (its communication thread and MPI_Allreduce of one rank).
        ProcessGroup group = System.getenv("OMPI_COMM_WORLD_SIZE") != null ? ProcessGroup.init("mpi") : new GroupOfOne();
        DistributedDataParallel ddp = new DistributedDataParallel(wrapped, group);
        Generator g = new Generator(7);
        NDArray x = NDArray.rand(g, DType.F32, Device.cpu(), batch, 1, 28, 28).keep();
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 10;
        NDArray y = NDArray.of(labels, batch).keep();
        SGD o1 = new SGD(plain.parameters(), 0.01, 0.9), o2 = new SGD(ddp.parameters(), 0.01, 0.9);
        run(plain, o1, x, y, steps);
        run(ddp, o2, x, y, steps);
        double[] a = new double[rounds], b = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            // Which goes first alternates too, so that neither always runs in the other's wake (GC, caches).
            boolean plainFirst = r % 2 == 0;
            long t0 = System.nanoTime();
            if (plainFirst) run(plain, o1, x, y, steps);
            else run(ddp, o2, x, y, steps);
            long t1 = System.nanoTime();
            if (plainFirst) run(ddp, o2, x, y, steps);
            else run(plain, o1, x, y, steps);
            long t2 = System.nanoTime();
            a[r] = (plainFirst ? t1 - t0 : t2 - t1) / 1e6 / steps;
            b[r] = (plainFirst ? t2 - t1 : t1 - t0) / 1e6 / steps;
        }
        Arrays.sort(a);
        Arrays.sort(b);
        System.out.printf(Locale.ROOT, "%s batch %d, ms per step: plain best %.2f median %.2f; DDP world 1 best %.2f median %.2f "
                + "(best +%.1f%%, median +%.1f%%)%n", model, batch, a[0], a[rounds / 2], b[0], b[rounds / 2],
                100 * (b[0] / a[0] - 1), 100 * (b[rounds / 2] / a[rounds / 2] - 1));
        group.close();
    }

    private static Module build(String model) {
        return model.equals("bert")
                ? new BertClassifier(BertConfig.smallForFeatures(28, 28, 10).withLayers(2, 4, 64, 256).withDropout(0), new Generator(3))
                : LeNet5.withBatchNorm();
    }

    private static void run(Module m, SGD opt, NDArray x, NDArray y, int steps) {
        for (int s = 0; s < steps; s++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor out = m.forward(Tensor.wrap(x.share()));
                opt.zeroGrad();
                out.crossEntropy(Tensor.wrap(y.share())).backward();
                opt.step();
            }
        }
    }

    /** World size 1 without a transport: every collective is already complete (its result is its input). */
    static final class GroupOfOne implements ProcessGroup {
        private static final Work DONE = new Work() {
            @Override public boolean isCompleted() { return true; }
            @Override public void await(Duration timeout) {}
        };

        @Override public int rank() { return 0; }
        @Override public int size() { return 1; }
        @Override public int localRank() { return 0; }
        @Override public String backend() { return "none"; }
        @Override public Work allReduceAsync(NDArray a, ReduceOp op) { return DONE; }
        @Override public Work broadcastAsync(NDArray a, int root) { return DONE; }
        @Override public Work allGatherAsync(NDArray out, NDArray in) {
            try (NDArray v = in.unsqueeze(0)) {
                out.copyFrom(v);
            }
            return DONE;
        }
        @Override public Work reduceScatterAsync(NDArray out, NDArray in, ReduceOp op) {
            try (NDArray v = in.squeeze(0)) {
                out.copyFrom(v);
            }
            return DONE;
        }
        @Override public void barrier() {}
        @Override public Duration timeout() { return Duration.ofMinutes(10); }
        @Override public void close() {}
    }
}
