package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Convolutions with stride 1 and no dilation by "wide" columns: the image is copied once into a padded buffer
 * [cg, Hp, Wp], and the output is computed at every column of the padded width, positions (y, x) with x in
 * [0, Wp) instead of [0, ow). Then column row (ci, i, j) is the contiguous run of oh * Wp elements starting at
 * ci*Hp*Wp + i*Wp + j of that buffer: one long copy per row instead of oh short ones (LeNet's second layer: 150
 * copies of 96 floats per image instead of 1,200 of 8). The extra Wp - ow columns of each output row read taps that
 * wrap into the next row; they cost (Wp - ow) / ow more multiply-adds.
 *
 * <p>Forward drops the extra columns when copying the output out. The weight gradient multiplies them by a
 * gradient that is zero there, which is exact only while the image is finite (0 * inf is NaN), so it is used only
 * after a check that it is.
 */
final class CpuConvWide {
    private CpuConvWide() {}

    /** Whether the wide form applies: unit stride and dilation, a real kernel, unit-stride image rows. */
    static boolean applies(CpuConvGeometry g, CpuConvTensor x) {
        var p = g.p();
        return p.strideH() == 1 && p.strideW() == 1 && p.dilationH() == 1 && p.dilationW() == 1 && !g.pointwise()
                && x.stride(3) == 1;
    }

    /**
     * out[og, oh, ow] at element cOff of outSeg = W x unfold(image): the group of channels starting at element xBase
     * of x, channel and row strides sC and sH; a is the group's weights [og, ckk].
     */
    static void forward(CpuConvGeometry g, MemorySegment x, long xBase, long sC, long sH, int es, boolean f64,
                        CpuGemmMatrix a, MemorySegment outSeg, long cOff, boolean parallelGemm) {
        int og = g.og(), oh = g.oh(), ow = g.ow(), wp = paddedWidth(g), len = oh * wp;
        MemorySegment img = paddedImage(g, x, xBase, sC, sH, es);
        MemorySegment wide = CpuConvTemps.scratch(CpuConvTemps.WIDE_OUT, (long) og * len * es);
        if (a.dtype() == DType.F32 && !f64) {
            // Column row (ci, i, j) is a run of the padded image, so the GEMM's B panels are packed straight from the
            // image (small enough to stay in cache) instead of from a column matrix written out first.
            CpuGemmF32.gemmPackedB(og, len, g.ckk(), a, (jc, nc, pc, kc, dst, off) -> packColumns(g, img, jc, nc, pc, kc, dst, off),
                    wide, 0, len, false, gemmParts(parallelGemm, og, len, g.ckk()));
        } else {
            MemorySegment col = columns(g, img, es);
            CpuGemm.gemm(f64, 1, og, len, g.ckk(), a, 0, new CpuGemmMatrix(col, 0, len, 1, a.dtype()), 0, wide, 0, len, 0, false, parallelGemm);
        }
        long end = (cOff + (long) og * oh * ow) * es; // spills stay inside this image's output, written in order
        int outRowBytes = ow * es;
        for (int o = 0; o < og; o++) {
            for (int y = 0; y < oh; y++) {
                long to = (cOff + ((long) o * oh + y) * ow) * es;
                CpuConvIm2col.copy(wide, ((long) o * len + (long) y * wp) * es, outSeg, to, outRowBytes, end);
            }
        }
    }

    /**
     * gradW[og, ckk] at element cOff of gwSeg (+)= gradOut x unfold(image)^T for one image and group: gOff is the
     * element of gradOut's first channel, gsC its channel stride (each plane [oh, ow] contiguous); the image as in forward.
     */
    static void backwardWeight(CpuConvGeometry g, MemorySegment x, long xBase, long sC, long sH, int es, boolean f64,
                               MemorySegment gradOut, long gOff, long gsC, DType dtype, MemorySegment gwSeg, long cOff,
                               boolean accumulate, boolean parallelGemm) {
        int og = g.og(), oh = g.oh(), ow = g.ow(), wp = paddedWidth(g), len = oh * wp, ckk = g.ckk();
        MemorySegment img = paddedImage(g, x, xBase, sC, sH, es);
        MemorySegment wide = widenedGradient(g, gradOut, gOff, gsC, es);
        CpuGemmMatrix gradWide = new CpuGemmMatrix(wide, 0, len, 1, dtype);
        if (dtype == DType.F32 && !f64 && CpuGemmTranspose.AVAILABLE && (long) og * ckk > 512) {
            // B = columns^T: its panels are transposed straight from the image runs that form the column rows.
            // (A small gradient, such as LeNet's first layer's, is faster as dot products over written columns.)
            CpuGemmF32.gemmPackedB(og, ckk, len, gradWide, (jc, nc, pc, kc, dst, off) -> packColumnsTransposed(g, img, jc, nc, pc, kc, dst, off),
                    gwSeg, cOff, ckk, accumulate, gemmParts(parallelGemm, og, ckk, len));
        } else {
            MemorySegment col = columns(g, img, es);
            CpuGemm.gemm(f64, 1, og, ckk, len, gradWide, 0, new CpuGemmMatrix(col, 0, 1, len, dtype), 0, gwSeg, cOff, ckk, 0,
                    accumulate, parallelGemm);
        }
    }

