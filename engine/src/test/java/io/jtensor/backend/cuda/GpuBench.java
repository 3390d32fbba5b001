package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.Backend;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.Backends;
import io.jtensor.backend.ReduceOp;
import io.jtensor.bindings.nvml.Nvml;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * GPU micro-benchmarks of the CUDA backend, timed with CUDA events (warm-up, then the median of repeats), on random
 * data. Prints one table: the device-to-device copy bandwidth (the ceiling for memory-bound kernels), elementwise
 * add, sum and softmax in GB/s, GEMMs in TFLOP/s against cuBLAS, and the host cost of one op launch in microseconds.
 * <pre>java --enable-native-access=ALL-UNNAMED -cp ... io.jtensor.backend.cuda.GpuBench [--quick]</pre>
 */
public final class GpuBench {
    private final Device g;
    private final Backend cuda;
    private final boolean quick;
    private final List<String> rows = new ArrayList<>();
    private double copyCeiling = Double.NaN;

    private GpuBench(Device g, boolean quick) {
        this.g = g;
        this.cuda = Backends.cuda();
        this.quick = quick;
    }

    public static void main(String[] args) {
        Locale.setDefault(Locale.ROOT);
        boolean quick = Arrays.asList(args).contains("--quick");
        if (!Backends.cudaAvailable()) {
            System.out.println("GpuBench: no CUDA GPU: " + Backends.cudaUnavailableReason());
            return;
        }
        Device g = Device.cuda(0);
        System.out.println("# jtensor GpuBench");
        System.out.println("device: " + Backends.cuda().describe(g) + ", CUDA driver " + Backends.cuda().driverVersion());
        try {
            Nvml.init();
            System.out.println("nvml: " + Nvml.name(Nvml.deviceHandle(0)) + ", driver " + Nvml.driverVersion() + ", "
                    + Nvml.temperature(Nvml.deviceHandle(0)) + " C");
        } catch (RuntimeException | LinkageError e) {
            System.out.println("nvml: unavailable (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        System.out.println("date: " + java.time.Instant.now());
        new GpuBench(g, quick).run();
    }

    private interface Body {
        void run();
    }

    /** Median milliseconds of one call of body, timed with events around `inner` calls per repeat. */
    private double timeMs(Body body, int inner) {
        int warm = 3, reps = quick ? 5 : 15;
        for (int i = 0; i < warm; i++) body.run();
        cuda.synchronize();
        double[] t = new double[reps];
        try (CudaEvent a = CudaEvent.create(g, true); CudaEvent b = CudaEvent.create(g, true)) {
            CudaStream s = CudaStreams.current(g);
            for (int r = 0; r < reps; r++) {
                a.record(s);
                for (int i = 0; i < inner; i++) body.run();
                b.record(s);
                t[r] = a.elapsedMillis(b) / inner;
            }
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    private void row(String what, String value, String note) {
        String line = String.format("| %-44s | %14s | %s |", what, value, note);
        rows.add(line);
        System.out.println(line);
        System.out.flush();
    }

    private void gbps(String what, double bytes, double ms) {
        double gb = bytes / ms / 1e6;
        String note = Double.isNaN(copyCeiling) ? String.format("%.3f ms", ms) : String.format("%.3f ms, %.0f%% of copy", ms, 100 * gb / copyCeiling);
        row(what, String.format("%.0f GB/s", gb), note);
    }

    private void run() {
        System.out.println("| benchmark | result | notes |");
        System.out.println("| --- | --- | --- |");
        long n = quick ? 1L << 26 : 1L << 28;  // 256 MiB or 1 GiB of F32
        try (NDArray a = NDArray.rand(new Generator(1), DType.F32, g, n); NDArray b = NDArray.rand(new Generator(2), DType.F32, g, n);
             NDArray c = NDArray.empty(DType.F32, g, n)) {
            double ms = timeMs(() -> cuda.copy(a, c), 1);
            copyCeiling = 2.0 * n * 4 / ms / 1e6;
            gbps("D2D copy F32 (read + write), the ceiling", 2.0 * n * 4, ms);
            gbps("add F32 contiguous (2 reads + 1 write)", 3.0 * n * 4, timeMs(() -> cuda.binary(BinaryOp.ADD, a, b, c), 1));
            try (NDArray bt = b.narrow(0, 0, n / 2); NDArray bs = b.slice(0, 0, n, 2); NDArray ch = c.narrow(0, 0, n / 2)) {
                gbps("add F32, one input stride 2 (n/2 elements)", 3.0 * (n / 2) * 4, timeMs(() -> cuda.binary(BinaryOp.ADD, bt, bs, ch), 1));
            }
            try (NDArray s = NDArray.empty(DType.F32, g)) {
                gbps("sum F32 of all elements", n * 4.0, timeMs(() -> cuda.reduce(ReduceOp.SUM, a, new int[] {0}, s, null), 1));
            }
            long rowsL = n / 4096;
            try (NDArray x = a.view(rowsL, 4096); NDArray y = c.view(rowsL, 4096); NDArray s = NDArray.empty(DType.F32, g, rowsL, 1)) {
                gbps("sum F32 over rows of 4096", n * 4.0, timeMs(() -> cuda.reduce(ReduceOp.SUM, x, new int[] {1}, s, null), 1));
                gbps("softmax F32 rows of 4096 (block kernel)", 2.0 * n * 4, timeMs(() -> cuda.softmax(x, 1, false, y), 1));
            }
            try (NDArray x = a.view(n / 512, 512); NDArray y = c.view(n / 512, 512)) {
                gbps("softmax F32 rows of 512 (warp kernel)", 2.0 * n * 4, timeMs(() -> cuda.softmax(x, 1, false, y), 1));
            }
        }
        gemm(DType.F16, 4096);
        gemm(DType.BF16, 4096);
        gemm(DType.F32, 4096);
        launchOverhead();
        System.out.println();
        System.out.println("GpuBench done: " + rows.size() + " results");
    }

    private void gemm(DType t, int size) {
        try (NDArray a = NDArray.randn(new Generator(3), t, g, 1, size, size); NDArray b = NDArray.randn(new Generator(4), t, g, 1, size, size);
             NDArray ours = NDArray.empty(t, g, 1, size, size); NDArray ref = NDArray.empty(t, g, 1, size, size)) {
            double flops = 2.0 * size * size * (double) size;
            double msOurs = timeMs(() -> CudaGemm.matmul(a, b, ours, CudaGemm.Impl.JTENSOR), 1);
            double msRef = timeMs(() -> CudaGemm.matmul(a, b, ref, CudaGemm.Impl.CUBLAS), 1);
            double rel = relDiff(ref, ours);
            row("GEMM " + t + " " + size + "^3 jtensor", String.format("%.1f TFLOP/s", flops / msOurs / 1e9),
                    String.format("%.3f ms, %.0f%% of cuBLAS, rel. diff %.1e", msOurs, 100 * msRef / msOurs, rel));
            row("GEMM " + t + " " + size + "^3 cuBLAS", String.format("%.1f TFLOP/s", flops / msRef / 1e9), String.format("%.3f ms", msRef));
        } catch (RuntimeException e) {
            row("GEMM " + t + " " + size + "^3", "failed", e.toString().replace('|', '/'));
        }
    }

    private static double relDiff(NDArray ref, NDArray got) {
        try (NDArray d = got.sub(ref); NDArray dn = d.to(DType.F32).norm(); NDArray rn = ref.to(DType.F32).norm()) {
            return dn.item() / rn.item();
        }
    }

    /** Host time per launched op (a tiny add), and the event-timed GPU time of the same stream of ops. */
    private void launchOverhead() {
        try (NDArray a = NDArray.ones(DType.F32, g, 16); NDArray b = NDArray.ones(DType.F32, g, 16); NDArray c = NDArray.empty(DType.F32, g, 16)) {
            int ops = 20_000;
            for (int i = 0; i < 2000; i++) cuda.binary(BinaryOp.ADD, a, b, c);
            cuda.synchronize();
            long t0 = System.nanoTime();
            for (int i = 0; i < ops; i++) cuda.binary(BinaryOp.ADD, a, b, c);
            long t1 = System.nanoTime();
            cuda.synchronize();
            long t2 = System.nanoTime();
            row("launch: Backend.binary(ADD) on 16 elements", String.format("%.2f us", (t1 - t0) / 1e3 / ops),
                    String.format("host time per op; %.2f us per op until the GPU drained", (t2 - t0) / 1e3 / ops));
            long t3 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                try (NDArray d = a.add(b)) {
                    // NDArray level: allocation from the cache, dtype/broadcast logic, the launch, the free
                }
            }
            long t4 = System.nanoTime();
            cuda.synchronize();
            row("launch: NDArray.add (alloc + launch + free)", String.format("%.2f us", (t4 - t3) / 1e3 / ops), "host time per op");
        }
    }
}
