package io.jtensor.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Unfolding one image's group of channels into the column matrix of a convolution, and folding it back.
 * Row (ci*kh + i)*kw + j of the columns holds, for every output position (y, x), the input pixel under kernel tap
 * (i, j) of channel ci, or zero where that tap falls into the padding. im2col copies raw bits, so it serves F32 and
 * F64 alike; col2im adds and has one loop per type.
 */
final class CpuConvIm2col {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** AVX-512 masks loads and stores per byte in hardware; narrower machines would emulate it. */
    private static final boolean MASKS_ARE_FAST = BYTES.vectorBitSize() >= 512;

    private CpuConvIm2col() {}

    /** The output columns [lo, hi) whose tap at horizontal offset base = j*dilation - pad lands inside the row. */
    private static int firstValid(int base, int stride) { return base >= 0 ? 0 : (-base + stride - 1) / stride; }
    private static int endValid(int base, int stride, int width, int outWidth) {
        int room = width - base;
        return room <= 0 ? 0 : Math.min(outWidth, (room + stride - 1) / stride);
    }

    /**
     * col [ckk, ohw] (contiguous, element size es) = the unfolded channels of x starting at element xBase, where
     * channel, row and column strides are sC, sH, sW. Bytes of col past the columns may be overwritten (a
     * buffer with a vector's room after them makes the copies of short rows whole-vector moves).
     */
    static void im2col(CpuConvGeometry g, MemorySegment x, long xBase, long sC, long sH, long sW, int es, MemorySegment col) {
        var p = g.p();
        int ow = g.ow(), oh = g.oh(), sw = p.strideW(), sh = p.strideH();
        long row = 0;
        for (int ci = 0; ci < g.cg(); ci++) {
            for (int i = 0; i < g.kh(); i++) {
                int ihBase = i * p.dilationH() - p.padH();
                for (int j = 0; j < g.kw(); j++, row++) {
                    int iwBase = j * p.dilationW() - p.padW();
                    int lo = Math.min(ow, firstValid(iwBase, sw)), hi = Math.max(lo, endValid(iwBase, sw, g.w(), ow));
                    long dst = row * g.ohw();
                    for (int y = 0; y < oh; y++, dst += ow) {
                        int ih = y * sh + ihBase;
                        if (ih < 0 || ih >= g.h()) {
                            zero(col, dst, ow, es);
                            continue;
                        }
                        zero(col, dst, lo, es);
                        long src = xBase + ci * sC + ih * sH + (long) (lo * sw + iwBase) * sW;
                        long step = sw * sW;
                        if (hi == lo) {
                            // no tap of this row lands inside the image
                        } else if (step == 1) {
                            copy(x, src * es, col, (dst + lo) * es, (hi - lo) * es);
                        } else if (es == 4) {
                            for (int xo = lo; xo < hi; xo++, src += step) col.setAtIndex(I32, dst + xo, x.getAtIndex(I32, src));
                        } else {
                            for (int xo = lo; xo < hi; xo++, src += step) col.setAtIndex(I64, dst + xo, x.getAtIndex(I64, src));
                        }
                        zero(col, dst + hi, ow - hi, es);
                    }
                }
            }
        }
    }

    /**
     * Copies bytes with vector moves. Rows of a LeNet-sized image are a few dozen floats, where the JDK's bulk
     * copy spends more on its checks than on the move. im2col writes the columns in address order, so a copy may
     * run past its end by less than one vector (the next write covers what it spilled over), which turns the
     * short rows of small images into whole-vector moves; where the vector would leave either segment, the tail
     * is masked instead.
     */
    private static void copy(MemorySegment src, long from, MemorySegment dst, long to, int bytes) {
        copy(src, from, dst, to, bytes, dst.byteSize());
    }

    /** As above, with the spill kept before byte dstEnd of dst (dstEnd = to + bytes: no spill at all). */
    static void copy(MemorySegment src, long from, MemorySegment dst, long to, int bytes, long dstEnd) {
        int vb = BYTES.length();
        long whole = (long) (bytes + vb - 1) / vb * vb;
        if (from + whole <= src.byteSize() && to + whole <= Math.min(dstEnd, dst.byteSize())) {
            for (int i = 0; i < bytes; i += vb) bytesAt(src, from + i).intoMemorySegment(dst, to + i, ORDER);
            return;
        }
        int i = 0;
        for (; i + vb <= bytes; i += vb) bytesAt(src, from + i).intoMemorySegment(dst, to + i, ORDER);
        if (i == bytes) return;
        if (MASKS_ARE_FAST) {
            VectorMask<Byte> m = BYTES.indexInRange(i, bytes);
            ByteVector.fromMemorySegment(BYTES, src, from + i, ORDER, m).intoMemorySegment(dst, to + i, ORDER, m);
        } else {
            for (; i + 4 <= bytes; i += 4) dst.set(I32, to + i, src.get(I32, from + i));
            for (; i < bytes; i++) dst.set(ValueLayout.JAVA_BYTE, to + i, src.get(ValueLayout.JAVA_BYTE, from + i));
        }
    }