    /**
     * gradIn[cg, h, w] at element iOff of inSeg (contiguous) = fold(W^T x gradOut) for one image and group: the
     * columns W^T x widened gradient are [ckk, oh * Wp], and column row (ci, i, j) is added as one run to the padded
     * image at ci*Hp*Wp + i*Wp + j, which is then cropped. The extra columns are exactly zero while W is finite
     * (a zero gradient times finite weights), so their runs add nothing; the caller checks that it is. a is the
     * group's W^T [ckk, og].
     */
    static void backwardInput(CpuConvGeometry g, MemorySegment gradOut, long gOff, long gsC, int es, boolean f64,
                              CpuGemmMatrix a, MemorySegment inSeg, long iOff, boolean parallelGemm) {
        var p = g.p();
        int og = g.og(), cg = g.cg(), kw = g.kw(), wp = paddedWidth(g), len = g.oh() * wp, ckk = g.ckk();
        int plane = paddedPlane(g);
        MemorySegment wide = widenedGradient(g, gradOut, gOff, gsC, es);
        long imageElems = (long) cg * plane + kw;
        MemorySegment img = CpuConvTemps.scratch(CpuConvTemps.IMAGE, imageElems * es);
        img.asSlice(0, imageElems * es).fill((byte) 0);
        CpuGemmMatrix gradWide = new CpuGemmMatrix(wide, 0, len, 1, a.dtype());
        if (a.dtype() == DType.F32 && !f64 && !(parallelGemm && Parallel.available())) {
            // The GEMM adds each column row straight into the image where it belongs (fused col2im).
            long[] rowStarts = new long[ckk];
            for (int q = 0; q < ckk; q++) rowStarts[q] = columnRowStart(g, q) * 4;
            CpuGemmF32.gemmAddRows(ckk, len, og, a, gradWide, img, rowStarts);
        } else {
            MemorySegment col = CpuConvTemps.scratch(CpuConvTemps.COLUMNS, (long) ckk * len * es);
            CpuGemm.gemm(f64, 1, ckk, len, og, a, 0, gradWide, 0, col, 0, len, 0, false, parallelGemm);
            for (int q = 0; q < ckk; q++) {
                long at = columnRowStart(g, q);
                if (f64) addRunF64(col, (long) q * len, img, at, len);
                else addRunF32(col, (long) q * len, img, at, len);
            }
        }
        long end = (iOff + (long) cg * g.hw()) * es; // spills stay inside this image's group, written in order
        int rowBytes = g.w() * es;
        for (int ci = 0; ci < cg; ci++) {
            for (int ih = 0; ih < g.h(); ih++) {
                long from = ((long) ci * plane + (long) (ih + p.padH()) * wp + p.padW()) * es;
                CpuConvIm2col.copy(img, from, inSeg, (iOff + (long) ci * g.hw() + (long) ih * g.w()) * es, rowBytes, end);
            }
        }
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final jdk.incubator.vector.VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** dst[to + t] += src[from + t] for t < n, F32 elements. */
    private static void addRunF32(MemorySegment src, long from, MemorySegment dst, long to, int n) {
        int t = 0;
        for (; t + FS.length() <= n; t += FS.length()) {
            FloatVector v = FloatVector.fromMemorySegment(FS, src, (from + t) * 4, ORDER);
            v.add(FloatVector.fromMemorySegment(FS, dst, (to + t) * 4, ORDER)).intoMemorySegment(dst, (to + t) * 4, ORDER);
        }
        for (; t < n; t++) {
            long d = (to + t) * 4;
            dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, d, dst.get(ValueLayout.JAVA_FLOAT_UNALIGNED, d) + src.get(ValueLayout.JAVA_FLOAT_UNALIGNED, (from + t) * 4));
        }
    }

