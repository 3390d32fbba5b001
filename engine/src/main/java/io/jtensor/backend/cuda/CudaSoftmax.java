package io.jtensor.backend.cuda;

import io.jtensor.DType;

/** Fused softmax / log-softmax and their backward (kernels/cu/softmax.cu). */
final class CudaSoftmax {
    private static final String[] FWD_WARP = KernelCodes.names("softmax_fwd_warp_");
    private static final String[] FWD_BLOCK = KernelCodes.names("softmax_fwd_block_");
    private static final String[] FWD_COLS = KernelCodes.names("softmax_fwd_cols_");
    private static final String[] BWD_WARP = KernelCodes.names("softmax_bwd_warp_");
    private static final String[] BWD_BLOCK = KernelCodes.names("softmax_bwd_block_");
    private static final String[] BWD_COLS = KernelCodes.names("softmax_bwd_cols_");
    static final int WARP_MAX = 1024;

    /**
     * Which forward kernels take contiguous rows: BASE (softmax_fwd_warp_/block_), VEC (softmax_fwd_vwarp_/vblock_:
     * the row read once into registers with 16-byte loads, one exp per element, one write), or VEC2: VEC, except
     * that F32/F16/BF16 rows of more than 2048 packs (8192 F32) go to softmax_fwd_vstage_ (4 packs per thread in
     * registers, the rest staged in shared memory: four rows per SM where VEC's 8 packs per thread fit one). Set by
     * {@code -Djtensor.cuda.variant.softmax=base|vec|vec2} (default vec: VEC2 waits for a GPU run) or
     * {@link #setVariant}.
     */
    enum Variant { BASE, VEC, VEC2 }

    private static final KernelVariant<Variant> VARIANT = new KernelVariant<>("jtensor.cuda.variant.softmax", Variant.VEC);

    static Variant variant() { return VARIANT.get(); }

    static void setVariant(Variant v) { VARIANT.set(v); }

    /** Packs (of 16 bytes) per thread the VEC kernels are built for, and the most a warp-per-row kernel takes. */
    static final int VEC_MAX_PACKS = 8, VWARP_MAX_PACKS = 4, VBLOCK_MAX_THREADS = 512;

    /**
     * The VEC kernel for rows of L elements of elemBytes each: {threads per row (32: one warp per row), packs per
     * thread}, or null when the row is too long for registers.
     */
    static int[] vecPlan(long L, int elemBytes) {
        long packs = L * elemBytes / 16;
        if (packs <= 32L * VWARP_MAX_PACKS) return new int[] {32, pow2AtLeast((packs + 31) / 32)};
        // Around four packs per thread: enough loads in flight, few registers, a block of at most 512.
        int threads = (int) Math.max(64, Math.min(VBLOCK_MAX_THREADS, pow2AtLeast((packs + 3) / 4)));
        int p = Math.max(2, pow2AtLeast((packs + threads - 1) / threads));  // vblock is built for P >= 2
        return p <= VEC_MAX_PACKS ? new int[] {threads, p} : null;
    }

    /** Packs per thread softmax_fwd_vstage_ keeps in registers (SV2_REG_PACKS in kernels/cu/softmax_vec2.cuh). */
    static final int STAGE_REG_PACKS = 4;
    /** Rows of more packs than this take softmax_fwd_vstage_ under VEC2; shorter ones VEC's kernels (99-101% in run 3). */
    static final long STAGE_MIN_PACKS = 2048;
    /** Shared memory kept free for a vstage block's static arrays (block_ms: 272 B) under the per-block limit. */
    static final int STAGE_STATIC_RESERVE = 1024;

