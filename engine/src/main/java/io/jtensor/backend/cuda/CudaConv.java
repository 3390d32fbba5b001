package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ConvParams;
import io.jtensor.backend.ReduceOp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * 2-D convolution and its two gradients on the GPU, by jtensor's own kernels or by cuDNN ({@link CudnnConv}). Which
 * one: per call ({@link #conv2d(NDArray, NDArray, NDArray, ConvParams, Impl)} and the two gradients), or for every
 * call ({@link #setDefault}, initially from {@code -Djtensor.cuda.conv=jtensor|cudnn}, default jtensor, which never
 * loads cuDNN). Empty convolutions always take our kernels (cuDNN rejects zero-sized tensors).
 *
 * <p>Our kernels: im2col + GEMM, col2im for the input gradient. The column buffer holds rows
 * r = (c*KH + kh)*KW + kw, then the batch item, then the output position: cols[r][n][l]. The batch is processed
 * in chunks so that this buffer stays under {@link #COLS_BUDGET} bytes. Their GEMMs follow {@link CudaGemm}'s choice.
 * The weight gradient's product has a small output and a long K (every image's positions); with {@link #setSplitK}
 * it is cut over K into slices that fill the GPU ({@link SplitK}).
 */
public final class CudaConv {
    /** Who computes a convolution. */
    public enum Impl { JTENSOR, CUDNN }

    public static final String PROPERTY = "jtensor.cuda.conv";
    private static volatile Impl defaultImpl = parse(System.getProperty(PROPERTY));

    static final long COLS_BUDGET = 256L << 20;
    private static volatile long colsBudget = COLS_BUDGET;
    /** At most this many bytes of partial weight gradients when the product is split over K ({@link SplitK}). */
    static final long PARTS_BUDGET = 64L << 20;
    public static final String SPLIT_K_PROPERTY = "jtensor.cuda.conv.splitK";
    private static volatile boolean splitK = Boolean.getBoolean(SPLIT_K_PROPERTY);
    private static final String[] IM2COL = KernelCodes.widthNames("conv_im2col_");
    private static final String[] COL2IM = KernelCodes.names("conv_col2im_");
    private static final int GEOM_BYTES = 144;

    private CudaConv() {}

    /** The value of -Djtensor.cuda.conv: jtensor (or unset, or empty) or cudnn, in any case. */
    static Impl parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "cudnn" -> Impl.CUDNN;
            case "jtensor", "" -> Impl.JTENSOR;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + ": expected jtensor or cudnn, got '" + value + "'");
        };
    }

    public static Impl getDefault() { return defaultImpl; }

    /**
     * Whether our weight gradient splits a product with a small output over K ({@link SplitK}); initially
     * -Djtensor.cuda.conv.splitK (default false until a GPU run has measured it against the single product).
     */
    public static boolean splitK() { return splitK; }

    public static void setSplitK(boolean on) { splitK = on; }

    /** Sets the column buffer's budget (tests force the batch into chunks with it); returns the previous one. */
    static long setColumnBudget(long bytes) {
        long before = colsBudget;
        colsBudget = bytes;
        return before;
    }

    /**
     * Sets who computes convolutions from now on. Choosing CUDNN loads cuDNN first and fails, saying where it was
     * looked for, when it cannot be loaded (the choice is then left as it was).
     */
    public static void setDefault(Impl impl) {
        java.util.Objects.requireNonNull(impl, "impl");
        if (impl == Impl.CUDNN) CudnnConv.requireAvailable("CudaConv.setDefault(CUDNN)");
        defaultImpl = impl;
    }

    /** cuDNN when impl asks for it and the convolution is not empty; fails clearly when cuDNN cannot be loaded. */
    private static boolean useCudnn(Impl impl, String op, long... sizes) {
        if (impl != Impl.CUDNN || !CudnnConv.takes(sizes)) return false;
        CudnnConv.requireAvailable(op + " (-D" + PROPERTY + "=cudnn or CudaConv.setDefault(CUDNN))");
        return true;
    }

    /** Backend.conv2d's contract computed by impl. */
    public static void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p, Impl impl) {
        conv2d(Backends.cuda().device(out.device()), DevArray.of(x), DevArray.of(w), DevArray.of(out), p, impl);
    }

    /** Backend.conv2dBackwardInput's contract computed by impl. */
    public static void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p, Impl impl) {
        backwardInput(Backends.cuda().device(gradIn.device()), DevArray.of(gradOut), DevArray.of(w), DevArray.of(gradIn), p, impl);
    }

    /** Backend.conv2dBackwardWeight's contract computed by impl. */
    public static void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p, Impl impl) {
        backwardWeight(Backends.cuda().device(gradW.device()), DevArray.of(x), DevArray.of(gradOut), DevArray.of(gradW), p, impl);
    }

    /** The sizes of one convolution. */
    record Dims(long N, long C, long H, long W, long O, long KH, long KW, long OH, long OW, int groups) {
        long L() { return OH * OW; }
        long Og() { return O / groups; }
        long CKK() { return C / groups * KH * KW; }
        long R() { return C * KH * KW; }

        long chunk(DType t) {
            long perItem = Math.max(1, R() * L() * t.byteSize());
            return Math.max(1, Math.min(N, colsBudget / perItem));
        }
    }

    private static Dims dims(DevArray x, DevArray w, long OH, long OW, ConvParams p) {
        long[] xs = x.shape(), ws = w.shape();
        return new Dims(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], OH, OW, p.groups());
    }

    private static void check(String op, DevArray... arrays) {
        DType t = arrays[0].dtype();
        for (DevArray a : arrays) {
            if (a.rank() != 4) throw new IllegalArgumentException(op + ": expected 4-D arrays, got rank " + a.rank());
            if (a.dtype() != t) throw new IllegalArgumentException(op + ": dtypes differ: " + t + " and " + a.dtype());
        }
        if (!t.isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + t);
    }

    private static void packGeom(MemorySegment s, Dims d, long n, ConvParams p, long[] xs, long rowStride) {
        long[] l = {n, d.C(), d.H(), d.W(), d.OH(), d.OW()};
        for (int i = 0; i < 6; i++) s.set(ValueLayout.JAVA_LONG, 8L * i, l[i]);
        int[] ints = {(int) d.KH(), (int) d.KW(), p.strideH(), p.strideW(), p.padH(), p.padW(), p.dilationH(), p.dilationW()};
        for (int i = 0; i < 8; i++) s.set(ValueLayout.JAVA_INT, 48 + 4L * i, ints[i]);
        for (int i = 0; i < 4; i++) s.set(ValueLayout.JAVA_LONG, 80 + 8L * i, xs[i]);
        s.set(ValueLayout.JAVA_LONG, 112, rowStride);
        s.set(ValueLayout.JAVA_LONG, 120, d.L());
    }

    /** cols[r][n][l] for the batch items n0 .. n0+n-1 of x. */
    private static void im2col(CudaDevice dev, DevArray x, Dims d, ConvParams p, long n0, long n, long cols) {
        long stream = dev.enter();
        long[] xs = x.strides();
        KernelArgs a = KernelArgs.start();
        packGeom(a.struct(GEOM_BYTES), d, n, p, xs, n * d.L());
        a.ptr(x.address() + n0 * xs[0] * x.dtype().byteSize()).ptr(cols)
                .launch(dev.gpu.function(IM2COL[x.dtype().ordinal()]), dev.grid(d.R() * n * d.L(), 256), 256, stream);
    }

    private static DevArray contiguous(CudaDevice dev, DevArray a, DevArray.Temp[] holder) {
        if (a.isContiguous()) return a;
        holder[0] = new DevArray.Temp(dev, a.dtype(), a.shape());
        CudaElementwise.copy(dev, a, holder[0].array);
        return holder[0].array;
    }

    /**
     * What the three directions share: cuDNN when impl asks for it (and the convolution is not empty); otherwise ours,
     * which computes into a contiguous output: out itself, or a temporary then copied into out.
     */
    private static void dispatch(CudaDevice dev, String op, Impl impl, DevArray out, long[] sizes, Runnable cudnn,
                                 java.util.function.Consumer<DevArray> ours) {
        if (useCudnn(impl, op, sizes)) {
            cudnn.run();
            return;
        }
        if (out.isContiguous()) {
            ours.accept(out);
            return;
        }
        try (DevArray.Temp t = new DevArray.Temp(dev, out.dtype(), out.shape())) {
            ours.accept(t.array);
            CudaElementwise.copy(dev, t.array, out);
        }
    }

    static void conv2d(CudaDevice dev, DevArray x, DevArray w, DevArray out, ConvParams p) {
        conv2d(dev, x, w, out, p, defaultImpl);
    }

    static void conv2d(CudaDevice dev, DevArray x, DevArray w, DevArray out, ConvParams p, Impl impl) {
        check("conv2d", x, w, out);
        dispatch(dev, "conv2d", impl, out, new long[] {out.numel(), x.numel(), w.numel()},
                () -> CudnnConv.forward(dev, x, w, out, p), o -> forward(dev, x, w, o, p));
    }

    private static void forward(CudaDevice dev, DevArray x, DevArray w, DevArray out, ConvParams p) {
        DevArray.Temp[] wHold = new DevArray.Temp[1];
        try {
            DevArray wc = contiguous(dev, w, wHold);
            Dims d = dims(x, wc, out.shape()[2], out.shape()[3], p);
            if (d.N() == 0 || d.O() == 0 || d.L() == 0) return;
            DType t = x.dtype();
            long es = t.byteSize();
            long nc = d.chunk(t);
            CudaGemm.Impl gemm = CudaGemm.getDefault();
            try (CudaDevice.DeviceBuffer cols = dev.temp(d.R() * nc * d.L() * es)) {
                for (long n0 = 0; n0 < d.N(); n0 += nc) {
                    long n = Math.min(nc, d.N() - n0);
                    long rowStride = n * d.L();
                    im2col(dev, x, d, p, n0, n, cols.address);
                    for (int g = 0; g < d.groups(); g++) {
                        CudaGemm.gemm(dev, gemm, t, n, d.Og(), d.L(), d.CKK(),
                                wc.address() + g * d.Og() * d.CKK() * es, 0, d.CKK(), 1,
                                cols.address + g * d.CKK() * rowStride * es, d.L(), rowStride, 1,
                                out.address() + (n0 * d.O() + g * d.Og()) * d.L() * es, d.O() * d.L(), d.L());
                    }
                }
            }
        } finally {
            if (wHold[0] != null) wHold[0].close();
        }
    }

    static void backwardInput(CudaDevice dev, DevArray gradOut, DevArray w, DevArray gradIn, ConvParams p) {
        backwardInput(dev, gradOut, w, gradIn, p, defaultImpl);
    }

    static void backwardInput(CudaDevice dev, DevArray gradOut, DevArray w, DevArray gradIn, ConvParams p, Impl impl) {
        check("conv2dBackwardInput", gradOut, w, gradIn);
        dispatch(dev, "conv2dBackwardInput", impl, gradIn, new long[] {gradIn.numel(), gradOut.numel(), w.numel()},
                () -> CudnnConv.backwardData(dev, gradOut, w, gradIn, p), gi -> backwardInputOurs(dev, gradOut, w, gi, p));
    }

    private static void backwardInputOurs(CudaDevice dev, DevArray gradOut, DevArray w, DevArray gradIn, ConvParams p) {
        DevArray.Temp[] wHold = new DevArray.Temp[1], gHold = new DevArray.Temp[1];
        try {
            DevArray wc = contiguous(dev, w, wHold);
            long[] gs = gradOut.strides(), gsh = gradOut.shape();
            DevArray go = (gsh[2] == 1 || gsh[3] == 1 || gs[2] == gsh[3] * gs[3]) ? gradOut : contiguous(dev, gradOut, gHold);
            gs = go.strides();
            Dims d = new Dims(gradIn.shape()[0], gradIn.shape()[1], gradIn.shape()[2], gradIn.shape()[3], wc.shape()[0],
                    wc.shape()[2], wc.shape()[3], gsh[2], gsh[3], p.groups());
            if (d.N() == 0 || d.C() == 0) return;
            DType t = gradIn.dtype();
            long es = t.byteSize();
            long lStride = gsh[3] == 1 ? (gsh[2] == 1 ? 1 : gs[2]) : gs[3];
            long nc = d.chunk(t);
            CudaGemm.Impl gemm = CudaGemm.getDefault();
            try (CudaDevice.DeviceBuffer cols = dev.temp(d.R() * nc * d.L() * es)) {
                for (long n0 = 0; n0 < d.N(); n0 += nc) {
                    long n = Math.min(nc, d.N() - n0);
                    long rowStride = n * d.L();
                    if (d.L() > 0 && d.O() > 0) {
                        for (int g = 0; g < d.groups(); g++) {
                            // gradCols_g[n] (CKK x L) = W_g^T (CKK x Og) * gradOut[n, g] (Og x L)
                            CudaGemm.gemm(dev, gemm, t, n, d.CKK(), d.L(), d.Og(),
                                    wc.address() + g * d.Og() * d.CKK() * es, 0, 1, d.CKK(),
                                    go.address() + (n0 * gs[0] + g * d.Og() * gs[1]) * es, gs[0], gs[1], lStride,
                                    cols.address + g * d.CKK() * rowStride * es, d.L(), rowStride);
                        }
                    } else {
                        CudaElementwise.fill(dev, DevArray.contiguous(cols.address, t, d.R() * rowStride), 0);
                    }
                    long stream = dev.enter();
                    KernelArgs a = KernelArgs.start();
                    packGeom(a.struct(GEOM_BYTES), d, n, p, new long[4], rowStride);
                    a.ptr(cols.address).ptr(gradIn.address() + n0 * d.C() * d.H() * d.W() * es)
                            .launch(dev.gpu.function(COL2IM[t.ordinal()]), dev.grid(n * d.C() * d.H() * d.W(), 256), 256, stream);
                }
            }
        } finally {
            if (wHold[0] != null) wHold[0].close();
            if (gHold[0] != null) gHold[0].close();
        }
    }

    static void backwardWeight(CudaDevice dev, DevArray x, DevArray gradOut, DevArray gradW, ConvParams p) {
        backwardWeight(dev, x, gradOut, gradW, p, defaultImpl);
    }

    static void backwardWeight(CudaDevice dev, DevArray x, DevArray gradOut, DevArray gradW, ConvParams p, Impl impl) {
        check("conv2dBackwardWeight", x, gradOut, gradW);
        dispatch(dev, "conv2dBackwardWeight", impl, gradW, new long[] {gradW.numel(), x.numel(), gradOut.numel()},
                () -> CudnnConv.backwardFilter(dev, x, gradOut, gradW, p), gw -> backwardWeightOurs(dev, x, gradOut, gw, p));
    }

    private static void backwardWeightOurs(CudaDevice dev, DevArray x, DevArray gradOut, DevArray gradW, ConvParams p) {
        Dims d = dims(x, gradW, gradOut.shape()[2], gradOut.shape()[3], p);
        DType t = x.dtype();
        long es = t.byteSize();
        if (d.N() == 0 || d.L() == 0) {
            CudaElementwise.fill(dev, gradW, 0);
            return;
        }
        long nc = d.chunk(t);
        // the first chunk is the longest: no later chunk's plan has more slices
        SplitK firstSplit = split(dev, d, nc * d.L(), gradW.numel() * es);
        CudaGemm.Impl gemm = CudaGemm.getDefault();
        long[] gs = gradOut.strides();
        boolean chunked = nc < d.N();
        try (CudaDevice.DeviceBuffer cols = dev.temp(d.R() * nc * d.L() * es);
             CudaDevice.DeviceBuffer gop = dev.temp(d.O() * nc * d.L() * es);
             DevArray.Temp partial = new DevArray.Temp(dev, t, chunked ? gradW.shape() : new long[] {1});
             DevArray.Temp parts = new DevArray.Temp(dev, t, firstSplit.slices() > 1 ? new long[] {firstSplit.slices(), gradW.numel()} : new long[] {1})) {
            for (long n0 = 0; n0 < d.N(); n0 += nc) {
                long n = Math.min(nc, d.N() - n0);
                long K = n * d.L();
                im2col(dev, x, d, p, n0, n, cols.address);
                // gradOut[n0.., o, oh, ow] -> gop[o][n][oh][ow], so that each row o is one run of n*L elements.
                DevArray src = new DevArray(gradOut.address() + n0 * gs[0] * es, t, new long[] {d.O(), n, d.OH(), d.OW()},
                        new long[] {gs[1], gs[0], gs[2], gs[3]});
                CudaElementwise.copy(dev, src, DevArray.contiguous(gop.address, t, d.O(), n, d.OH(), d.OW()));
                boolean first = n0 == 0;
                DevArray target = first ? gradW : partial.array;
                weightProduct(deviceOps(dev, gemm, t), t, d, K, gop.address, cols.address, target.address(), parts.array.address(),
                        n == nc ? firstSplit : split(dev, d, K, gradW.numel() * es));
                if (!first) {
                    DevArray gw = DevArray.contiguous(gradW.address(), t, gradW.numel());
                    CudaElementwise.binary(dev, BinaryOp.ADD, gw, DevArray.contiguous(partial.array.address(), t, gradW.numel()), gw);
                }
            }
        }
    }

    private static SplitK split(CudaDevice dev, Dims d, long K, long gradWBytes) {
        if (!splitK) return new SplitK(1, K);
        return SplitK.plan(d.Og(), d.CKK(), K, d.groups(), dev.gpu.multiprocessors, gradWBytes, PARTS_BUDGET);
    }

    /** The device operations {@link #weightProduct} composes; tests put host loops in their place to check its addressing. */
    interface WeightOps {
        /** CudaGemm.gemm's contract: C[b] (M x N, row stride ldc) = A[b] (M x K) * B[b] (K x N), all strides in elements. */
        void gemm(long batch, long M, long N, long K, long a, long sAb, long sAm, long sAk, long b, long sBb, long sBk, long sBn,
                  long c, long sCb, long ldc);

        /** target[i] = sum over s < slices of parts[s * count + i]. */
        void sumSlices(long parts, int slices, long count, long target);
    }

    private static WeightOps deviceOps(CudaDevice dev, CudaGemm.Impl gemm, DType t) {
        return new WeightOps() {
            @Override public void gemm(long batch, long M, long N, long K, long a, long sAb, long sAm, long sAk, long b, long sBb,
                                       long sBk, long sBn, long c, long sCb, long ldc) {
                CudaGemm.gemm(dev, gemm, t, batch, M, N, K, a, sAb, sAm, sAk, b, sBb, sBk, sBn, c, sCb, ldc);
            }

            @Override public void sumSlices(long parts, int slices, long count, long target) {
                CudaReduce.reduce(dev, ReduceOp.SUM, DevArray.contiguous(parts, t, slices, count), new int[] {0},
                        DevArray.contiguous(target, t, count), null);
            }
        };
    }

    /**
     * target (O x CKK, contiguous) = gop_g (Og x K) * cols_g^T (K x CKK) for every group g, where gop's and cols's
     * rows are runs of K elements. Split over K: the slices are one batched GEMM (operands advanced by sliceK per
     * batch item) plus one GEMM for a shorter last slice, into parts[slice] (each O x CKK), then summed into target.
     */
    static void weightProduct(WeightOps ops, DType t, Dims d, long K, long gop, long cols, long target, long parts, SplitK split) {
        long es = t.byteSize(), outElems = d.O() * d.CKK();
        long full = split.fullSlices(K), rest = split.rest(K), sk = split.sliceK();
        boolean whole = split.slices() == 1;
        for (int g = 0; g < d.groups(); g++) {
            long a = gop + g * d.Og() * K * es, b = cols + g * d.CKK() * K * es;
            long c = (whole ? target : parts) + g * d.Og() * d.CKK() * es;
            long step = full > 1 ? sk : 0, cStep = full > 1 ? outElems : 0;  // one product: no batch strides to align
            if (full > 0) ops.gemm(full, d.Og(), d.CKK(), sk, a, step, K, 1, b, step, 1, K, c, cStep, d.CKK());
            if (rest > 0) {
                ops.gemm(1, d.Og(), d.CKK(), rest, a + full * sk * es, 0, K, 1, b + full * sk * es, 0, 1, K, c + full * outElems * es, 0, d.CKK());
            }
        }
        if (!whole) ops.sumSlices(parts, split.slices(), outElems, target);
    }
}