    /** dst[to + t] += src[from + t] for t < n, F64 elements. */
    private static void addRunF64(MemorySegment src, long from, MemorySegment dst, long to, int n) {
        int t = 0;
        for (; t + DS.length() <= n; t += DS.length()) {
            DoubleVector v = DoubleVector.fromMemorySegment(DS, src, (from + t) * 8, ORDER);
            v.add(DoubleVector.fromMemorySegment(DS, dst, (to + t) * 8, ORDER)).intoMemorySegment(dst, (to + t) * 8, ORDER);
        }
        for (; t < n; t++) {
            long d = (to + t) * 8;
            dst.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, d, dst.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, d) + src.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, (from + t) * 8));
        }
    }

    /** The gradient [og, oh, ow] (planes contiguous, channel stride gsC) widened to [og, oh * Wp] with zeros. */
    private static MemorySegment widenedGradient(CpuConvGeometry g, MemorySegment gradOut, long gOff, long gsC, int es) {
        int og = g.og(), oh = g.oh(), ow = g.ow(), wp = paddedWidth(g), len = oh * wp;
        MemorySegment wide = CpuConvTemps.scratch(CpuConvTemps.WIDE_OUT, (long) og * len * es);
        wide.asSlice(0, (long) og * len * es).fill((byte) 0); // the extra columns' gradient is zero
        int rowBytes = ow * es;
        for (int o = 0; o < og; o++) {
            for (int y = 0; y < oh; y++) {
                long to = ((long) o * len + (long) y * wp) * es;
                CpuConvIm2col.copy(gradOut, (gOff + o * gsC + (long) y * ow) * es, wide, to, rowBytes, to + rowBytes);
            }
        }
        return wide;
    }

    /** Whether every element of a row-major array is finite (the wide weight gradient needs it). */
    static boolean allFinite(CpuConvTensor x) {
        if (!x.rowMajorFrom(0)) return false;
        long n = 1;
        for (int d = 0; d < 4; d++) n *= x.size(d);
        MemorySegment seg = x.seg();
        long i = 0;
        if (x.dtype() == DType.F32) {
            var s = FloatVector.SPECIES_PREFERRED;
            long base = x.off() * 4;
            for (; i + s.length() <= n; i += s.length()) {
                if (!FloatVector.fromMemorySegment(s, seg, base + i * 4, ByteOrder.nativeOrder()).test(VectorOperators.IS_FINITE).allTrue()) return false;
            }
            for (; i < n; i++) if (!Float.isFinite(seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, base + i * 4))) return false;
        } else {
            var s = DoubleVector.SPECIES_PREFERRED;
            long base = x.off() * 8;
            for (; i + s.length() <= n; i += s.length()) {
                if (!DoubleVector.fromMemorySegment(s, seg, base + i * 8, ByteOrder.nativeOrder()).test(VectorOperators.IS_FINITE).allTrue()) return false;
            }
            for (; i < n; i++) if (!Double.isFinite(seg.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, base + i * 8))) return false;
        }
        return true;
    }

    /** How many row parts a packed-B product is split into: all threads for one large product, else 1 (inline). */
    private static int gemmParts(boolean parallelGemm, int m, int n, int k) {
        return parallelGemm && 2.0 * m * n * k >= CpuGemmSplit.PARALLEL_FLOPS ? 2 * Parallel.THREADS : 1;
    }

    private static int paddedWidth(CpuConvGeometry g) { return g.w() + 2 * g.p().padW(); }

    /** Elements of one channel of the padded image, Hp * Wp. */
    private static int paddedPlane(CpuConvGeometry g) { return (g.h() + 2 * g.p().padH()) * paddedWidth(g); }

    /** The group's channels copied into the thread's zero-bordered [cg, Hp, Wp] buffer, plus kw zeros after it. */
    private static MemorySegment paddedImage(CpuConvGeometry g, MemorySegment x, long xBase, long sC, long sH, int es) {
        var p = g.p();
        int cg = g.cg(), kw = g.kw();
        int wp = paddedWidth(g), plane = paddedPlane(g);
        long imageElems = (long) cg * plane + kw; // the last rows' extra columns read up to kw - 2 past the planes
        MemorySegment img = CpuConvTemps.scratch(CpuConvTemps.IMAGE, imageElems * es);
        boolean padded = p.padH() > 0 || p.padW() > 0;
        if (padded) img.asSlice(0, imageElems * es).fill((byte) 0);
        int rowBytes = g.w() * es;
        for (int ci = 0; ci < cg; ci++) {
            for (int ih = 0; ih < g.h(); ih++) {
                long to = ((long) ci * plane + (long) (ih + p.padH()) * wp + p.padW()) * es;
                // Padded rows must not spill into their zero borders; unpadded rows are written in address order.
                CpuConvIm2col.copy(x, (xBase + ci * sC + ih * sH) * es, img, to, rowBytes, padded ? to + rowBytes : img.byteSize());
            }
        }
        if (!padded) CpuConvIm2col.zero(img, (long) cg * plane, kw, es);
        return img;
    }

    /** Where column row q = (ci, i, j) starts in the padded image: ci * plane + i * Wp + j (elements). */
    private static long columnRowStart(CpuConvGeometry g, int q) {
        int taps = g.kh() * g.kw(), ci = q / taps, tap = q - ci * taps;
        return (long) ci * paddedPlane(g) + (long) (tap / g.kw()) * paddedWidth(g) + tap % g.kw();
    }

    /**
     * Columns [jc, jc + nc) of column rows [pc, pc + kc) of an F32 padded image, packed as {@link CpuGemmF32.BPacker}
     * describes: row (ci, i, j) is the image run starting at ci * plane + i * Wp + j.
     */
    private static void packColumns(CpuConvGeometry g, MemorySegment img, int jc, int nc, int pc, int kc,
                                    float[] dst, int dstOff) {
        int nr = CpuGemmKernel.NR, vl = FS.length();
        int full = nc / nr, rest = nc - full * nr, panelSize = nr * kc;
        for (int kk = 0; kk < kc; kk++) {
            long line = (columnRowStart(g, pc + kk) + jc) * 4;
            int d = dstOff + kk * nr;
            for (int p = 0; p < full; p++, d += panelSize, line += nr * 4L) {
                for (int i = 0; i < nr; i += vl) FloatVector.fromMemorySegment(FS, img, line + i * 4L, ORDER).intoArray(dst, d + i);
            }
            if (rest > 0) {
                for (int i = 0; i < rest; i++) dst[d + i] = img.get(ValueLayout.JAVA_FLOAT_UNALIGNED, line + i * 4L);
                java.util.Arrays.fill(dst, d + rest, d + nr, 0f);
            }
        }
    }

    /**
     * Rows [pc, pc + kc) of B = columns^T (one per output position) and its columns [jc, jc + nc) (one per column
     * row), packed as {@link CpuGemmF32.BPacker} describes, by 16 x 16 transposes of the image runs.
     */
    private static void packColumnsTransposed(CpuConvGeometry g, MemorySegment img, int jc, int nc, int pc, int kc,
                                              float[] dst, int dstOff) {
        int nr = CpuGemmKernel.NR, vecEnd = kc - kc % 16;
        long[] rowOffs = new long[16];
        for (int p0 = 0; p0 < nc; p0 += nr) {
            int rows = Math.min(nr, nc - p0), base = dstOff + p0 * kc;
            for (int g16 = 0; g16 < rows; g16 += 16) {
                int groupRows = Math.min(16, rows - g16);
                for (int i = 0; i < groupRows; i++) rowOffs[i] = (columnRowStart(g, jc + p0 + g16 + i) + pc) * 4;
                for (int k = 0; k < vecEnd; k += 16) {
                    CpuGemmTranspose.block16(img, rowOffs, groupRows, k * 4L, dst, base + k * nr + g16, nr);
                }
                for (int i = 0; i < groupRows; i++) {
                    for (int k = vecEnd; k < kc; k++) dst[base + k * nr + g16 + i] = img.get(ValueLayout.JAVA_FLOAT_UNALIGNED, rowOffs[i] + k * 4L);
                }
            }
            if (rows < nr) {
                for (int k = 0; k < kc; k++) java.util.Arrays.fill(dst, base + k * nr + rows, base + (k + 1) * nr, 0f);
            }
        }
    }

    /** The wide columns [ckk, oh * Wp] of a padded image, in the thread's column scratch. */
    private static MemorySegment columns(CpuConvGeometry g, MemorySegment img, int es) {
        int len = g.oh() * paddedWidth(g);
        MemorySegment col = CpuConvTemps.scratch(CpuConvTemps.COLUMNS, (long) g.ckk() * len * es);
        int runBytes = len * es;
        for (int q = 0; q < g.ckk(); q++) {
            CpuConvIm2col.copy(img, columnRowStart(g, q) * es, col, (long) q * runBytes, runBytes, col.byteSize());
        }
        return col;
    }
}