    /**
     * softmax_fwd_vstage_'s launch for rows of L elements of elemBytes: {threads per row, packs per thread staged
     * in shared memory}, given the most dynamic shared memory a block may have; null when the row is short enough
     * for VEC's kernels, of F64 (not built), or too long even for 1024 threads.
     */
    static int[] stagePlan(long L, int elemBytes, long maxDynamicShared) {
        long packs = L * elemBytes / 16;
        if (packs <= STAGE_MIN_PACKS || elemBytes == 8) return null;
        // 256 threads: four blocks per SM by registers (62 each); 1024 when 256 threads x the staging would
        // exceed the shared memory a block may have
        for (int threads : new int[] {256, 1024}) {
            long staged = Math.max(0, (packs - (long) threads * STAGE_REG_PACKS + threads - 1) / threads);
            if (staged * threads * 16 <= maxDynamicShared) return new int[] {threads, (int) staged};
        }
        return null;
    }

    private static int pow2AtLeast(long v) {
        int p = 1;
        while (p < v) p <<= 1;
        return p;
    }

    /** Whether rows of x and out (unit stride along dim) suit the VEC kernels: whole packs, 16-byte aligned rows. */
    private static boolean vecFits(DevArray x, DevArray out, int dim, long L) {
        int es = x.dtype().byteSize(), v = 16 / es;
        if (L % v != 0 || (x.address() & 15) != 0 || (out.address() & 15) != 0) return false;
        for (int d = 0; d < x.rank(); d++) {
            if (d == dim || x.shape()[d] == 1) continue;
            if (x.strides()[d] % v != 0 || out.strides()[d] % v != 0) return false;
        }
        return true;
    }

    private CudaSoftmax() {}

    /** Shape and strides of every dim but dim. */
    private static long[] without(long[] a, int dim) {
        if (a.length == 0) return a;
        long[] r = new long[a.length - 1];
        for (int i = 0, j = 0; i < a.length; i++) if (i != dim) r[j++] = a[i];
        return r;
    }

    private static void requireFloating(String op, DType t) {
        if (!t.isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + t);
    }

