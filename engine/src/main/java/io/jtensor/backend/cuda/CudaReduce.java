package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.backend.ReduceOp;
import java.util.Arrays;

/**
 * Reductions (kernels/cu/reduce.cu). Splits x's dims into kept ones (walked by output element) and reduced ones,
 * picks one block per output ("rows", when the reduced elements are contiguous) or one thread per output ("cols"),
 * and splits the reduced range over several blocks when there are too few outputs to fill the GPU.
 */
final class CudaReduce {
    private static final String[] ROWS = KernelCodes.names("reduce_rows_");
    private static final String[] COLS = KernelCodes.names("reduce_cols_");
    private static final String[] COMBINE = KernelCodes.names("reduce_combine_");
    private static final String[] VWARP = KernelCodes.names("reduce_vwarp_");
    private static final String[] VBLOCK = KernelCodes.names("reduce_vblock_");
    private static final String[] VCOMBINE = KernelCodes.names("reduce_vcombine_");
    /** reduce_v2rows_<dt>_g<G>, by G = 4, 8, 16, 32 (index log2(G) - 2) and dtype. */
    private static final String[][] V2ROWS = new String[4][];
    static {
        for (int i = 0; i < 4; i++) {
            int g = 4 << i;
            V2ROWS[i] = KernelCodes.names("reduce_v2rows_");
            for (int t = 0; t < V2ROWS[i].length; t++) V2ROWS[i][t] += "_g" + g;
        }
    }

    /**
     * Which kernels reduce contiguous runs: BASE (reduce_rows_: one element per load, a block per row), VEC
     * (reduce_v*: 16-byte loads, four in flight, a warp per row for many rows, split blocks combined in parallel
     * for few), or VEC2: VEC, except that many aligned rows of a floating dtype reduced by SUM, or by MAX/MIN
     * without indices, go to reduce_v2rows_ (a one-instruction step instead of the index-tracking one; 4 to 32
     * lanes per row so that short rows still give each lane ~4 loads; a capped grid striding over the rows). Set
     * by {@code -Djtensor.cuda.variant.reduce=base|vec|vec2} (default vec: VEC2 waits for a GPU run) or
     * {@link #setVariant}.
     */
    enum Variant { BASE, VEC, VEC2 }

    private static final KernelVariant<Variant> VARIANT = new KernelVariant<>("jtensor.cuda.variant.reduce", Variant.VEC);

    static Variant variant() { return VARIANT.get(); }

    static void setVariant(Variant v) { VARIANT.set(v); }
    /** Bytes of one partial state (RAcc: value, sum, index) for every dtype. */
    private static final int PARTIAL_BYTES = 24;

    private CudaReduce() {}

    static DType outDType(ReduceOp op, DType in) {
        return switch (op) {
            case SUM, PROD -> in.isFloating() ? in : DType.I64;
            case ARGMAX, ARGMIN -> DType.I64;
            case ANY, ALL -> DType.BOOL;
            default -> in;
        };
    }

