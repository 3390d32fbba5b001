package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.Backend;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.Backends;
import io.jtensor.backend.ConvParams;
import io.jtensor.backend.ReduceOp;
import io.jtensor.bindings.cudnn.Cudnn;
import io.jtensor.bindings.nvml.Nvml;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * GPU micro-benchmarks of the CUDA backend, timed with CUDA events (warm-up, then the median of repeats), on random
 * data. Prints one table: the device-to-device copy bandwidth (the ceiling for memory-bound kernels), elementwise
 * add, reductions and softmax in GB/s, GEMMs in TFLOP/s against cuBLAS, and the host cost of one op launch in
 * microseconds. Every kernel variant (CudaReduce.Variant, CudaSoftmax.Variant, CudaGemm.Variant16/32) is timed
 * twice, interleaved with the others (both medians are printed: their spread is the noise), and checked once on a
 * NaN-poisoned output against a double-precision reference computed here on the host (sampled rows); '*' marks the
 * default variant, and "WRONG" a result outside the dtype's tolerance.
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
            section("reductions", () -> reductions(a, n));
            section("softmax", () -> softmaxes(a, c, n));
            section("layer norm", () -> layerNorms(a, c, n));
            section("batch norm", () -> batchNorms(a, b, c, n));
            section("cross-entropy", () -> crossEntropies(a, c, n));
        }
        launchOverhead();
        gemms(4096);
        section("conv", this::convs);
        // last: the TMA kernels have not run on a GPU before; wgmma is timed again beside them
        for (DType t : new DType[] {DType.F16, DType.BF16}) gemm16(t, 4096, CudaGemm.Variant16.WGMMA, CudaGemm.Variant16.TMA);
        System.out.println();
        System.out.println("GpuBench done: " + rows.size() + " results");
        System.out.println();
        System.out.println("## summary (copy ceiling " + String.format("%.0f GB/s", copyCeiling) + ")");
        for (String r : rows) System.out.println(r);
    }

    /** Runs one family's rows; a failure becomes a row of its own so that the families after it still run. */
    private void section(String family, Runnable body) {
        try {
            body.run();
        } catch (RuntimeException e) {
            row(family, "failed", e.toString().replace('|', '/'));
        }
    }

    // ------------------------------------------------------------------------------------------ variants

    /** Every variant of each family is timed; '*' marks the default (-Djtensor.cuda.variant.*). */
    private static final CudaReduce.Variant[] REDUCE_VARIANTS = CudaReduce.Variant.values();
    private static final CudaSoftmax.Variant[] SOFTMAX_VARIANTS = CudaSoftmax.Variant.values();

    /** ||got - ref|| / ||ref|| over host copies. */
    private static double relNorm(double[] ref, double[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = got[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static String verdict(double rel, double tol) {
        return Double.isNaN(rel) || !(rel <= tol) ? "WRONG" : "ok";
    }

    /**
     * One reduction of x [rows, len] over dim 1 under every variant: GB/s (timed twice, interleaved, to show the
     * spread) and the error against a double-precision reference of the first and last 8 rows computed here.
     */
    private void reduceRows(String what, ReduceOp op, NDArray x, long rowsN, long len, double tol) {
        DType outT = CudaReduce.outDType(op, x.dtype());
        double[] refHead = rowReference(op, x, 0, (int) Math.min(8, rowsN), len);
        double[] refTail = rowReference(op, x, rowsN - Math.min(8, rowsN), (int) Math.min(8, rowsN), len);
        CudaReduce.Variant def = CudaReduce.variant();
        try (NDArray out = NDArray.empty(outT, g, rowsN, 1)) {
            double[][] msRuns = new double[REDUCE_VARIANTS.length][2];
            double[] err = new double[REDUCE_VARIANTS.length];
            for (int rep = 0; rep < 2; rep++) {
                for (int v = 0; v < REDUCE_VARIANTS.length; v++) {
                    CudaReduce.setVariant(REDUCE_VARIANTS[v]);
                    if (rep == 0) {
                        out.fill(Double.NaN);
                        cuda.reduce(op, x, new int[] {1}, out, null);
                        err[v] = Math.max(relNorm(refHead, rowsOf(out, 0, refHead.length)), relNorm(refTail, rowsOf(out, rowsN - refTail.length, refTail.length)));
                    }
                    msRuns[v][rep] = timeMs(() -> cuda.reduce(op, x, new int[] {1}, out, null), 1);
                }
            }
            double bytes = (double) rowsN * len * x.dtype().byteSize();
            for (int v = 0; v < REDUCE_VARIANTS.length; v++) {
                variantRow(what + " [" + REDUCE_VARIANTS[v].name().toLowerCase() + (REDUCE_VARIANTS[v] == def ? "*" : "") + "]", bytes,
                        msRuns[v], String.format("rel. err %.1e %s", err[v], verdict(err[v], tol)));
            }
        } finally {
            CudaReduce.setVariant(def);
        }
    }

    private static double[] rowsOf(NDArray out, long row0, int count) {
        try (NDArray part = out.narrow(0, row0, count)) {
            return part.toDoubleArray();
        }
    }

    /** op over each of rows [row0, row0 + count) of x [*, len], in double on the host. */
    private static double[] rowReference(ReduceOp op, NDArray x, long row0, int count, long len) {
        double[] v;
        try (NDArray part = x.narrow(0, row0, count)) {
            v = part.toDoubleArray();
        }
        double[] r = new double[count];
        for (int i = 0; i < count; i++) {
            double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : op == ReduceOp.MIN ? Double.POSITIVE_INFINITY : 0;
            for (int j = 0; j < len; j++) {
                double e = v[(int) (i * len + j)];
                acc = op == ReduceOp.MAX ? Math.max(acc, e) : op == ReduceOp.MIN ? Math.min(acc, e) : acc + e;
            }
            r[i] = acc;
        }
        return r;
    }

    private void variantRow(String what, double bytes, double[] ms, String note) {
        double best = Math.min(ms[0], ms[1]);
        double gb = bytes / best / 1e6;
        row(what, String.format("%.0f GB/s", gb), String.format("%.3f / %.3f ms, %.0f%% of copy, %s", ms[0], ms[1], 100 * gb / copyCeiling, note));
    }

    private void reductions(NDArray a, long n) {
        // Sum of everything: one output, the split kernels; reference: the F64 sum of the F64 copy (baseline kernels).
        CudaReduce.Variant def = CudaReduce.variant();
        try (NDArray s = NDArray.empty(DType.F32, g, 1); NDArray a64 = a.to(DType.F64); NDArray s64 = NDArray.empty(DType.F64, g, 1)) {
            CudaReduce.setVariant(CudaReduce.Variant.BASE);
            cuda.reduce(ReduceOp.SUM, a64, new int[] {0}, s64, null);
            double ref = s64.item();
            double[][] msRuns = new double[REDUCE_VARIANTS.length][2];
            double[] err = new double[REDUCE_VARIANTS.length];
            for (int rep = 0; rep < 2; rep++) {
                for (int v = 0; v < REDUCE_VARIANTS.length; v++) {
                    CudaReduce.setVariant(REDUCE_VARIANTS[v]);
                    if (rep == 0) {
                        s.fill(Double.NaN);
                        cuda.reduce(ReduceOp.SUM, a, new int[] {0}, s, null);
                        err[v] = Math.abs(s.item() - ref) / Math.abs(ref);
                    }
                    msRuns[v][rep] = timeMs(() -> cuda.reduce(ReduceOp.SUM, a, new int[] {0}, s, null), 1);
                }
            }
            for (int v = 0; v < REDUCE_VARIANTS.length; v++) {
                variantRow("sum F32 of all elements [" + REDUCE_VARIANTS[v].name().toLowerCase() + (REDUCE_VARIANTS[v] == def ? "*" : "") + "]",
                        n * 4.0, msRuns[v], String.format("rel. err %.1e %s", err[v], verdict(err[v], 1e-5)));
            }
        } finally {
            CudaReduce.setVariant(def);
        }
        try (NDArray x = a.view(n / 4096, 4096)) {
            reduceRows("sum F32 over rows of 4096", ReduceOp.SUM, x, n / 4096, 4096, 1e-5);
            reduceRows("max F32 over rows of 4096 (generic op)", ReduceOp.MAX, x, n / 4096, 4096, 0);
            // no indices either: vec2's index-free min (run 8)
            reduceRows("min F32 over rows of 4096", ReduceOp.MIN, x, n / 4096, 4096, 0);
        }
        try (NDArray x = a.view(n / 256, 256)) {
            reduceRows("sum F32 over rows of 256", ReduceOp.SUM, x, n / 256, 256, 1e-5);
        }
        try (NDArray x = a.view(64, n / 64)) {
            reduceRows("sum F32 over 64 rows of n/64 (split)", ReduceOp.SUM, x, 64, n / 64, 1e-5);
        }
        try (NDArray h = a.narrow(0, 0, n / 2); NDArray hb = h.to(DType.BF16); NDArray x = hb.view(n / 2 / 4096, 4096)) {
            reduceRows("sum BF16 over rows of 4096 (n/2 elements)", ReduceOp.SUM, x, n / 2 / 4096, 4096, 1e-2);
        }
    }

    /** softmax (or log-softmax) of x [rows, len] over dim 1 under every variant, checked against a host reference. */
    private void softmaxRows(String what, NDArray x, NDArray y, long rowsN, long len, boolean log, double tol) {
        int check = (int) Math.min(4, rowsN);
        double[] head = softmaxReference(x, 0, check, len, log), tail = softmaxReference(x, rowsN - check, check, len, log);
        CudaSoftmax.Variant def = CudaSoftmax.variant();
        try {
            double[][] msRuns = new double[SOFTMAX_VARIANTS.length][2];
            double[] err = new double[SOFTMAX_VARIANTS.length];
            for (int rep = 0; rep < 2; rep++) {
                for (int v = 0; v < SOFTMAX_VARIANTS.length; v++) {
                    CudaSoftmax.setVariant(SOFTMAX_VARIANTS[v]);
                    if (rep == 0) {
                        y.fill(Double.NaN);
                        cuda.softmax(x, 1, log, y);
                        err[v] = Math.max(relNorm(head, rowsOf(y, 0, check)), relNorm(tail, rowsOf(y, rowsN - check, check)));
                        try (NDArray bad = y.isnan(); NDArray any = bad.any()) {
                            if (any.item() != 0) err[v] = Double.NaN;  // an element left unwritten (or NaN)
                        }
                    }
                    msRuns[v][rep] = timeMs(() -> cuda.softmax(x, 1, log, y), 1);
                }
            }
            double bytes = 2.0 * rowsN * len * x.dtype().byteSize();
            for (int v = 0; v < SOFTMAX_VARIANTS.length; v++) {
                variantRow(what + " [" + SOFTMAX_VARIANTS[v].name().toLowerCase() + (SOFTMAX_VARIANTS[v] == def ? "*" : "") + "]", bytes,
                        msRuns[v], String.format("rel. err %.1e %s", err[v], verdict(err[v], tol)));
            }
        } finally {
            CudaSoftmax.setVariant(def);
        }
    }

    private static double[] softmaxReference(NDArray x, long row0, int count, long len, boolean log) {
        double[] v;
        try (NDArray part = x.narrow(0, row0, count)) {
            v = part.toDoubleArray();
        }
        for (int i = 0; i < count; i++) {
            int o = (int) (i * len);
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < len; j++) m = Math.max(m, v[o + j]);
            for (int j = 0; j < len; j++) s += Math.exp(v[o + j] - m);
            for (int j = 0; j < len; j++) v[o + j] = log ? v[o + j] - m - Math.log(s) : Math.exp(v[o + j] - m) / s;
        }
        return v;
    }

    private void softmaxes(NDArray a, NDArray c, long n) {
        // Inputs spread like logits (a is uniform in [0, 1): scaled to [0, 8) so the exponentials vary).
        try (NDArray z = a.mul(8.0)) {
            try (NDArray x = z.view(n / 4096, 4096); NDArray y = c.view(n / 4096, 4096)) {
                softmaxRows("softmax F32 rows of 4096", x, y, n / 4096, 4096, false, 1e-5);
                softmaxRows("log-softmax F32 rows of 4096", x, y, n / 4096, 4096, true, 1e-5);
            }
            try (NDArray x = z.view(n / 512, 512); NDArray y = c.view(n / 512, 512)) {
                softmaxRows("softmax F32 rows of 512", x, y, n / 512, 512, false, 1e-5);
            }
            try (NDArray x = z.view(n / 16384, 16384); NDArray y = c.view(n / 16384, 16384)) {
                softmaxRows("softmax F32 rows of 16384", x, y, n / 16384, 16384, false, 1e-5);
                softmaxRows("log-softmax F32 rows of 16384", x, y, n / 16384, 16384, true, 1e-5);
            }
            try (NDArray h = z.narrow(0, 0, n / 2); NDArray hb = h.to(DType.BF16); NDArray x = hb.view(n / 2 / 4096, 4096);
                 NDArray y = NDArray.empty(DType.BF16, g, n / 2 / 4096, 4096)) {
                softmaxRows("softmax BF16 rows of 4096 (n/2 elements)", x, y, n / 2 / 4096, 4096, false, 1e-2);
            }
            // 64 KB rows of 16-bit floats: vec2's staged kernel, as for rows of 16384 F32 (run 8)
            try (NDArray h = z.narrow(0, 0, n / 2); NDArray hb = h.to(DType.BF16); NDArray x = hb.view(n / 2 / 32768, 32768);
                 NDArray y = NDArray.empty(DType.BF16, g, n / 2 / 32768, 32768)) {
                softmaxRows("softmax BF16 rows of 32768 (n/2 elements)", x, y, n / 2 / 32768, 32768, false, 1e-2);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ layer norm

    /**
     * Fused layer norm of x [rows, len] with weight and bias (one read of x, one write of y: the bytes counted), timed
     * twice, and the composed form (mean, centre, variance, rsqrt, scale: what nn.LayerNorm ran before) for
     * comparison; the fused result is checked against a double-precision reference of the first and last 4 rows.
     */
    private void layerNormRows(String what, NDArray x, NDArray y, long rowsN, int len, double tol) {
        int check = (int) Math.min(4, rowsN);
        try (NDArray w = NDArray.rand(new Generator(7), DType.F32, g, len); NDArray wt = w.to(x.dtype());
             NDArray b = NDArray.rand(new Generator(8), DType.F32, g, len); NDArray bt = b.to(x.dtype());
             NDArray mean = NDArray.empty(DType.F32, g, rowsN); NDArray rstd = NDArray.empty(DType.F32, g, rowsN)) {
            double[] wv = wt.toDoubleArray(), bv = bt.toDoubleArray();
            double[] head = layerNormReference(x, 0, check, len, wv, bv), tail = layerNormReference(x, rowsN - check, check, len, wv, bv);
            y.fill(Double.NaN);
            cuda.layerNorm(x, len, wt, bt, 1e-5, y, mean, rstd);
            double err = Math.max(relNorm(head, rowsOf(y, 0, check)), relNorm(tail, rowsOf(y, rowsN - check, check)));
            try (NDArray bad = y.isnan(); NDArray any = bad.any()) {
                if (any.item() != 0) err = Double.NaN;  // an element left unwritten (or NaN)
            }
            double[] ms = new double[2];
            for (int rep = 0; rep < 2; rep++) ms[rep] = timeMs(() -> cuda.layerNorm(x, len, wt, bt, 1e-5, y, mean, rstd), 1);
            double bytes = 2.0 * rowsN * len * x.dtype().byteSize();
            variantRow(what + " [fused]", bytes, ms, String.format("rel. err %.1e %s", err, verdict(err, tol)));
            double composed = timeMs(() -> {
                try (NDArray m = x.mean(new int[] {1}, true); NDArray cx = x.sub(m); NDArray sq = cx.square();
                     NDArray v = sq.mean(new int[] {1}, true); NDArray ve = v.add(1e-5); NDArray r = ve.rsqrt(); NDArray n1 = cx.mul(r);
                     NDArray n2 = n1.mul(wt); NDArray n3 = n2.add(bt)) {
                    // results are dropped: only the kernels' time is measured
                }
            }, 1);
            variantRow(what + " [composed ops]", bytes, new double[] {composed, composed}, "mean/sub/square/mean/rsqrt/mul/add");
        }
    }

    private static double[] layerNormReference(NDArray x, long row0, int count, int len, double[] w, double[] b) {
        double[] v;
        try (NDArray part = x.narrow(0, row0, count)) {
            v = part.toDoubleArray();
        }
        for (int i = 0; i < count; i++) {
            int o = i * len;
            double s = 0, q = 0;
            for (int j = 0; j < len; j++) s += v[o + j];
            double mu = s / len;
            for (int j = 0; j < len; j++) q += (v[o + j] - mu) * (v[o + j] - mu);
            double rs = 1 / Math.sqrt(q / len + 1e-5);
            for (int j = 0; j < len; j++) v[o + j] = (v[o + j] - mu) * rs * w[j] + b[j];
        }
        return v;
    }

    private void layerNorms(NDArray a, NDArray c, long n) {
        // Activations with a nonzero mean (a is uniform in [0, 1)), rows of 4096 and 1024 as in transformer widths.
        for (int len : new int[] {4096, 1024}) {
            try (NDArray x = a.view(n / len, len); NDArray y = c.view(n / len, len)) {
                layerNormRows("layer norm F32 rows of " + len, x, y, n / len, len, 1e-5);
            }
            try (NDArray h = a.narrow(0, 0, n / 2); NDArray hb = h.to(DType.BF16); NDArray x = hb.view(n / 2 / len, len);
                 NDArray y = NDArray.empty(DType.BF16, g, n / 2 / len, len)) {
                layerNormRows("layer norm BF16 rows of " + len + " (n/2 elements)", x, y, n / 2 / len, len, 1e-2);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ batch norm

    /**
     * Batch norm (training) of a ResNet-like activation x [N, 64, 32, 32] (a's n elements, uniform in [0, 1)) with
     * weight and bias, forward and backward (dy = b), composed (the default until this run) then fused; the fused
     * results are checked against the composed ones on the GPU. Bytes counted are the ideal (forward: read x, write
     * y; backward: read dy and x, write dx): the fused kernels read x a second time, mostly from DRAM at this size.
     */
    private void batchNorms(NDArray a, NDArray b, NDArray c, long n) {
        long[] shape = {n / (64 * 32 * 32), 64, 32, 32};
        CudaBatchNorm.Variant before = CudaBatchNorm.variant();
        try (NDArray x = a.view(shape); NDArray dy = b.view(shape); NDArray y = c.view(shape);
             NDArray y0 = NDArray.empty(DType.F32, g, shape); NDArray dx = NDArray.empty(DType.F32, g, shape);
             NDArray dx0 = NDArray.empty(DType.F32, g, shape);
             NDArray w = NDArray.rand(new Generator(9), DType.F32, g, 64); NDArray bias = NDArray.rand(new Generator(10), DType.F32, g, 64);
             NDArray mean = NDArray.empty(DType.F32, g, 64); NDArray var = NDArray.empty(DType.F32, g, 64);
             NDArray gw = NDArray.empty(DType.F32, g, 64); NDArray gb = NDArray.empty(DType.F32, g, 64)) {
            String name = "batch norm F32 " + java.util.Arrays.toString(shape);
            for (CudaBatchNorm.Variant v : new CudaBatchNorm.Variant[] {CudaBatchNorm.Variant.COMPOSED, CudaBatchNorm.Variant.FUSED}) {
                CudaBatchNorm.setVariant(v);
                boolean fused = v == CudaBatchNorm.Variant.FUSED;
                NDArray yOut = fused ? y : y0, dxOut = fused ? dx : dx0;
                yOut.fill(Double.NaN);
                dxOut.fill(Double.NaN);
                cuda.batchNorm(x, w, bias, 1e-5, yOut, mean, var);
                cuda.batchNormBackward(dy, x, mean, var, w, 1e-5, dxOut, gw, gb);
                String note = "the composition of reductions and elementwise ops";
                if (fused) {
                    double err = Math.max(deviceRelNorm(y0, y), deviceRelNorm(dx0, dx));
                    note = String.format("rel. err vs composed (y, dx) %.1e %s", err, verdict(err, 1e-5));
                }
                double[] fwd = new double[2], bwd = new double[2];
                for (int rep = 0; rep < 2; rep++) {
                    fwd[rep] = timeMs(() -> cuda.batchNorm(x, w, bias, 1e-5, yOut, mean, var), 1);
                    bwd[rep] = timeMs(() -> cuda.batchNormBackward(dy, x, mean, var, w, 1e-5, dxOut, gw, gb), 1);
                }
                String tag = " [" + v.name().toLowerCase(java.util.Locale.ROOT) + "]";
                variantRow(name + " forward" + tag, 2.0 * n * 4, fwd, note);
                variantRow(name + " backward" + tag, 3.0 * n * 4, bwd, note);
            }
        } finally {
            CudaBatchNorm.setVariant(before);
        }
    }

    // ------------------------------------------------------------------------------------------ cross-entropy

    /**
     * Cross-entropy of logits [n / 32768, 32768] (a vocabulary-sized row; a's values) against random classes,
     * forward and backward, composed (the default until this run) then fused, the fused results checked against
     * the composed ones. Bytes counted: forward one read of the logits, backward one read and one write.
     */
    private void crossEntropies(NDArray a, NDArray c, long n) {
        long vocab = 32768, rowsN = n / vocab;
        CudaCrossEntropy.Variant before = CudaCrossEntropy.variant();
        try (NDArray x = a.view(rowsN, vocab); NDArray grad = c.view(rowsN, vocab);
             NDArray t = NDArray.randint(new Generator(11), 0, vocab, g, rowsN);
             NDArray ones = NDArray.ones(DType.F32, g, rowsN)) {
            NDArray[] composed = null;
            NDArray composedGrad = null;
            try {
                for (CudaCrossEntropy.Variant v : new CudaCrossEntropy.Variant[] {CudaCrossEntropy.Variant.COMPOSED, CudaCrossEntropy.Variant.FUSED}) {
                    CudaCrossEntropy.setVariant(v);
                    NDArray[] r = x.crossEntropyPerPosition(t, -100, 0);
                    String note = "logsumexp, gather and elementwise ops";
                    if (v == CudaCrossEntropy.Variant.COMPOSED) {
                        composed = r;
                        composedGrad = NDArray.crossEntropyBackward(x, t, r[1], ones, -100, 0);
                    } else {
                        try (NDArray fusedGrad = NDArray.crossEntropyBackward(x, t, r[1], ones, -100, 0)) {
                            double err = Math.max(deviceRelNorm(composed[0], r[0]), deviceRelNorm(composedGrad, fusedGrad));
                            note = String.format("rel. err vs composed (loss, gradient) %.1e %s", err, verdict(err, 1e-5));
                        }
                        for (NDArray o : r) o.close();
                    }
                    NDArray loss = NDArray.empty(DType.F32, g, rowsN), lse = NDArray.empty(DType.F32, g, rowsN);
                    try (loss; lse) {
                        double[] fwd = new double[2], bwd = new double[2];
                        for (int rep = 0; rep < 2; rep++) {
                            fwd[rep] = timeMs(() -> cuda.crossEntropy(x, t, -100, 0, loss, lse), 1);
                            bwd[rep] = timeMs(() -> cuda.crossEntropyBackward(x, t, lse, ones, -100, 0, grad), 1);
                        }
                        String tag = " [" + v.name().toLowerCase(java.util.Locale.ROOT) + "]";
                        variantRow("cross-entropy F32 [" + rowsN + ", " + vocab + "] forward" + tag, (double) n * 4, fwd, note);
                        variantRow("cross-entropy F32 [" + rowsN + ", " + vocab + "] backward" + tag, 2.0 * n * 4, bwd, note);
                    }
                }
            } finally {
                if (composed != null) for (NDArray o : composed) o.close();
                if (composedGrad != null) composedGrad.close();
            }
        } finally {
            CudaCrossEntropy.setVariant(before);
        }
    }

    /** ||got - ref|| / ||ref||, computed on the device (NaN when got holds a NaN). */
    private static double deviceRelNorm(NDArray ref, NDArray got) {
        try (NDArray d = got.sub(ref); NDArray d2 = d.square(); NDArray num = d2.sum(); NDArray r2 = ref.square(); NDArray den = r2.sum()) {
            return Math.sqrt(num.item() / den.item());
        }
    }

    // ------------------------------------------------------------------------------------------ GEMM

    /** F32 first, the new sm_90a kernels last: a fault there poisons the context for everything after it. */
    private void gemms(int size) {
        gemm32(size);
        for (DType t : new DType[] {DType.F16, DType.BF16}) gemm16(t, size, CudaGemm.Variant16.BASE, CudaGemm.Variant16.WGMMA);
    }

    /** Rows of the product checked against a double-precision product on the host. */
    private static final int CHECK_ROWS = 16;

    private record GemmRef(long[] rows, double[][] want) {}

    /** want[r][j] = sum_k a[0, rows[r], k] b[0, k, j] in double; a [1, M, K], b [1, K, N] (any strides). */
    private static GemmRef reference(NDArray a, NDArray b, int size) {
        long[] rows = new long[CHECK_ROWS];
        for (int r = 0; r < CHECK_ROWS; r++) rows[r] = (long) r * (size / CHECK_ROWS) + (r * 37L % (size / CHECK_ROWS));
        double[] bh;
        try (NDArray bc = b.contiguous()) {
            bh = bc.toDoubleArray();
        }
        double[][] want = new double[CHECK_ROWS][size];
        for (int r = 0; r < CHECK_ROWS; r++) {
            double[] ar;
            try (NDArray row = a.narrow(1, rows[r], 1)) {
                ar = row.toDoubleArray();
            }
            double[] w = want[r];
            for (int k = 0; k < size; k++) {
                double av = ar[k];
                int o = k * size;
                for (int j = 0; j < size; j++) w[j] += av * bh[o + j];
            }
        }
        return new GemmRef(rows, want);
    }

    private static double gemmError(GemmRef ref, NDArray out) {
        double num = 0, den = 0;
        for (int r = 0; r < ref.rows.length; r++) {
            double[] got;
            try (NDArray row = out.narrow(1, ref.rows[r], 1)) {
                got = row.toDoubleArray();
            }
            for (int j = 0; j < got.length; j++) {
                double d = got[j] - ref.want[r][j];
                num += d * d;
                den += ref.want[r][j] * ref.want[r][j];
            }
        }
        return Math.sqrt(num / den);
    }

    private interface GemmCall {
        void run(NDArray out);
    }

    /** Times call (twice, the runs interleaved by the caller) after checking it; returns {ms, ms, rel. error}. */
    private double[] gemmCase(GemmCall call, NDArray out, GemmRef ref) {
        out.fill(Double.NaN);
        call.run(out);
        double err = gemmError(ref, out);
        try (NDArray bad = out.isnan(); NDArray any = bad.any()) {
            if (any.item() != 0) err = Double.NaN;
        }
        double ms = timeMs(() -> call.run(out), 1);
        return new double[] {ms, err};
    }

    private void gemmRow(String what, int size, double[] r1, double[] r2, double cublasMs, double tol) {
        double flops = 2.0 * size * size * (double) size;
        double best = Math.min(r1[0], r2[0]);
        row(what, String.format("%.1f TFLOP/s", flops / best / 1e9), String.format("%.3f / %.3f ms, %.0f%% of cuBLAS, rel. err %.1e %s",
                r1[0], r2[0], 100 * cublasMs / best, Math.max(r1[1], r2[1]), verdict(Math.max(r1[1], r2[1]), tol)));
    }

    /**
     * cuBLAS and our F16/BF16 variants at size^3, both B layouts, each timed twice and checked against a reference.
     * cuBLAS and BASE run first; the sm_90a variants (WGMMA, TMA) after them, in the order given, so that a fault in
     * one cannot spoil the figures measured before it.
     */
    private void gemm16(DType t, int size, CudaGemm.Variant16... ours) {
        CudaGemm.Variant16 def = CudaGemm.variant16();
        double tol = t == DType.F16 ? 2e-3 : 1e-2;
        try (NDArray a = NDArray.randn(new Generator(3), t, g, 1, size, size); NDArray b = NDArray.randn(new Generator(4), t, g, 1, size, size);
             NDArray bT = NDArray.randn(new Generator(5), t, g, 1, size, size); NDArray bt = bT.transpose(1, 2);
             NDArray out = NDArray.empty(t, g, 1, size, size)) {
            GemmRef[] refs = {reference(a, b, size), reference(a, bt, size)};
            NDArray[] bs = {b, bt};
            String[] layouts = {"nn", "nt (B transposed)"};
            int n = ours.length + 1;
            // [layout][impl][rep] -> {ms, rel. err}; impl 0 is cuBLAS, impl i > 0 is ours[i - 1]
            double[][][][] res = new double[2][n][2][];
            for (int phase = 0; phase < 2; phase++) {
                for (int rep = 0; rep < 2; rep++) {
                    for (int l = 0; l < 2; l++) {
                        NDArray bl = bs[l];
                        for (int i = 0; i < n; i++) {
                            boolean sm90a = i > 0 && ours[i - 1] != CudaGemm.Variant16.BASE;
                            if (sm90a != (phase == 1)) continue;
                            CudaGemm.Variant16 v = i == 0 ? null : ours[i - 1];
                            GemmCall call = v == null ? o -> CudaGemm.matmul(a, bl, o, CudaGemm.Impl.CUBLAS)
                                    : o -> { CudaGemm.setVariant16(v); CudaGemm.matmul(a, bl, o, CudaGemm.Impl.JTENSOR); };
                            try {
                                res[l][i][rep] = gemmCase(call, out, refs[l]);
                            } catch (RuntimeException e) {
                                res[l][i][rep] = new double[] {Double.NaN, Double.NaN};
                                System.out.println("GEMM " + t + " " + (v == null ? "cuBLAS" : v) + " " + layouts[l] + " failed: " + e);
                            }
                        }
                    }
                }
            }
            for (int l = 0; l < 2; l++) {
                double cublasMs = Math.min(res[l][0][0][0], res[l][0][1][0]);
                for (int i = 0; i < n; i++) {
                    String name = i == 0 ? "cuBLAS" : ours[i - 1].name().toLowerCase(Locale.ROOT) + (ours[i - 1] == def ? "*" : "");
                    gemmRow("GEMM " + t + " " + size + "^3 " + layouts[l] + " " + name, size, res[l][i][0], res[l][i][1], cublasMs, tol);
                }
            }
        } catch (RuntimeException e) {
            row("GEMM " + t + " " + size + "^3", "failed", e.toString().replace('|', '/'));
        } finally {
            CudaGemm.setVariant16(def);
        }
    }

    private void gemm32(int size) {
        CudaGemm.Variant32 def = CudaGemm.variant32();
        try (NDArray a = NDArray.randn(new Generator(6), DType.F32, g, 1, size, size); NDArray b = NDArray.randn(new Generator(7), DType.F32, g, 1, size, size);
             NDArray out = NDArray.empty(DType.F32, g, 1, size, size)) {
            GemmRef ref = reference(a, b, size);
            GemmCall cublas = o -> CudaGemm.matmul(a, b, o, CudaGemm.Impl.CUBLAS);
            GemmCall base = o -> { CudaGemm.setVariant32(CudaGemm.Variant32.BASE); CudaGemm.matmul(a, b, o, CudaGemm.Impl.JTENSOR); };
            GemmCall simt2 = o -> { CudaGemm.setVariant32(CudaGemm.Variant32.SIMT2); CudaGemm.matmul(a, b, o, CudaGemm.Impl.JTENSOR); };
            GemmCall[] calls = {cublas, base, simt2};
            String[] names = {"cuBLAS", "base (simt)", "simt2"};
            double[][] first = new double[3][], second = new double[3][];
            for (int rep = 0; rep < 2; rep++) {
                for (int i = 0; i < 3; i++) {
                    double[] r = gemmCase(calls[i], out, ref);
                    if (rep == 0) first[i] = r; else second[i] = r;
                }
            }
            double cublasMs = Math.min(first[0][0], second[0][0]);
            for (int i = 0; i < 3; i++) {
                boolean isDefault = (i == 1 && def == CudaGemm.Variant32.BASE) || (i == 2 && def == CudaGemm.Variant32.SIMT2);
                // cuBLAS's default F32 GEMM may use TF32 (rel. err ~1e-4..1e-3); ours is plain FP32 (~1e-6).
                gemmRow("GEMM F32 " + size + "^3 nn " + names[i] + (isDefault ? "*" : ""), size, first[i], second[i], cublasMs, i == 0 ? 1e-3 : 1e-5);
            }
        } catch (RuntimeException e) {
            row("GEMM F32 " + size + "^3", "failed", e.toString().replace('|', '/'));
        } finally {
            CudaGemm.setVariant32(def);
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

    // ------------------------------------------------------------------------------------------ convolution

    /**
     * A ResNet-sized layer (ResNet-50's first-stage 3x3: x [32, 64, 56, 56], w [64, 64, 3, 3], stride 1, pad 1) in
     * F32 and F16: forward, input gradient and weight gradient by our kernels (im2col + GEMM) and by cuDNN, each
     * output checked against the other. cuDNN's F32 runs on FMA math (no TF32), like ours.
     */
    private void convs() {
        String why = Cudnn.unavailableReason();
        if (why != null) {
            row("conv2d vs cuDNN", "skipped", "no cuDNN: " + why.lines().findFirst().orElse("").replace('|', '/'));
            return;
        }
        row("cuDNN", Long.toString(Cudnn.version()), Cudnn.location());
        for (DType t : new DType[] {DType.F32, DType.F16}) {
            try {
                convLayer(t, 32, 64, 56, 64, 3);
            } catch (RuntimeException e) {
                row("conv2d " + t, "failed", e.toString().replace('|', '/'));
            }
        }
    }

    /** Our weight gradient with the product split over K (CudaConv.setSplitK), checked against cuDNN's gw0. */
    private void splitKWeightRow(String shape, double flops, double cudnnMs, double tol, NDArray gw0, NDArray gw1, ConvCall ours) {
        boolean before = CudaConv.splitK();
        CudaConv.setSplitK(true);
        try {
            gw1.fill(Double.NaN);
            ours.run(CudaConv.Impl.JTENSOR);
            double err = relNorm(gw0.toDoubleArray(), gw1.toDoubleArray());
            double ms = Math.min(timeMs(() -> ours.run(CudaConv.Impl.JTENSOR), 1), timeMs(() -> ours.run(CudaConv.Impl.JTENSOR), 1));
            row("conv2d backward-weight " + shape + " jtensor split-K", String.format("%.1f TFLOP/s", flops / ms / 1e9),
                    String.format("%.3f ms, %.0f%% of cuDNN, rel. err vs cuDNN %.1e %s", ms, 100 * cudnnMs / ms, err, verdict(err, tol)));
        } finally {
            CudaConv.setSplitK(before);
        }
    }

    private interface ConvCall {
        void run(CudaConv.Impl impl);
    }

    private void convLayer(DType t, long n, long c, long hw, long o, int k) {
        ConvParams p = ConvParams.of(1, k / 2);
        long oh = ConvParams.outSize(hw, k, 1, k / 2, 1);
        double flops = 2.0 * n * o * oh * oh * c * k * k;
        double tol = t == DType.F32 ? 1e-4 : 5e-3;
        CudaConv.Impl[] impls = {CudaConv.Impl.CUDNN, CudaConv.Impl.JTENSOR};
        try (NDArray x = NDArray.randn(new Generator(21), t, g, n, c, hw, hw); NDArray w = NDArray.randn(new Generator(22), t, g, o, c, k, k);
             NDArray gy = NDArray.randn(new Generator(23), t, g, n, o, oh, oh);
             NDArray y0 = NDArray.empty(t, g, n, o, oh, oh); NDArray y1 = NDArray.empty(t, g, n, o, oh, oh);
             NDArray gx0 = NDArray.empty(t, g, n, c, hw, hw); NDArray gx1 = NDArray.empty(t, g, n, c, hw, hw);
             NDArray gw0 = NDArray.empty(t, g, o, c, k, k); NDArray gw1 = NDArray.empty(t, g, o, c, k, k)) {
            String[] names = {"forward", "backward-input", "backward-weight"};
            NDArray[][] outs = {{y0, y1}, {gx0, gx1}, {gw0, gw1}};
            ConvCall[] calls = {
                impl -> CudaConv.conv2d(x, w, impl == CudaConv.Impl.CUDNN ? y0 : y1, p, impl),
                impl -> CudaConv.conv2dBackwardInput(gy, w, impl == CudaConv.Impl.CUDNN ? gx0 : gx1, p, impl),
                impl -> CudaConv.conv2dBackwardWeight(x, gy, impl == CudaConv.Impl.CUDNN ? gw0 : gw1, p, impl)};
            CudnnConv.Direction[] dirs = {CudnnConv.Direction.FORWARD, CudnnConv.Direction.BACKWARD_DATA, CudnnConv.Direction.BACKWARD_FILTER};
            String shape = String.format("%s %dx%d->%dx%dx%d k%d", t, n, c, o, hw, hw, k);
            for (int d = 0; d < 3; d++) {
                // Check first (NaN-poisoned outputs, so that an element left unwritten shows), then time, interleaved.
                for (int i = 0; i < 2; i++) {
                    outs[d][i].fill(Double.NaN);
                    calls[d].run(impls[i]);
                }
                double err = relNorm(outs[d][0].toDoubleArray(), outs[d][1].toDoubleArray());
                double[][] ms = new double[2][2];
                for (int rep = 0; rep < 2; rep++) {
                    for (int i = 0; i < 2; i++) {
                        ConvCall call = calls[d];
                        CudaConv.Impl impl = impls[i];
                        ms[i][rep] = timeMs(() -> call.run(impl), 1);
                    }
                }
                double cudnnMs = Math.min(ms[0][0], ms[0][1]), oursMs = Math.min(ms[1][0], ms[1][1]);
                CudnnConv.Plan plan = CudnnConv.plans(Backends.cuda().device(g)).get(
                        new CudnnConv.Key(dirs[d], t, n, c, hw, hw, o, k, k, oh, oh, p));
                String def = CudaConv.getDefault() == CudaConv.Impl.CUDNN ? "*" : "";
                row("conv2d " + names[d] + " " + shape + " cuDNN" + def, String.format("%.1f TFLOP/s", flops / cudnnMs / 1e9),
                        String.format("%.3f / %.3f ms, %s", ms[0][0], ms[0][1], plan == null ? "no plan?" : plan.toString()));
                row("conv2d " + names[d] + " " + shape + " jtensor" + (def.isEmpty() ? "*" : ""), String.format("%.1f TFLOP/s", flops / oursMs / 1e9),
                        String.format("%.3f / %.3f ms, %.0f%% of cuDNN, rel. err vs cuDNN %.1e %s", ms[1][0], ms[1][1], 100 * cudnnMs / oursMs,
                                err, verdict(err, tol)));
                if (d == 2) splitKWeightRow(shape, flops, cudnnMs, tol, gw0, gw1, calls[d]);
            }
        }
    }
}