    static void forward(CudaDevice dev, DevArray x, int dim, boolean log, DevArray out) {
        String op = log ? "logSoftmax" : "softmax";
        requireFloating(op, x.dtype());
        if (out.dtype() != x.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, x.dtype(), out.shape())) {
                forward(dev, x, dim, log, t.array);
                CudaElementwise.copy(dev, t.array, out);
            }
            return;
        }
        boolean scalar = x.rank() == 0;
        long L = scalar ? 1 : x.shape()[dim];
        long xs = scalar ? 1 : x.strides()[dim], os = scalar ? 1 : out.strides()[dim];
        Geometry outer = Geometry.of(op, without(x.shape(), dim), without(out.strides(), dim), without(x.strides(), dim));
        if (outer.numel == 0 || L == 0) return;
        long stream = dev.enter();
        int t = x.dtype().ordinal();
        if (L == 1) xs = os = 1;
        boolean vecOk = xs == 1 && os == 1 && variant() != Variant.BASE && vecFits(x, out, dim, L);
        if (vecOk && variant() == Variant.VEC2 && stage(dev, x, out, outer, L, log, stream)) return;
        int[] plan = vecOk ? vecPlan(L, x.dtype().byteSize()) : null;
        if (plan != null) {
            String sfx = KernelCodes.suffix(x.dtype()) + "_p" + plan[1];
            boolean warp = plan[0] == 32;
            KernelArgs.start().geom(outer).i64(L).ptr(x.address()).ptr(out.address()).i32(log ? 1 : 0)
                    .launch(dev.gpu.function((warp ? "softmax_fwd_vwarp_" : "softmax_fwd_vblock_") + sfx),
                            warp ? (outer.numel + 7) / 8 : outer.numel, warp ? 256 : plan[0], stream);
        } else if (xs == 1 && os == 1) {
            if (L <= WARP_MAX) {
                KernelArgs.start().geom(outer).i64(L).ptr(x.address()).ptr(out.address()).i32(log ? 1 : 0)
                        .launch(dev.gpu.function(FWD_WARP[t]), (outer.numel + 3) / 4, 128, stream);
            } else {
                KernelArgs.start().geom(outer).i64(L).ptr(x.address()).ptr(out.address()).i32(log ? 1 : 0)
                        .launch(dev.gpu.function(FWD_BLOCK[t]), outer.numel, L >= 8192 ? 1024 : 512, stream);
            }
        } else {
            KernelArgs.start().geom(outer).i64(L).i64(os).i64(xs).ptr(x.address()).ptr(out.address()).i32(log ? 1 : 0)
                    .launch(dev.gpu.function(FWD_COLS[t]), dev.grid(outer.numel, 256), 256, stream);
        }
    }

    /** VEC2's long-row kernel, when stagePlan takes the row; false otherwise (the caller goes on with VEC's). */
    private static boolean stage(CudaDevice dev, DevArray x, DevArray out, Geometry outer, long L, boolean log, long stream) {
        // the kernel finds a row's offsets by one multiply, or by 32-bit divisions when there are more kept dims
        if (outer.rank > 1 && !outer.fits32()) return false;
        long maxDynamic = (long) dev.gpu.maxSharedPerBlockOptin - STAGE_STATIC_RESERVE;
        int[] plan = stagePlan(L, x.dtype().byteSize(), maxDynamic);
        if (plan == null) return false;
        int threads = plan[0], staged = plan[1];
        String kernel = "softmax_fwd_vstage_" + KernelCodes.suffix(x.dtype());
        // One limit per kernel (the largest), so that launches with different staging sizes never lower it.
        long fn = dev.gpu.functionWithSharedMemory(kernel, (int) maxDynamic);
        KernelArgs.start().geom(outer).i64(L).i32(staged).ptr(x.address()).ptr(out.address()).i32(log ? 1 : 0)
                .launch(fn, outer.numel, 1, 1, threads, staged * threads * 16, stream);
        return true;
    }

    static void backward(CudaDevice dev, DevArray y, DevArray gy, int dim, boolean log, DevArray gx) {
        String op = log ? "logSoftmaxBackward" : "softmaxBackward";
        requireFloating(op, y.dtype());
        if (gy.dtype() != y.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, y.dtype(), gy.shape())) {
                CudaElementwise.copy(dev, gy, t.array);
                backward(dev, y, t.array, dim, log, gx);
            }
            return;
        }
        if (gx.dtype() != y.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, y.dtype(), gx.shape())) {
                backward(dev, y, gy, dim, log, t.array);
                CudaElementwise.copy(dev, t.array, gx);
            }
            return;
        }
        boolean scalar = y.rank() == 0;
        long L = scalar ? 1 : y.shape()[dim];
        long gxs = scalar ? 1 : gx.strides()[dim], ys = scalar ? 1 : y.strides()[dim], gys = scalar ? 1 : gy.strides()[dim];
        Geometry outer = Geometry.of(op, without(y.shape(), dim), without(gx.strides(), dim), without(y.strides(), dim),
                without(gy.strides(), dim));
        if (outer.numel == 0 || L == 0) return;
        long stream = dev.enter();
        int t = y.dtype().ordinal();
        if (L == 1) gxs = ys = gys = 1;
        if (gxs == 1 && ys == 1 && gys == 1) {
            String k = L <= WARP_MAX ? BWD_WARP[t] : BWD_BLOCK[t];
            long grid = L <= WARP_MAX ? (outer.numel + 3) / 4 : outer.numel;
            int block = L <= WARP_MAX ? 128 : (L >= 8192 ? 1024 : 512);
            KernelArgs.start().geom(outer).i64(L).ptr(y.address()).ptr(gy.address()).ptr(gx.address()).i32(log ? 1 : 0)
                    .launch(dev.gpu.function(k), grid, block, stream);
        } else {
            KernelArgs.start().geom(outer).i64(L).i64(gxs).i64(ys).i64(gys).ptr(y.address()).ptr(gy.address()).ptr(gx.address())
                    .i32(log ? 1 : 0).launch(dev.gpu.function(BWD_COLS[t]), dev.grid(outer.numel, 256), 256, stream);
        }
    }
}
