package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ComposedBatchNorm;

/**
 * Batch normalisation in training mode and its gradient on the GPU (Backend.batchNorm / batchNormBackward): fused
 * kernels (kernels/cu/norm.cu, batchnorm_*: one pass for the statistics, one for the output; one for the gradient
 * sums, one for dx) or the composition of the backend's reductions and elementwise ops ({@link ComposedBatchNorm}).
 * Which: {@code -Djtensor.cuda.variant.batchnorm=composed|fused} or {@link #setVariant}; composed by default until
 * a GPU run has checked and timed the fused kernels.
 */
final class CudaBatchNorm {
    enum Variant { COMPOSED, FUSED }

    private static final KernelVariant<Variant> VARIANT = new KernelVariant<>("jtensor.cuda.variant.batchnorm", Variant.COMPOSED);

    static Variant variant() { return VARIANT.get(); }

    static void setVariant(Variant v) { VARIANT.set(v); }

    private static final String[] STATS = KernelCodes.names("batchnorm_stats_");
    private static final String[] FINALIZE = KernelCodes.names("batchnorm_finalize_");
    private static final String[] APPLY = KernelCodes.names("batchnorm_apply_");
    private static final String[] BWD_SUMS = KernelCodes.names("batchnorm_bwd_sums_");
    private static final String[] BWD_FINALIZE = KernelCodes.names("batchnorm_bwd_finalize_");
    private static final String[] BWD_DX = KernelCodes.names("batchnorm_bwd_dx_");
    private static final int THREADS = 256;
    /** A block takes at least this many of its channel's elements: enough loads in flight per thread. */
    static final long MIN_PER_BLOCK = 4096;
    /** Channels are the grid's y dimension. */
    static final long MAX_CHANNELS = 65535;

    private CudaBatchNorm() {}

    /**
     * Blocks per channel for C channels of M elements each: about 4 blocks per SM over all channels, none with
     * fewer than MIN_PER_BLOCK elements unless the channel has fewer.
     */
    static int splits(long C, long M, int sms) {
        long wanted = (4L * sms + C - 1) / Math.max(1, C);
        long byWork = Math.max(1, (M + MIN_PER_BLOCK - 1) / MIN_PER_BLOCK);
        return (int) Math.max(1, Math.min(65535, Math.min(wanted, byWork)));
    }

    static void forward(NDArray x, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray var) {
        if (variant() == Variant.COMPOSED || x.shape()[1] > MAX_CHANNELS) {
            ComposedBatchNorm.forward(x, weight, bias, eps, out, mean, var);
            return;
        }
        if (x.shape()[1] == 0) return;
        Geometry g = Geometry.of("batchNorm", x, mean, var);
        CudaDevice dev = device(x);
        DType st = mean.dtype();
        int t = x.dtype().ordinal();
        long stream = dev.enter();
        try (DevArray.Temp part = new DevArray.Temp(dev, st, g.C * g.P * 3); DevArray.Temp scale = new DevArray.Temp(dev, st, g.C)) {
            g.args().ptr(address(x)).ptr(part.array.address())
                    .launch(dev.gpu.function(STATS[t]), g.P, (int) g.C, 1, THREADS, 0, stream);
            eps(KernelArgs.start().i64(g.C).i32(g.P).ptr(part.array.address()).ptr(address(weight)), st, eps)
                    .ptr(address(mean)).ptr(address(var)).ptr(scale.array.address())
                    .launch(dev.gpu.function(FINALIZE[t]), dev.grid(g.C, THREADS), THREADS, stream);
            g.args().ptr(address(x)).ptr(address(mean)).ptr(scale.array.address()).ptr(address(bias)).ptr(address(out))
                    .launch(dev.gpu.function(APPLY[t]), g.P, (int) g.C, 1, THREADS, 0, stream);
        }
    }

    static void backward(NDArray gradOut, NDArray x, NDArray mean, NDArray var, NDArray weight, double eps,
                         NDArray gradX, NDArray gradWeight, NDArray gradBias) {
        if (variant() == Variant.COMPOSED || x.shape()[1] > MAX_CHANNELS) {
            ComposedBatchNorm.backward(gradOut, x, mean, var, weight, eps, gradX, gradWeight, gradBias);
            return;
        }
        if (x.shape()[1] == 0) return;
        Geometry g = Geometry.of("batchNormBackward", x, mean, var);
        CudaDevice dev = device(x);
        DType st = mean.dtype();
        int t = x.dtype().ordinal();
        long stream = dev.enter();
        try (DevArray.Temp part = new DevArray.Temp(dev, st, g.C * g.P * 2);
             DevArray.Temp coef = new DevArray.Temp(dev, st, gradX == null ? 1 : g.C * 3)) {
            eps(g.args().ptr(address(gradOut)).ptr(address(x)).ptr(address(mean)).ptr(address(var)), st, eps)
                    .ptr(part.array.address())
                    .launch(dev.gpu.function(BWD_SUMS[t]), g.P, (int) g.C, 1, THREADS, 0, stream);
            eps(KernelArgs.start().i64(g.C).i64(g.M).i32(g.P).ptr(part.array.address()).ptr(address(var)).ptr(address(weight)), st, eps)
                    .ptr(address(gradWeight)).ptr(address(gradBias)).ptr(gradX == null ? 0 : coef.array.address())
                    .launch(dev.gpu.function(BWD_FINALIZE[t]), dev.grid(g.C, THREADS), THREADS, stream);
            if (gradX != null) {
                g.args().ptr(address(gradOut)).ptr(address(x)).ptr(address(mean)).ptr(coef.array.address()).ptr(address(gradX))
                        .launch(dev.gpu.function(BWD_DX[t]), g.P, (int) g.C, 1, THREADS, 0, stream);
            }
        }
    }

    /**
     * x [N, C, S...] as the kernels see it: C channels of M = N * S elements, S = the positions per (n, c), P blocks
     * per channel, each taking chunk consecutive elements of its channel.
     */
    private record Geometry(long C, long S, long M, int P, long chunk) {
        static Geometry of(String op, NDArray x, NDArray mean, NDArray var) {
            if (!x.isContiguous()) throw new IllegalArgumentException(op + ": expected a contiguous x, got strides " + java.util.Arrays.toString(x.strides()));
            long[] s = x.shape();
            long S = 1;
            for (int i = 2; i < s.length; i++) S *= s[i];
            long C = s[1], M = s[0] * S;
            DType st = x.dtype() == DType.F64 ? DType.F64 : DType.F32;
            for (NDArray stat : new NDArray[] {mean, var}) {
                if (stat.dtype() != st || stat.numel() != C) {
                    throw new IllegalArgumentException(op + ": expected mean and var of " + C + " " + st + ", got " + stat.numel() + " " + stat.dtype());
                }
            }
            int P = splits(C, M, device(x).gpu.multiprocessors);
            return new Geometry(C, S, M, P, (M + P - 1) / P);
        }

        /** The arguments every grid (P, C) kernel starts with. */
        KernelArgs args() { return KernelArgs.start().i64(C).i64(S).i64(M).i64(chunk); }
    }

    private static KernelArgs eps(KernelArgs a, DType statsType, double eps) {
        return statsType == DType.F64 ? a.f64(eps) : a.f32((float) eps);
    }

    private static CudaDevice device(NDArray a) { return io.jtensor.backend.Backends.cuda().device(a.device()); }

    private static long address(NDArray a) { return a == null ? 0 : DevArray.of(a).address(); }
}
