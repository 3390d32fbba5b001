package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max and average pooling over [N, C, H, W] and their gradients. Each (n, c) plane is independent: it is read into
 * a double buffer (whatever the dtype and strides), pooled there, and written back, and planes are spread over the
 * cores. Max pooling treats padding as -inf, supports dilation, propagates NaN and records the first maximum's
 * h*W+w; average pooling follows PyTorch's divisor rules (no dilation). Gradients overwrite gradIn.
 */
final class CpuPool {
    private CpuPool() {}

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    static void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices) {
        long[] xs = x.shape();
        long oh = outSize("maxPool2d", xs, 2, kH, p.strideH(), p.padH(), p.dilationH());
        long ow = outSize("maxPool2d", xs, 3, kW, p.strideW(), p.padW(), p.dilationW());
        long[] os = {xs[0], xs[1], oh, ow};
        checkOut("maxPool2d", out, os, x.dtype());
        checkOut("maxPool2d", indices, os, DType.I64);
        CpuConvTensor in = CpuConvTensor.of(x), o = CpuConvTensor.of(out), idx = CpuConvTensor.of(indices);
        int h = (int) xs[2], w = (int) xs[3], planeOut = (int) (oh * ow);
        // The taps of each window row and column that fall inside the input, worked out once for all planes.
        int[] iLo = new int[(int) oh], iHi = new int[(int) oh], jLo = new int[(int) ow], jHi = new int[(int) ow];
        for (int y = 0; y < oh; y++) {
            int hs = y * p.strideH() - p.padH();
            iLo[y] = firstTap(hs, p.dilationH());
            iHi[y] = endTap(hs, p.dilationH(), kH, h);
        }
        for (int xo = 0; xo < ow; xo++) {
            int ws = xo * p.strideW() - p.padW();
            jLo[xo] = firstTap(ws, p.dilationW());
            jHi[xo] = endTap(ws, p.dilationW(), kW, w);
        }
        boolean twoByTwo = kH == 2 && kW == 2 && p.padH() == 0 && p.padW() == 0 && p.dilationH() == 1 && p.dilationW() == 1;
        if (twoByTwo && x.dtype() == DType.F32 && contiguousPlanes(in)) {
            // LeNet's pooling: floats compare exactly as their widened doubles, so the plane stays in floats.
            int oH = (int) oh, oW = (int) ow, sH = p.strideH(), sW = p.strideW();
            int[] corner = new int[planeOut]; // the top-left tap of each window, the same for every plane
            for (int y = 0, k = 0; y < oH; y++) for (int xo = 0; xo < oW; xo++, k++) corner[k] = y * sH * w + xo * sW;
            forPlanes(xs[0] * xs[1], (long) planeOut * 4, (plane, buf) -> {
                float[] src = buf.floats(h * w), dst = buf.floats2(planeOut);
                MemorySegment.copy(in.seg(), ValueLayout.JAVA_FLOAT_UNALIGNED, (in.off() + planeBase(in, plane)) * 4, src, 0, h * w);
                long[] at = buf.longs(planeOut);
                maxPlane2x2F32(src, w, dst, at, corner, buf.ints(planeOut));
                MemorySegment.copy(at, 0, idx.seg(), ValueLayout.JAVA_LONG_UNALIGNED, (idx.off() + plane * planeOut) * 8, planeOut);
                MemorySegment.copy(dst, 0, o.seg(), ValueLayout.JAVA_FLOAT_UNALIGNED, (o.off() + plane * planeOut) * 4, planeOut);
            });
            return;
        }
        forPlanes(xs[0] * xs[1], (long) planeOut * kH * kW, (plane, buf) -> {
            double[] src = buf.get(0, h * w), dst = buf.get(1, planeOut);
            readPlane(in, plane, src, buf);
            long[] at = buf.longs(planeOut);
            if (twoByTwo) maxPlane2x2(src, w, dst, at, (int) oh, (int) ow, p.strideH(), p.strideW());
            else maxPlane(src, h, w, dst, at, (int) oh, (int) ow, p.strideH(), p.strideW(), p.padH(), p.padW(),
                    p.dilationH(), p.dilationW(), iLo, iHi, jLo, jHi);
            MemorySegment.copy(at, 0, idx.seg(), ValueLayout.JAVA_LONG_UNALIGNED, (idx.off() + plane * planeOut) * 8, planeOut);
            writePlane(o, plane, dst, buf);
        });
    }

    /**
     * Max pooling of one plane src [h, w] into dst [oh, ow] and the flat position of each maximum into at. A static
     * method over plain values so that the JIT keeps the geometry in registers across the array stores.
     */
    private static void maxPlane(double[] src, int h, int w, double[] dst, long[] at, int oh, int ow, int sH, int sW,
                                 int pH, int pW, int dH, int dW, int[] iLo, int[] iHi, int[] jLo, int[] jHi) {
        int k = 0;
        for (int y = 0; y < oh; y++) {
            int hs = y * sH - pH, i0 = iLo[y], i1 = iHi[y];
            for (int xo = 0; xo < ow; xo++, k++) {
                int ws = xo * sW - pW, j0 = jLo[xo], j1 = jHi[xo];
                double best = Double.NEGATIVE_INFINITY;
                int bestAt = -1;
                for (int i = i0; i < i1; i++) {
                    int row = (hs + i * dH) * w + ws;
                    for (int j = j0; j < j1; j++) {
                        int pos = row + j * dW;
                        double v = src[pos];
                        // Written as selects rather than a branch: on real data the branch is a coin toss.
                        boolean take = v > best | v != v | bestAt < 0;
                        best = take ? v : best;
                        bestAt = take ? pos : bestAt;
                    }
                }
                // A window wholly in the padding (possible only with dilation) reports -inf at its clipped corner.
                if (bestAt < 0) bestAt = Math.min(Math.max(hs, 0), h - 1) * w + Math.min(Math.max(ws, 0), w - 1);
                dst[k] = best;
                at[k] = bestAt;
            }
        }
    }

    /** The common 2x2 window without padding or dilation, every tap inside the plane, unrolled. */
    private static void maxPlane2x2(double[] src, int w, double[] dst, long[] at, int oh, int ow, int sH, int sW) {
        int k = 0;
        for (int y = 0; y < oh; y++) {
            for (int xo = 0; xo < ow; xo++, k++) {
                int p0 = y * sH * w + xo * sW, p1 = p0 + 1, p2 = p0 + w, p3 = p2 + 1;
                double best = src[p0];
                int bestAt = p0;
                double v = src[p1];
                boolean take = v > best | v != v;
                best = take ? v : best;
                bestAt = take ? p1 : bestAt;
                v = src[p2];
                take = v > best | v != v;
                best = take ? v : best;
                bestAt = take ? p2 : bestAt;
                v = src[p3];
                take = v > best | v != v;
                best = take ? v : best;
                bestAt = take ? p3 : bestAt;
                dst[k] = best;
                at[k] = bestAt;
            }
        }
    }

    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());

    /**
     * maxPlane2x2 in floats, FS.length() windows at a time: the four taps of each window are gathered (corner[k] is
     * window k's top-left tap) and compared in the scalar version's order, with its selects (take a tap that is
     * greater, or NaN), so the maxima, NaN propagation and indices are the same. Scalar selects on random data
     * compile to branches that mispredict half the time (13 ns per window on LeNet's first pooling).
     */
    private static void maxPlane2x2F32(float[] src, int w, float[] dst, long[] at, int[] corner, int[] atInt) {
        int n = corner.length, vl = FS.length(), k = 0;
        if (vl == IS.length()) {
            IntVector one = IntVector.broadcast(IS, 1), down = IntVector.broadcast(IS, w), diag = IntVector.broadcast(IS, w + 1);
            for (; k + vl <= n; k += vl) {
                FloatVector best = FloatVector.fromArray(FS, src, 0, corner, k);
                IntVector tap = IntVector.zero(IS);
                FloatVector v = FloatVector.fromArray(FS, src, 1, corner, k);
                VectorMask<Float> take = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN));
                best = best.blend(v, take);
                tap = tap.blend(one, take.cast(IS));
                v = FloatVector.fromArray(FS, src, w, corner, k);
                take = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN));
                best = best.blend(v, take);
                tap = tap.blend(down, take.cast(IS));
                v = FloatVector.fromArray(FS, src, w + 1, corner, k);
                take = v.compare(VectorOperators.GT, best).or(v.test(VectorOperators.IS_NAN));
                best = best.blend(v, take);
                tap = tap.blend(diag, take.cast(IS));
                best.intoArray(dst, k);
                tap.add(IntVector.fromArray(IS, corner, k)).intoArray(atInt, k);
            }
        }
        for (int i = 0; i < k; i++) at[i] = atInt[i];
        for (; k < n; k++) {
            int p0 = corner[k], p1 = p0 + 1, p2 = p0 + w, p3 = p2 + 1;
            float best = src[p0];
            int bestAt = p0;
            float v = src[p1];
            boolean take = v > best | v != v;
            best = take ? v : best;
            bestAt = take ? p1 : bestAt;
            v = src[p2];
            take = v > best | v != v;
            best = take ? v : best;
            bestAt = take ? p2 : bestAt;
            v = src[p3];
            take = v > best | v != v;
            best = take ? v : best;
            bestAt = take ? p3 : bestAt;
            dst[k] = best;
            at[k] = bestAt;
        }
    }

    /** Whether every (n, c) plane is contiguous (rows of unit stride, one after another). */
    private static boolean contiguousPlanes(CpuConvTensor t) {
        int h = t.size(2), w = t.size(3);
        return (t.stride(3) == 1 || w == 1) && (t.stride(2) == w || h == 1);
    }

    /** Element offset of plane n*C + c from t.off(). */
    private static long planeBase(CpuConvTensor t, long plane) {
        long c = plane % t.shape()[1], n = plane / t.shape()[1];
        return n * t.stride(0) + c * t.stride(1);
    }

    static void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn) {
        long[] gs = gradOut.shape(), is = gradIn.shape();
        if (gs.length != 4 || is.length != 4 || gs[0] != is[0] || gs[1] != is[1] || !Arrays.equals(indices.shape(), gs)) {
            throw new IllegalArgumentException("maxPool2dBackward: expected gradOut and indices [N,C,OH,OW] and gradIn [N,C,H,W], got "
                    + Arrays.toString(gs) + ", " + Arrays.toString(indices.shape()) + ", " + Arrays.toString(is));
        }
        if (indices.dtype() != DType.I64) throw new IllegalArgumentException("maxPool2dBackward: indices must be I64, got " + indices.dtype());
        checkOut("maxPool2dBackward", gradIn, is, gradOut.dtype());
        CpuConvTensor g = CpuConvTensor.of(gradOut), idx = CpuConvTensor.of(indices), gi = CpuConvTensor.of(gradIn);
        int hw = (int) (is[2] * is[3]), oh = (int) gs[2], ow = (int) gs[3];
        boolean idxPlanes = contiguousPlanes(idx);
        forPlanes(gs[0] * gs[1], (long) oh * ow + hw, (plane, buf) -> {
            double[] go = buf.get(0, oh * ow), acc = buf.get(1, hw);
            readPlane(g, plane, go, buf);
            Arrays.fill(acc, 0, hw, 0.0);
            long n = plane / gs[1], c = plane % gs[1];
            long base = idx.off() + n * idx.stride(0) + c * idx.stride(1);
            long[] positions = null;
            if (idxPlanes) {
                positions = buf.longs(oh * ow);
                MemorySegment.copy(idx.seg(), ValueLayout.JAVA_LONG_UNALIGNED, base * 8, positions, 0, oh * ow);
            }
            int k = 0;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++, k++) {
                    long at = positions != null ? positions[k]
                            : idx.seg().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, base + y * idx.stride(2) + x * idx.stride(3));
                    if (at < 0 || at >= hw) {
                        throw new IndexOutOfBoundsException("maxPool2dBackward: index " + at + " at " + Arrays.toString(new long[] {n, c, y, x})
                                + " is outside the " + is[2] + "x" + is[3] + " input plane");
                    }
                    acc[(int) at] += go[k];
                }
            }
            writePlane(gi, plane, acc, buf);
        });
    }

    static void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out) {
        long[] xs = x.shape();
        long oh = outSize("avgPool2d", xs, 2, kH, p.strideH(), p.padH(), 1);
        long ow = outSize("avgPool2d", xs, 3, kW, p.strideW(), p.padW(), 1);
        checkOut("avgPool2d", out, new long[] {xs[0], xs[1], oh, ow}, x.dtype());
        CpuConvTensor in = CpuConvTensor.of(x), o = CpuConvTensor.of(out);
        int h = (int) xs[2], w = (int) xs[3], planeOut = (int) (oh * ow);
        forPlanes(xs[0] * xs[1], (long) planeOut * kH * kW, (plane, buf) -> {
            double[] src = buf.get(0, h * w), dst = buf.get(1, planeOut);
            readPlane(in, plane, src, buf);
            int k = 0;
            for (int y = 0; y < oh; y++) {
                for (int xo = 0; xo < ow; xo++, k++) {
                    Window win = Window.of(y, xo, kH, kW, p, h, w, countIncludePad);
                    double s = 0;
                    for (int ih = win.h0; ih < win.h1; ih++) {
                        for (int iw = win.w0; iw < win.w1; iw++) s += src[ih * w + iw];
                    }
                    dst[k] = s / win.divisor;
                }
            }
            writePlane(o, plane, dst, buf);
        });
    }

    static void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn) {
        long[] is = gradIn.shape(), gs = gradOut.shape();
        long oh = outSize("avgPool2dBackward", is, 2, kH, p.strideH(), p.padH(), 1);
        long ow = outSize("avgPool2dBackward", is, 3, kW, p.strideW(), p.padW(), 1);
        if (!Arrays.equals(gs, new long[] {is[0], is[1], oh, ow})) {
            throw new IllegalArgumentException("avgPool2dBackward: gradOut should be " + Arrays.toString(new long[] {is[0], is[1], oh, ow})
                    + " for input " + Arrays.toString(is) + ", got " + Arrays.toString(gs));
        }
        checkOut("avgPool2dBackward", gradIn, is, gradOut.dtype());
        CpuConvTensor g = CpuConvTensor.of(gradOut), gi = CpuConvTensor.of(gradIn);
        int h = (int) is[2], w = (int) is[3];
        forPlanes(is[0] * is[1], oh * ow * kH * kW + (long) h * w, (plane, buf) -> {
            double[] go = buf.get(0, (int) (oh * ow)), acc = buf.get(1, h * w);
            readPlane(g, plane, go, buf);
            Arrays.fill(acc, 0, h * w, 0.0);
            int k = 0;
            for (int y = 0; y < oh; y++) {
                for (int xo = 0; xo < ow; xo++, k++) {
                    Window win = Window.of(y, xo, kH, kW, p, h, w, countIncludePad);
                    double share = go[k] / win.divisor;
                    for (int ih = win.h0; ih < win.h1; ih++) {
                        for (int iw = win.w0; iw < win.w1; iw++) acc[ih * w + iw] += share;
                    }
                }
            }
            writePlane(gi, plane, acc, buf);
        });
    }

    /** The first tap i with start + i*dilation >= 0. */
    private static int firstTap(int start, int dilation) { return start >= 0 ? 0 : (-start + dilation - 1) / dilation; }

    /** One past the last tap i < k with start + i*dilation < size. */
    private static int endTap(int start, int dilation, int k, int size) {
        int room = size - start;
        return room <= 0 ? 0 : Math.min(k, (room + dilation - 1) / dilation);
    }

    /**
     * An average-pooling window clipped to the input, and its divisor: PyTorch counts the window clipped only to
     * the padded input when padding is included, else the pixels actually inside.
     */
    private record Window(int h0, int h1, int w0, int w1, int divisor) {
        static Window of(int y, int x, int kH, int kW, ConvParams p, int h, int w, boolean countIncludePad) {
            int hs = y * p.strideH() - p.padH(), ws = x * p.strideW() - p.padW();
            int he = Math.min(hs + kH, h + p.padH()), we = Math.min(ws + kW, w + p.padW());
            int padded = (he - hs) * (we - ws);
            hs = Math.max(hs, 0); ws = Math.max(ws, 0);
            he = Math.min(he, h); we = Math.min(we, w);
            int inside = Math.max(0, he - hs) * Math.max(0, we - ws);
            return new Window(hs, he, ws, we, countIncludePad ? padded : inside);
        }
    }

    // ------------------------------------------------------------------ planes

    /** Growable per-thread buffers: two planes of doubles, one of floats and one of indices for bulk moves. */
    private static final class Buffers {
        private final double[][] planes = {new double[0], new double[0]};
        private float[] floats = new float[0], floats2 = new float[0];
        private long[] longs = new long[0];
        private int[] ints = new int[0];

        double[] get(int which, int size) {
            if (planes[which].length < size) planes[which] = new double[size];
            return planes[which];
        }

        float[] floats(int size) {
            if (floats.length < size) floats = new float[size];
            return floats;
        }

        float[] floats2(int size) {
            if (floats2.length < size) floats2 = new float[size];
            return floats2;
        }

        int[] ints(int size) {
            if (ints.length < size) ints = new int[size];
            return ints;
        }

        long[] longs(int size) {
            if (longs.length < size) longs = new long[size];
            return longs;
        }
    }

    @FunctionalInterface
    private interface PlaneJob {
        void run(long plane, Buffers buf);
    }

    /** Runs job over planes 0..count-1, in chunks of about 64k units of work per thread hand-off. */
    private static void forPlanes(long count, long workPerPlane, PlaneJob job) {
        if (count <= 0) return;
        long perChunk = Math.max(1, (1 << 16) / Math.max(1, workPerPlane));
        int chunks = (int) Math.min(Integer.MAX_VALUE, (count + perChunk - 1) / perChunk);
        Parallel.forEach(chunks, ci -> {
            Buffers buf = BUFFERS.get();
            long end = Math.min(count, (ci + 1) * perChunk);
            for (long plane = ci * perChunk; plane < end; plane++) job.run(plane, buf);
        });
    }

    /** dst[y*W + x] = t[n, c, y, x] for plane = n*C + c. */
    private static void readPlane(CpuConvTensor t, long plane, double[] dst, Buffers buf) {
        long c = plane % t.shape()[1], n = plane / t.shape()[1];
        long base = t.off() + n * t.stride(0) + c * t.stride(1), sh = t.stride(2), sw = t.stride(3);
        int h = t.size(2), w = t.size(3), size = h * w;
        var seg = t.seg();
        if ((sw == 1 || w == 1) && (sh == w || h == 1)) {
            // A contiguous plane: one bulk copy, then widening in a plain array loop.
            if (t.dtype() == DType.F64) {
                MemorySegment.copy(seg, ValueLayout.JAVA_DOUBLE_UNALIGNED, base * 8, dst, 0, size);
                return;
            }
            if (t.dtype() == DType.F32) {
                float[] f = buf.floats(size);
                MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED, base * 4, f, 0, size);
                for (int k = 0; k < size; k++) dst[k] = f[k];
                return;
            }
        }
        switch (t.dtype()) {
            case F32 -> {
                for (int y = 0, k = 0; y < h; y++) for (int x = 0; x < w; x++, k++) dst[k] = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + y * sh + x * sw);
            }
            case F64 -> {
                for (int y = 0, k = 0; y < h; y++) for (int x = 0; x < w; x++, k++) dst[k] = seg.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, base + y * sh + x * sw);
            }
            default -> {
                for (int y = 0, k = 0; y < h; y++) for (int x = 0; x < w; x++, k++) dst[k] = t.read(base + y * sh + x * sw);
            }
        }
    }

    /** t[n, c] = src for a contiguous t, rounded to its dtype. */
    private static void writePlane(CpuConvTensor t, long plane, double[] src, Buffers buf) {
        int size = t.size(2) * t.size(3);
        long base = t.off() + plane * size;
        var seg = t.seg();
        switch (t.dtype()) {
            case F32 -> {
                float[] f = buf.floats(size);
                for (int k = 0; k < size; k++) f[k] = (float) src[k];
                MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, base * 4, size);
            }
            case F64 -> MemorySegment.copy(src, 0, seg, ValueLayout.JAVA_DOUBLE_UNALIGNED, base * 8, size);
            default -> { for (int k = 0; k < size; k++) t.write(base + k, src[k]); }
        }
    }

    private static long outSize(String op, long[] xs, int dim, int k, int stride, int pad, int dilation) {
        if (xs.length != 4) throw new IllegalArgumentException(op + ": expected [N,C,H,W], got " + Arrays.toString(xs));
        if (k < 1) throw new IllegalArgumentException(op + ": kernel must be >= 1, got " + k);
        if (2L * pad > k) throw new IllegalArgumentException(op + ": padding " + pad + " must be at most half the kernel " + k);
        long o = ConvParams.outSize(xs[dim], k, stride, pad, dilation);
        if (o <= 0) throw new IllegalArgumentException(op + ": kernel " + k + " does not fit input size " + xs[dim] + " with padding " + pad);
        return o;
    }

    private static void checkOut(String op, NDArray out, long[] shape, DType dtype) {
        if (!Arrays.equals(out.shape(), shape)) {
            throw new IllegalArgumentException(op + ": output should be " + Arrays.toString(shape) + ", got " + Arrays.toString(out.shape()));
        }
        if (out.dtype() != dtype) throw new IllegalArgumentException(op + ": output should be " + dtype + ", got " + out.dtype());
        if (!dtype.isFloating() && dtype != DType.I64) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + dtype);
        if (!out.isContiguous()) throw new IllegalArgumentException(op + ": output must be contiguous, got strides " + Arrays.toString(out.strides()));
    }
}