    private static ByteVector bytesAt(MemorySegment seg, long at) { return ByteVector.fromMemorySegment(BYTES, seg, at, ORDER); }

    /** Zeroes count elements from element from; like copy, whole vectors that may spill forward when there is room. */
    static void zero(MemorySegment seg, long from, int count, int es) {
        if (count <= 0) return;
        int vb = BYTES.length(), bytes = count * es;
        long at = from * es, whole = (long) (bytes + vb - 1) / vb * vb;
        if (at + whole <= seg.byteSize()) {
            ByteVector z = ByteVector.zero(BYTES);
            for (int i = 0; i < bytes; i += vb) z.intoMemorySegment(seg, at + i, ORDER);
            return;
        }
        if (es == 4) for (int i = 0; i < count; i++) seg.setAtIndex(I32, from + i, 0);
        else for (int i = 0; i < count; i++) seg.setAtIndex(I64, from + i, 0L);
    }

    /** Per-thread heap planes for col2im, where plain array loops beat element-wise segment access. */
    private static final class FoldBuffers {
        float[] colF = new float[0], planeF = new float[0];
        double[] colD = new double[0], planeD = new double[0];
    }

    private static final ThreadLocal<FoldBuffers> FOLD = ThreadLocal.withInitial(FoldBuffers::new);

    /**
     * Input planes = the columns folded back: every column entry is added to the input pixel it was unfolded
     * from (entries from the padding are dropped). Channel ci's plane, contiguous at element xBase + ci*h*w of
     * x, is overwritten. Each channel's rows of col are copied to a heap array and summed into a heap plane,
     * which is then copied out whole. x and col are F32 when es is 4, else F64.
     */
    static void col2im(CpuConvGeometry g, MemorySegment col, MemorySegment x, long xBase, int es) {
        FoldBuffers buf = FOLD.get();
        int hw = g.hw(), rows = g.kh() * g.kw() * g.ohw();
        for (int ci = 0; ci < g.cg(); ci++) {
            long colOff = (long) ci * rows, planeOff = xBase + (long) ci * hw;
            if (es == 4) {
                if (buf.colF.length < rows) buf.colF = new float[rows];
                if (buf.planeF.length < hw) buf.planeF = new float[hw];
                MemorySegment.copy(col, F32, colOff * 4, buf.colF, 0, rows);
                Arrays.fill(buf.planeF, 0, hw, 0f);
                foldF32(g, buf.colF, buf.planeF);
                MemorySegment.copy(buf.planeF, 0, x, F32, planeOff * 4, hw);
            } else {
                if (buf.colD.length < rows) buf.colD = new double[rows];
                if (buf.planeD.length < hw) buf.planeD = new double[hw];
                MemorySegment.copy(col, F64, colOff * 8, buf.colD, 0, rows);
                Arrays.fill(buf.planeD, 0, hw, 0.0);
                foldF64(g, buf.colD, buf.planeD);
                MemorySegment.copy(buf.planeD, 0, x, F64, planeOff * 8, hw);
            }
        }
    }

    /** plane [h, w] += the kh*kw rows of col [kh*kw, oh*ow] of one channel, each at its tap's offset. */
    private static void foldF32(CpuConvGeometry g, float[] col, float[] plane) {
        var p = g.p();
        int ow = g.ow(), oh = g.oh(), sw = p.strideW(), sh = p.strideH(), w = g.w();
        int src = 0;
        for (int i = 0; i < g.kh(); i++) {
            int ihBase = i * p.dilationH() - p.padH();
            for (int j = 0; j < g.kw(); j++) {
                int iwBase = j * p.dilationW() - p.padW();
                int lo = Math.min(ow, firstValid(iwBase, sw)), hi = Math.max(lo, endValid(iwBase, sw, w, ow));
                for (int y = 0; y < oh; y++, src += ow) {
                    int ih = y * sh + ihBase;
                    if (ih < 0 || ih >= g.h()) continue;
                    int d = ih * w + lo * sw + iwBase;
                    if (sw == 1) {
                        for (int xo = lo; xo < hi; xo++, d++) plane[d] += col[src + xo];
                    } else {
                        for (int xo = lo; xo < hi; xo++, d += sw) plane[d] += col[src + xo];
                    }
                }
            }
        }
    }

    private static void foldF64(CpuConvGeometry g, double[] col, double[] plane) {
        var p = g.p();
        int ow = g.ow(), oh = g.oh(), sw = p.strideW(), sh = p.strideH(), w = g.w();
        int src = 0;
        for (int i = 0; i < g.kh(); i++) {
            int ihBase = i * p.dilationH() - p.padH();
            for (int j = 0; j < g.kw(); j++) {
                int iwBase = j * p.dilationW() - p.padW();
                int lo = Math.min(ow, firstValid(iwBase, sw)), hi = Math.max(lo, endValid(iwBase, sw, w, ow));
                for (int y = 0; y < oh; y++, src += ow) {
                    int ih = y * sh + ihBase;
                    if (ih < 0 || ih >= g.h()) continue;
                    int d = ih * w + lo * sw + iwBase;
                    for (int xo = lo; xo < hi; xo++, d += sw) plane[d] += col[src + xo];
                }
            }
        }
    }
}