    static void reduce(CudaDevice dev, ReduceOp op, DevArray x, int[] dims, DevArray out, DevArray indices) {
        String name = op.name().toLowerCase();
        if (op == ReduceOp.LOGSUMEXP && !x.dtype().isFloating()) {
            throw new IllegalArgumentException("logsumexp: expected a floating input, got " + x.dtype());
        }
        DType want = outDType(op, x.dtype());
        boolean outOk = out.dtype() == want && out.isContiguous() && Arrays.equals(out.shape(), keptShape(x.shape(), dims));
        boolean idxOk = indices == null || (indices.dtype() == DType.I64 && indices.isContiguous());
        if (!outOk || !idxOk) {
            long[] kept = keptShape(x.shape(), dims);
            if (out.numel() != io.jtensor.Shapes.numel(kept)) {
                throw new IllegalArgumentException(name + ": out " + Arrays.toString(out.shape()) + " does not match x "
                        + Arrays.toString(x.shape()) + " reduced over " + Arrays.toString(dims));
            }
            try (DevArray.Temp t = new DevArray.Temp(dev, want, kept);
                 DevArray.Temp ti = new DevArray.Temp(dev, DType.I64, indices == null ? new long[] {0} : kept)) {
                reduce(dev, op, x, dims, t.array, indices == null ? null : ti.array);
                CudaElementwise.copy(dev, t.array, out.view(kept, stridesFor(out, kept)));
                if (indices != null) CudaElementwise.copy(dev, ti.array, indices.view(kept, stridesFor(indices, kept)));
            }
            return;
        }
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        for (int d : dims) reduced[d] = true;
        int nk = 0, nr = 0;
        for (int d = 0; d < rank; d++) if (reduced[d]) nr++; else nk++;
        long[] kShape = new long[nk], kOut = new long[nk], kX = new long[nk];
        long[] rShape = new long[nr], rX = new long[nr];
        long[] xs = x.strides(), os = out.strides();
        for (int d = 0, k = 0, r = 0; d < rank; d++) {
            if (reduced[d]) {
                rShape[r] = x.shape()[d];
                rX[r++] = xs[d];
            } else {
                kShape[k] = x.shape()[d];
                kOut[k] = os[d];
                kX[k++] = xs[d];
            }
        }
        Geometry outer = Geometry.of(name, kShape, kOut, kX);
        Geometry inner = Geometry.of(name, rShape, rX);
        long outN = outer.numel, innerN = inner.numel;
        if (outN == 0) return;
        long stream = dev.enter();
        int sms = dev.gpu.multiprocessors;
        boolean innerContiguous = inner.rank == 0 || (inner.rank == 1 && inner.strides[0][0] == 1);
        boolean rows = innerContiguous && innerN >= 64;
        if (rows && variant() != Variant.BASE && x.dtype() != DType.BOOL && x.dtype() != DType.U8) {
            if (variant() == Variant.VEC2 && vec2(dev, op, x, outer, innerN, out, indices, stream)) return;
            vec(dev, op, x, outer, innerN, out, indices, stream);
            return;
        }
        int splits = 1;
        int block;
        long gridX;
        if (rows) {
            block = innerN >= 1024 ? 256 : innerN >= 256 ? 128 : 64;
            // enough blocks for a full GPU (8 per SM of 256 threads), each still folding >= 4096 elements
            if (outN < 2L * sms && innerN >= 8192) splits = (int) Math.min(Math.min((8L * sms + outN - 1) / outN, innerN / 4096), 1024);
            gridX = outN;
        } else {
            block = 256;
            long threadsWanted = (long) sms * 1024;
            if (outN < threadsWanted && innerN >= 256) splits = (int) Math.max(1, Math.min(Math.min(threadsWanted / outN, innerN / 64), 1024));
            gridX = (outN + block - 1) / block;
        }
        if (gridX > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": too many outputs (" + outN + ")");
        int op_ = KernelCodes.reduce(op);
        long idx = indices == null ? 0 : indices.address();
        if (splits == 1) {
            KernelArgs.start().i32(op_).geom(outer).geom(inner).ptr(x.address()).ptr(out.address()).ptr(idx).ptr(0).i32(1)
                    .launch(dev.gpu.function((rows ? ROWS : COLS)[x.dtype().ordinal()]), gridX, 1, 1, block, 0, stream);
            return;
        }
        try (CudaDevice.DeviceBuffer partial = dev.temp(outN * splits * PARTIAL_BYTES)) {
            KernelArgs.start().i32(op_).geom(outer).geom(inner).ptr(x.address()).ptr(out.address()).ptr(idx).ptr(partial.address).i32(splits)
                    .launch(dev.gpu.function((rows ? ROWS : COLS)[x.dtype().ordinal()]), gridX, splits, 1, block, 0, stream);
            KernelArgs.start().i32(op_).geom(outer).ptr(partial.address).i32(splits).ptr(out.address()).ptr(idx)
                    .launch(dev.gpu.function(COMBINE[x.dtype().ordinal()]), dev.grid(outN, 256), 256, stream);
        }
    }

    /** Rows this long or shorter go one warp per row when there are enough of them to fill the GPU. */
    static final long VWARP_MAX_ROW = 32768;
    /** The fewest elements one split block folds. */
    static final long VSPLIT_MIN = 16384;

    /**
     * Grid for the VEC kernels over outN rows of n contiguous elements: {0, blocks} for a warp per row (8 rows per
     * block), or {splits, outN} for blocks of 512 each folding a contiguous chunk of a row.
     */
    static long[] vecPlan(long outN, long n, int sms) {
        if (outN >= 32L * sms && n <= VWARP_MAX_ROW) return new long[] {0, (outN + 7) / 8};
        // Blocks for ~16 waves of 512-thread blocks, so that the last, partial wave costs little.
        long want = 16L * sms;
        long splits = outN >= want ? 1 : Math.min((want + outN - 1) / outN, Math.max(1, n / VSPLIT_MIN));
        return new long[] {Math.min(splits, 65535), outN};
    }

