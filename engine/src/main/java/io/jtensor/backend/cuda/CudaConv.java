package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ConvParams;
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
 */
public final class CudaConv {
    /** Who computes a convolution. */
    public enum Impl { JTENSOR, CUDNN }

    public static final String PROPERTY = "jtensor.cuda.conv";
    private static volatile Impl defaultImpl = parse(System.getProperty(PROPERTY));

    static final long COLS_BUDGET = 256L << 20;
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
    private record Dims(long N, long C, long H, long W, long O, long KH, long KW, long OH, long OW, int groups) {
        long L() { return OH * OW; }
        long Og() { return O / groups; }
        long CKK() { return C / groups * KH * KW; }
        long R() { return C * KH * KW; }

        long chunk(DType t) {
            long perItem = Math.max(1, R() * L() * t.byteSize());
            return Math.max(1, Math.min(N, COLS_BUDGET / perItem));
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

    static void conv2d(CudaDevice dev, DevArray x, DevArray w, DevArray out, ConvParams p) {
        conv2d(dev, x, w, out, p, defaultImpl);
    }

    static void conv2d(CudaDevice dev, DevArray x, DevArray w, DevArray out, ConvParams p, Impl impl) {
        check("conv2d", x, w, out);
        if (useCudnn(impl, "conv2d", out.numel(), x.numel(), w.numel())) {
            CudnnConv.forward(dev, x, w, out, p);
            return;
        }
        if (!out.isContiguous()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, out.dtype(), out.shape())) {
                conv2d(dev, x, w, t.array, p, Impl.JTENSOR);
                CudaElementwise.copy(dev, t.array, out);
            }
            return;
        }
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
        if (useCudnn(impl, "conv2dBackwardInput", gradIn.numel(), gradOut.numel(), w.numel())) {
            CudnnConv.backwardData(dev, gradOut, w, gradIn, p);
            return;
        }
        if (!gradIn.isContiguous()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, gradIn.dtype(), gradIn.shape())) {
                backwardInput(dev, gradOut, w, t.array, p, Impl.JTENSOR);
                CudaElementwise.copy(dev, t.array, gradIn);
            }
            return;
        }
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
        if (useCudnn(impl, "conv2dBackwardWeight", gradW.numel(), x.numel(), gradOut.numel())) {
            CudnnConv.backwardFilter(dev, x, gradOut, gradW, p);
            return;
        }
        if (!gradW.isContiguous()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, gradW.dtype(), gradW.shape())) {
                backwardWeight(dev, x, gradOut, t.array, p, Impl.JTENSOR);
                CudaElementwise.copy(dev, t.array, gradW);
            }
            return;
        }
        Dims d = dims(x, gradW, gradOut.shape()[2], gradOut.shape()[3], p);
        DType t = x.dtype();
        long es = t.byteSize();
        if (d.N() == 0 || d.L() == 0) {
            CudaElementwise.fill(dev, gradW, 0);
            return;
        }
        long nc = d.chunk(t);
        CudaGemm.Impl gemm = CudaGemm.getDefault();
        long[] gs = gradOut.strides();
        try (CudaDevice.DeviceBuffer cols = dev.temp(d.R() * nc * d.L() * es);
             CudaDevice.DeviceBuffer gop = dev.temp(d.O() * nc * d.L() * es);
             DevArray.Temp partial = new DevArray.Temp(dev, t, nc >= d.N() ? new long[] {1} : gradW.shape())) {
            for (long n0 = 0; n0 < d.N(); n0 += nc) {
                long n = Math.min(nc, d.N() - n0);
                long rowStride = n * d.L();
                im2col(dev, x, d, p, n0, n, cols.address);
                // gradOut[n0.., o, oh, ow] -> gop[o][n][oh][ow], so that each row o is one run of n*L elements.
                DevArray src = new DevArray(gradOut.address() + n0 * gs[0] * es, t, new long[] {d.O(), n, d.OH(), d.OW()},
                        new long[] {gs[1], gs[0], gs[2], gs[3]});
                CudaElementwise.copy(dev, src, DevArray.contiguous(gop.address, t, d.O(), n, d.OH(), d.OW()));
                boolean first = n0 == 0;
                long target = first ? gradW.address() : partial.array.address();
                for (int g = 0; g < d.groups(); g++) {
                    // gradW_g (Og x CKK) = gop_g (Og x nL) * cols_g^T (nL x CKK)
                    CudaGemm.gemm(dev, gemm, t, 1, d.Og(), d.CKK(), rowStride,
                            gop.address + g * d.Og() * rowStride * es, 0, rowStride, 1,
                            cols.address + g * d.CKK() * rowStride * es, 0, 1, rowStride,
                            target + g * d.Og() * d.CKK() * es, 0, d.CKK());
                }
                if (!first) {
                    DevArray gw = DevArray.contiguous(gradW.address(), t, gradW.numel());
                    CudaElementwise.binary(dev, BinaryOp.ADD, gw, DevArray.contiguous(partial.array.address(), t, gradW.numel()), gw);
                }
            }
        }
    }
}
