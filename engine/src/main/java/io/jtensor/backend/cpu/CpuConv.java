package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * 2-D convolution and pooling on the CPU (see Backend for the contracts).
 *
 * <p>Convolutions are GEMMs over unfolded images, one per image and group: forward is W[og, ckk] x col[ckk, ohw],
 * the input gradient is W^T x gradOut folded back (col2im), and the weight gradient sums gradOut x col^T over the
 * batch. A 1x1 kernel with stride 1 and no padding skips the unfolding. Images are spread over the cores, each
 * running its GEMMs single-threaded; a batch too small for that lets the GEMM split instead. F16 and BF16 arrays
 * are widened to F32 copies, computed in F32 and rounded once. The gradients overwrite gradIn/gradW.
 */
final class CpuConv {
    private CpuConv() {}

    static void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p) {
        CpuConvGeometry g = CpuConvGeometry.of("conv2d", x.shape(), w.shape(), out.shape(), p);
        checkTypes("conv2d", out, x, w);
        if (out.numel() == 0) return;
        try (CpuConvTemps temps = new CpuConvTemps()) {
            CpuConvTensor xs = CpuConvTensor.of(x).toCompute(4, temps);
            CpuConvTensor ws = CpuConvTensor.of(w).toCompute(1, temps);
            CpuConvTensor os = outputFor(out, temps);
            forward(g, xs, ws, os);
            finish(os, out);
        }
    }

    static void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p) {
        CpuConvGeometry g = CpuConvGeometry.of("conv2dBackwardInput", gradIn.shape(), w.shape(), gradOut.shape(), p);
        checkTypes("conv2dBackwardInput", gradIn, gradOut, w);
        if (gradIn.numel() == 0) return;
        try (CpuConvTemps temps = new CpuConvTemps()) {
            CpuConvTensor gs = CpuConvTensor.of(gradOut).toCompute(2, temps);
            CpuConvTensor ws = CpuConvTensor.of(w).toCompute(1, temps);
            CpuConvTensor is = outputFor(gradIn, temps);
            backwardInput(g, gs, ws, is);
            finish(is, gradIn);
        }
    }

    static void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p) {
        CpuConvGeometry g = CpuConvGeometry.of("conv2dBackwardWeight", x.shape(), gradW.shape(), gradOut.shape(), p);
        checkTypes("conv2dBackwardWeight", gradW, x, gradOut);
        if (gradW.numel() == 0) return;
        try (CpuConvTemps temps = new CpuConvTemps()) {
            CpuConvTensor xs = CpuConvTensor.of(x).toCompute(4, temps);
            CpuConvTensor gs = CpuConvTensor.of(gradOut).toCompute(2, temps);
            backwardWeight(g, xs, gs, CpuConvTensor.of(gradW), temps);
        }
    }

    static void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices) { CpuPool.maxPool2d(x, kH, kW, p, out, indices); }
    static void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn) { CpuPool.maxPool2dBackward(gradOut, indices, gradIn); }
    static void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out) { CpuPool.avgPool2d(x, kH, kW, p, countIncludePad, out); }
    static void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn) { CpuPool.avgPool2dBackward(gradOut, kH, kW, p, countIncludePad, gradIn); }

    // ------------------------------------------------------------------ the three products

    /** out[n, group] = W[group] x unfold(x[n, group]). */
    private static void forward(CpuConvGeometry g, CpuConvTensor x, CpuConvTensor w, CpuConvTensor out) {
        boolean f64 = x.dtype() == DType.F64;
        int es = x.dtype().byteSize(), og = g.og(), cg = g.cg(), ckk = g.ckk(), ohw = g.ohw();
        boolean byImage = splitByImage(g);
        boolean direct = g.pointwise() && x.rowMajorFrom(2);
        boolean wide = CpuConvWide.applies(g, x);
        forImages(g.n(), byImage, n -> {
            for (int gi = 0; gi < g.groups(); gi++) {
                CpuGemmMatrix a = new CpuGemmMatrix(w.seg(), w.off() + (long) gi * og * w.stride(0), w.stride(0), 1, w.dtype());
                long xBase = x.off() + n * x.stride(0) + (long) gi * cg * x.stride(1);
                if (wide) {
                    long cOff = out.off() + ((long) n * g.o() + (long) gi * og) * ohw;
                    CpuConvWide.forward(g, x.seg(), xBase, x.stride(1), x.stride(2), es, f64, a, out.seg(), cOff, !byImage);
                    continue;
                }
                CpuGemmMatrix b;
                if (direct) {
                    b = new CpuGemmMatrix(x.seg(), xBase, x.stride(1), 1, x.dtype());
                } else {
                    MemorySegment col = CpuConvTemps.scratch((long) ckk * ohw * es);
                    CpuConvIm2col.im2col(g, x.seg(), xBase, x.stride(1), x.stride(2), x.stride(3), es, col);
                    b = new CpuGemmMatrix(col, 0, ohw, 1, x.dtype());
                }
                long cOff = out.off() + ((long) n * g.o() + (long) gi * og) * ohw;
                CpuGemm.gemm(f64, 1, og, ohw, ckk, a, 0, b, 0, out.seg(), cOff, ohw, 0, false, !byImage);
            }
        });
    }

    /** gradIn[n, group] = fold(W[group]^T x gradOut[n, group]). */
    private static void backwardInput(CpuConvGeometry g, CpuConvTensor gradOut, CpuConvTensor w, CpuConvTensor gradIn) {
        boolean f64 = gradIn.dtype() == DType.F64;
        int es = gradIn.dtype().byteSize(), og = g.og(), cg = g.cg(), ckk = g.ckk(), ohw = g.ohw(), hw = g.hw();
        boolean byImage = splitByImage(g);
        boolean wide = CpuConvWide.applies(g, gradIn) && CpuConvWide.allFinite(w);
        forImages(g.n(), byImage, n -> {
            for (int gi = 0; gi < g.groups(); gi++) {
                CpuGemmMatrix a = new CpuGemmMatrix(w.seg(), w.off() + (long) gi * og * w.stride(0), 1, w.stride(0), w.dtype());
                long gOff = gradOut.off() + n * gradOut.stride(0) + (long) gi * og * gradOut.stride(1);
                long iBase = gradIn.off() + ((long) n * g.c() + (long) gi * cg) * hw;
                if (wide) {
                    CpuConvWide.backwardInput(g, gradOut.seg(), gOff, gradOut.stride(1), es, f64, a, gradIn.seg(), iBase, !byImage);
                    continue;
                }
                CpuGemmMatrix b = new CpuGemmMatrix(gradOut.seg(), gOff, gradOut.stride(1), 1, gradOut.dtype());
                if (g.pointwise()) {
                    CpuGemm.gemm(f64, 1, cg, hw, og, a, 0, b, 0, gradIn.seg(), iBase, hw, 0, false, !byImage);
                } else {
                    MemorySegment col = CpuConvTemps.scratch((long) ckk * ohw * es);
                    CpuGemm.gemm(f64, 1, ckk, ohw, og, a, 0, b, 0, col, 0, ohw, 0, false, !byImage);
                    CpuConvIm2col.col2im(g, col, gradIn.seg(), iBase, es);
                }
            }
        });
    }

    /**
     * gradW[group] = sum over n of gradOut[n, group] x unfold(x[n, group])^T. Each thread sums its share of the
     * images into its own buffer; the buffers are added in a fixed order, so the result does not depend on timing.
     */
    private static void backwardWeight(CpuConvGeometry g, CpuConvTensor x, CpuConvTensor gradOut, CpuConvTensor gradW, CpuConvTemps temps) {
        DType ct = x.dtype();
        boolean f64 = ct == DType.F64;
        int es = ct.byteSize(), og = g.og(), cg = g.cg(), ckk = g.ckk(), ohw = g.ohw();
        long wSize = (long) g.o() * ckk;
        int want = splitByImage(g) ? Math.min(g.n(), Parallel.THREADS) : 1;
        int per = Math.max(1, (g.n() + want - 1) / want);
        int parts = Math.max(1, (g.n() + per - 1) / per); // every part gets at least one image
        boolean direct = parts == 1 && gradW.dtype() == ct && gradW.rowMajorFrom(0);
        CpuConvTensor acc = direct ? gradW : CpuConvTensor.allocate(new long[] {parts, g.o(), ckk, 1}, ct, temps);
        if (g.n() == 0) {
            acc.seg().asSlice(acc.off() * es, wSize * es).fill((byte) 0);
        }
        boolean directX = g.pointwise() && x.rowMajorFrom(2);
        boolean wide = CpuConvWide.applies(g, x) && CpuConvWide.allFinite(x);
        IntConsumer part = pi -> {
            int n0 = pi * per, n1 = Math.min(g.n(), n0 + per);
            for (int n = n0; n < n1; n++) {
                for (int gi = 0; gi < g.groups(); gi++) {
                    long gOff = gradOut.off() + n * gradOut.stride(0) + (long) gi * og * gradOut.stride(1);
                    CpuGemmMatrix a = new CpuGemmMatrix(gradOut.seg(), gOff, gradOut.stride(1), 1, ct);
                    long xBase = x.off() + n * x.stride(0) + (long) gi * cg * x.stride(1);
                    if (wide) {
                        long cOff = acc.off() + pi * wSize + (long) gi * og * ckk;
                        CpuConvWide.backwardWeight(g, x.seg(), xBase, x.stride(1), x.stride(2), es, f64, gradOut.seg(), gOff, gradOut.stride(1), ct,
                                acc.seg(), cOff, n > n0, parts == 1);
                        continue;
                    }
                    CpuGemmMatrix b;
                    if (directX) {
                        b = new CpuGemmMatrix(x.seg(), xBase, 1, x.stride(1), ct);
                    } else {
                        MemorySegment col = CpuConvTemps.scratch((long) ckk * ohw * es);
                        CpuConvIm2col.im2col(g, x.seg(), xBase, x.stride(1), x.stride(2), x.stride(3), es, col);
                        b = new CpuGemmMatrix(col, 0, 1, ohw, ct);
                    }
                    long cOff = acc.off() + pi * wSize + (long) gi * og * ckk;
                    CpuGemm.gemm(f64, 1, og, ckk, ohw, a, 0, b, 0, acc.seg(), cOff, ckk, 0, n > n0, parts == 1);
                }
            }
        };
        if (parts > 1) Parallel.forEach(parts, part);
        else part.accept(0);
        if (!direct) {
            // gradW[i] = sum of the parts, in part order, rounded once to gradW's dtype.
            for (long i = 0; i < wSize; i++) {
                double s = 0;
                for (int pi = 0; pi < parts; pi++) s += acc.read(acc.off() + pi * wSize + i);
                gradW.write(gradW.off() + i, s);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Images go to different cores when there are several and enough work; else each GEMM splits itself. */
    private static boolean splitByImage(CpuConvGeometry g) {
        double flops = 2.0 * g.n() * g.o() * g.ckk() * g.ohw();
        return g.n() >= 2 && flops >= CpuGemmSplit.PARALLEL_FLOPS && Parallel.available();
    }

    private static void forImages(int n, boolean parallel, IntConsumer image) {
        if (parallel) Parallel.forEach(n, image);
        else for (int i = 0; i < n; i++) image.accept(i);
    }

    /** Where a result is computed: the output itself in F32/F64, else an F32 temporary rounded by finish. */
    private static CpuConvTensor outputFor(NDArray out, CpuConvTemps temps) {
        CpuConvTensor o = CpuConvTensor.of(out);
        DType ct = CpuConvTensor.computeType(out.dtype());
        return ct == out.dtype() ? o : CpuConvTensor.allocate(out.shape(), ct, temps);
    }

    private static void finish(CpuConvTensor computed, NDArray out) {
        CpuConvTensor o = CpuConvTensor.of(out);
        if (computed.dtype() != o.dtype()) computed.copyInto(o);
    }

    /** One floating dtype for all arrays, and a contiguous output. */
    private static void checkTypes(String op, NDArray out, NDArray a, NDArray b) {
        DType dt = out.dtype();
        if (a.dtype() != dt || b.dtype() != dt || !dt.isFloating()) {
            throw new IllegalArgumentException(op + ": expected one floating dtype, got " + a.dtype() + ", " + b.dtype() + " -> " + dt);
        }
        if (!out.isContiguous()) {
            throw new IllegalArgumentException(op + ": the output must be contiguous, got strides " + Arrays.toString(out.strides()));
        }
    }
}
