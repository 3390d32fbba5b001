package io.jtensor.backend.cuda;

import io.jtensor.DType;

/** Fused layer normalisation and its gradient over contiguous rows (kernels/cu/norm.cu). */
final class CudaNorm {
    private static final String[] FWD_ANY = KernelCodes.names("layernorm_fwd_any_");
    private static final String[] BWD_ANY = KernelCodes.names("layernorm_bwd_any_");
    private static final String[] BWD_PARAMS = KernelCodes.names("layernorm_bwd_params_");
    private static final String[] BWD_PSUM = KernelCodes.names("layernorm_bwd_psum_");

    /** The vec kernels' limits: packs (16 bytes) per thread and threads of a block-per-row launch. */
    static final int VWARP_MAX_PACKS = 4, VEC_MAX_PACKS = 8, VBLOCK_MAX_THREADS = 256;

    private CudaNorm() {}

    /**
     * The vec kernel for rows of n elements of elemBytes each: {threads per row (32: one warp per row), packs per
     * thread}, or null when the row is too long for registers (the "any" kernel takes it).
     */
    static int[] vecPlan(long n, int elemBytes) {
        long packs = n * elemBytes / 16;
        if (packs <= 32L * VWARP_MAX_PACKS) return new int[] {32, pow2AtLeast((packs + 31) / 32)};
        // About four packs per thread: loads in flight without many registers; vblock is built for P >= 2.
        int threads = (int) Math.max(64, Math.min(VBLOCK_MAX_THREADS, pow2AtLeast((packs + 3) / 4)));
        int p = Math.max(2, pow2AtLeast((packs + threads - 1) / threads));
        return p <= VEC_MAX_PACKS ? new int[] {threads, p} : null;
    }

    private static int pow2AtLeast(long v) {
        int p = 1;
        while (p < v) p <<= 1;
        return p;
    }

    private static long addr(DevArray a) { return a == null ? 0 : a.address(); }

    private static boolean aligned(DevArray a) { return a == null || (a.address() & 15) == 0; }

    /** The stats dtype the kernels write: their compute type. */
    private static DType statsType(DType t) { return t == DType.F64 ? DType.F64 : DType.F32; }

    private static void check(String op, DevArray x, int n, DevArray mean, DevArray rstd, DevArray... params) {
        if (!x.dtype().isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + x.dtype());
        if (n < 1 || (x.numel() > 0 && x.numel() % n != 0)) {
            throw new IllegalArgumentException(op + ": " + x.numel() + " elements are not whole rows of " + n);
        }
        long rows = x.numel() / n;
        DType st = statsType(x.dtype());
        for (DevArray s : new DevArray[] {mean, rstd}) {
            if (s.dtype() != st || s.numel() != rows) {
                throw new IllegalArgumentException(op + ": expected mean and rstd of " + rows + " " + st + ", got " + s.numel() + " " + s.dtype());
            }
        }
        for (DevArray p : params) {
            if (p != null && (p.dtype() != x.dtype() || p.numel() != n)) {
                throw new IllegalArgumentException(op + ": expected parameters of " + n + " " + x.dtype() + ", got " + p.numel() + " " + p.dtype());
            }
        }
    }

    static void forward(CudaDevice dev, DevArray x, int n, DevArray w, DevArray b, double eps, DevArray out, DevArray mean, DevArray rstd) {
        check("layerNorm", x, n, mean, rstd, w, b);
        if (out.dtype() != x.dtype()) throw new IllegalArgumentException("layerNorm: expected out of " + x.dtype() + ", got " + out.dtype());
        long rows = x.numel() / n;
        if (rows == 0) return;
        long stream = dev.enter();
        int es = x.dtype().byteSize();
        boolean vec = n % (16 / es) == 0 && aligned(x) && aligned(out) && aligned(w) && aligned(b);
        int[] plan = vec ? vecPlan(n, es) : null;
        KernelArgs args = KernelArgs.start();
        if (plan != null) {
            boolean warp = plan[0] == 32;
            args.i64(rows).i64(n).ptr(x.address()).ptr(addr(w)).ptr(addr(b));
            if (x.dtype() == DType.F64) args.f64(eps); else args.f32((float) eps);
            args.ptr(out.address()).ptr(mean.address()).ptr(rstd.address());
            String k = (warp ? "layernorm_fwd_vwarp_" : "layernorm_fwd_vblock_") + KernelCodes.suffix(x.dtype()) + "_p" + plan[1];
            args.launch(dev.gpu.function(k), warp ? (rows + 7) / 8 : rows, warp ? 256 : plan[0], stream);
        } else {
            args.i64(n).ptr(x.address()).ptr(addr(w)).ptr(addr(b));
            if (x.dtype() == DType.F64) args.f64(eps); else args.f32((float) eps);
            args.ptr(out.address()).ptr(mean.address()).ptr(rstd.address());
            args.launch(dev.gpu.function(FWD_ANY[x.dtype().ordinal()]), rows, rowThreads(n), stream);
        }
    }

    /** Threads of a block-per-row kernel: about four elements per thread, 32 to 512. */
    private static int rowThreads(long n) { return (int) Math.max(32, Math.min(512, pow2AtLeast((n + 3) / 4))); }

    static void backward(CudaDevice dev, DevArray gy, DevArray x, DevArray mean, DevArray rstd, DevArray w,
                         DevArray gx, DevArray gw, DevArray gb) {
        long rows = mean.numel();
        if (rows == 0 || x.numel() == 0) {
            for (DevArray p : new DevArray[] {gw, gb}) if (p != null) CudaElementwise.fill(dev, p, 0);
            return;
        }
        if (x.numel() % rows != 0 || x.numel() / rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("layerNormBackward: " + x.numel() + " elements are not " + rows + " rows");
        }
        int n = (int) (x.numel() / rows);
        check("layerNormBackward", x, n, mean, rstd, w, gw, gb);
        if (gy.dtype() != x.dtype() || gy.numel() != x.numel()) {
            throw new IllegalArgumentException("layerNormBackward: expected gradOut of " + x.numel() + " " + x.dtype() + ", got " + gy.numel() + " " + gy.dtype());
        }
        int t = x.dtype().ordinal();
        long stream = dev.enter();
        if (gx != null) {
            KernelArgs.start().i64(n).ptr(gy.address()).ptr(x.address()).ptr(mean.address()).ptr(rstd.address()).ptr(addr(w))
                    .ptr(gx.address()).launch(dev.gpu.function(BWD_ANY[t]), rows, rowThreads(n), stream);
        }
        if (gw == null && gb == null) return;
        long colBlocks = (n + 31) / 32;
        // Enough blocks to fill the GPU (about 4 per SM of 132) with at least 8 rows each.
        int chunks = (int) Math.max(1, Math.min((rows + 7) / 8, Math.max(1, 512 / colBlocks)));
        DType st = statsType(x.dtype());
        try (DevArray.Temp part = new DevArray.Temp(dev, st, 2L * chunks * n)) {
            KernelArgs.start().i64(rows).i64(n).ptr(gy.address()).ptr(x.address()).ptr(mean.address()).ptr(rstd.address())
                    .ptr(part.array.address()).launch(dev.gpu.function(BWD_PARAMS[t]), colBlocks, chunks, 1, 256, 0, stream);
            KernelArgs.start().i64(n).i32(chunks).ptr(part.array.address()).ptr(addr(gw)).ptr(addr(gb))
                    .launch(dev.gpu.function(BWD_PSUM[t]), dev.grid(n, 256), 256, stream);
        }
    }
}