    private static void vec(CudaDevice dev, ReduceOp op, DevArray x, Geometry outer, long n, DevArray out, DevArray indices, long stream) {
        int t = x.dtype().ordinal(), op_ = KernelCodes.reduce(op);
        long idx = indices == null ? 0 : indices.address();
        long[] plan = vecPlan(outer.numel, n, dev.gpu.multiprocessors);
        if (plan[0] == 0) {
            KernelArgs.start().i32(op_).geom(outer).i64(n).ptr(x.address()).ptr(out.address()).ptr(idx)
                    .launch(dev.gpu.function(VWARP[t]), plan[1], 256, stream);
            return;
        }
        int splits = (int) plan[0];
        if (outer.numel > Integer.MAX_VALUE) throw new IllegalArgumentException(op.name().toLowerCase() + ": too many outputs (" + outer.numel + ")");
        int block = n >= 8192 ? 512 : 256;
        if (splits == 1) {
            KernelArgs.start().i32(op_).geom(outer).i64(n).ptr(x.address()).ptr(out.address()).ptr(idx).ptr(0)
                    .launch(dev.gpu.function(VBLOCK[t]), outer.numel, 1, 1, block, 0, stream);
            return;
        }
        try (CudaDevice.DeviceBuffer partial = dev.temp(outer.numel * splits * PARTIAL_BYTES)) {
            KernelArgs.start().i32(op_).geom(outer).i64(n).ptr(x.address()).ptr(out.address()).ptr(idx).ptr(partial.address)
                    .launch(dev.gpu.function(VBLOCK[t]), outer.numel, splits, 1, block, 0, stream);
            KernelArgs.start().i32(op_).geom(outer).ptr(partial.address).i32(splits).ptr(out.address()).ptr(idx)
                    .launch(dev.gpu.function(VCOMBINE[t]), outer.numel, 256, stream);
        }
    }

    /** Most blocks (of 256) per SM for reduce_v2rows_: several waves, the warps striding over the rest. */
    static final int V2_BLOCKS_PER_SM = 64;

    /**
     * Lanes per row for reduce_v2rows_ over rows of n elements of elemBytes: the most of 4, 8, 16, 32 that still
     * leaves every lane at least four 16-byte packs (the loads it has in flight at once), at least 4.
     */
    static int v2Lanes(long n, int elemBytes) {
        long packs = n * elemBytes / 16;
        int g = 4;
        while (g < 32 && packs >= 8L * g) g <<= 1;
        return g;
    }

    /**
     * {lanes per row, blocks of 256} for reduce_v2rows_ over outN rows of n elements, or null when the rows are
     * too few to fill the GPU at a warp per row or longer than a warp-per-row kernel should take (VEC's plans).
     */
    static long[] v2Plan(long outN, long n, int elemBytes, int sms) {
        if (outN < 32L * sms || n > VWARP_MAX_ROW || n < 1) return null;
        int g = v2Lanes(n, elemBytes);
        long rowsPerStep = 8L * (32 / g);  // 8 warps of 32 / g rows
        return new long[] {g, Math.min((outN + rowsPerStep - 1) / rowsPerStep, (long) V2_BLOCKS_PER_SM * sms)};
    }

    /**
     * The VEC2 path (reduce_v2rows_), when it applies: SUM, or MAX/MIN without indices, of a floating dtype, over
     * rows at one stride (the kept dims merged into one) that all start on a 16-byte boundary; false otherwise.
     */
    private static boolean vec2(CudaDevice dev, ReduceOp op, DevArray x, Geometry outer, long n, DevArray out, DevArray indices, long stream) {
        boolean fastOp = op == ReduceOp.SUM || ((op == ReduceOp.MAX || op == ReduceOp.MIN) && indices == null);
        if (!fastOp || !x.dtype().isFloating() || outer.rank > 1) return false;
        int es = x.dtype().byteSize();
        boolean aligned = (x.address() & 15) == 0 && (outer.rank == 0 || (outer.strides[1][0] * es) % 16 == 0);
        long[] plan = aligned ? v2Plan(outer.numel, n, es, dev.gpu.multiprocessors) : null;
        if (plan == null) return false;
        int lanesIndex = Integer.numberOfTrailingZeros((int) plan[0]) - 2;
        KernelArgs.start().i32(KernelCodes.reduce(op)).geom(outer).i64(n).ptr(x.address()).ptr(out.address())
                .launch(dev.gpu.function(V2ROWS[lanesIndex][x.dtype().ordinal()]), plan[1], 256, stream);
        return true;
    }

    static long[] keptShape(long[] shape, int[] dims) {
        long[] k = shape.clone();
        for (int d : dims) k[d] = 1;
        return k;
    }

    /** Strides to view a's memory with shape kept (same element count), assuming a is contiguous or kept-shaped. */
    private static long[] stridesFor(DevArray a, long[] kept) {
        if (Arrays.equals(a.shape(), kept)) return a.strides();
        if (a.isContiguous()) return io.jtensor.Shapes.contiguousStrides(kept);
        throw new IllegalArgumentException("reduce: out of shape " + Arrays.toString(a.shape()) + " is neither the kept shape "
                + Arrays.toString(kept) + " nor contiguous");
    }
}
