package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Batch normalisation in training mode and its gradient, fused: a channel's statistics take two reading passes
 * (mean, then centred squares, so that a large mean cannot cancel the variance away) and the output one more,
 * where the composed form makes a dozen passes with a temporary each (it was a quarter of a ResNet-20 training step).
 * x is contiguous [N, C, S] (S = the spatial positions, 1 for [N, C]); channel c is N runs of S elements, C * S
 * apart. Each channel is computed whole by one thread, in a fixed order, so results do not depend on threads.
 * F32 runs take SIMD loops; other dtypes go through a buffer of doubles.
 */
final class CpuBatchNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private CpuBatchNorm() {}

    /** The [N, C, S] view of x's shape. */
    private record Layout(long n, int c, long s) {
        static Layout of(String op, Operand x) {
            long[] sh = x.shape();
            if (sh.length < 2) throw new IllegalArgumentException(op + ": expected input [N, C, ...], got " + java.util.Arrays.toString(sh));
            if (!x.dtype().isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + x.dtype());
            if (!x.isContiguous()) throw new IllegalArgumentException(op + ": expected a contiguous input");
            long s = 1;
            for (int d = 2; d < sh.length; d++) s *= sh[d];
            // zero spatial positions make every image's run empty: no runs at all, so an empty batch of 2^36 images
            // costs nothing (the loops over images are per channel)
            return new Layout(s == 0 ? 0 : sh[0], Math.toIntExact(sh[1]), s);
        }

        long count() { return n * s; }

        /** Element offset (from the array's start) of channel ch's run for image i. */
        long run(long i, int ch) { return (i * c + ch) * s; }
    }

    private static void requireSameSize(String op, Operand x, Operand... others) {
        for (Operand o : others) {
            if (o != null && (o.numel() != x.numel() || !o.isContiguous())) {
                throw new IllegalArgumentException(op + ": expected contiguous operands of " + x.numel() + " elements, got " + o.numel());
            }
        }
    }

    static void forward(Operand x, Operand weight, Operand bias, double eps, Operand out, Operand mean, Operand var) {
        Layout l = Layout.of("batchNorm", x);
        requireSameSize("batchNorm", x, out);
        // an empty batch still writes its statistics: 0 / 0, NaN (as the composed and the CUDA forms do)
        double[] w = CpuNorm.vector(weight, l.c, 1), b = CpuNorm.vector(bias, l.c, 0);
        boolean simd = x.dtype() == DType.F32 && out.dtype() == DType.F32;
        Parallel.forEach(l.c, ch -> {
            double[] buf = simd ? null : new double[Math.toIntExact(l.s)];
            double total = 0;
            for (long i = 0; i < l.n; i++) total += simd ? VectorF32.sum(x.seg(), x.offset() + l.run(i, ch), l.s) : sumRun(x, l.run(i, ch), l.s, buf);
            double mu = total / l.count();
            double squares = 0;
            for (long i = 0; i < l.n; i++) {
                squares += simd ? CpuNorm.centredSquaresF32(x.seg(), x.offset() + l.run(i, ch), l.s, (float) mu) : centredSquares(x, l.run(i, ch), l.s, mu, buf);
            }
            double v = squares / l.count(), scale = w[ch] / Math.sqrt(v + eps), shift = b[ch] - mu * scale;
            for (long i = 0; i < l.n; i++) affine(x, out, l.run(i, ch), l.s, scale, 0, shift, simd, buf, null);
            ElementIO.setDouble(mean.dtype(), mean.seg(), mean.offset() + ch, mu);
            ElementIO.setDouble(var.dtype(), var.seg(), var.offset() + ch, v);
        });
    }

    static void backward(Operand gradOut, Operand x, Operand mean, Operand var, Operand weight, double eps,
                         Operand gradX, Operand gradWeight, Operand gradBias) {
        Layout l = Layout.of("batchNormBackward", x);
        requireSameSize("batchNormBackward", x, gradOut, gradX);
        double[] w = CpuNorm.vector(weight, l.c, 1);
        double[] gw = new double[l.c], gb = new double[l.c];
        boolean simd = x.dtype() == DType.F32 && gradOut.dtype() == DType.F32 && (gradX == null || gradX.dtype() == DType.F32);
        Parallel.forEach(l.c, ch -> {
            double mu = ElementIO.getDouble(mean.dtype(), mean.seg(), mean.offset() + ch);
            double rstd = 1 / Math.sqrt(ElementIO.getDouble(var.dtype(), var.seg(), var.offset() + ch) + eps);
            double[] gBuf = simd ? null : new double[Math.toIntExact(l.s)], xBuf = simd ? null : new double[Math.toIntExact(l.s)];
            double sumG = 0, sumGX = 0;  // sum of g, and of g * (x - mean)
            for (long i = 0; i < l.n; i++) {
                long at = l.run(i, ch);
                if (simd) {
                    double[] two = sumsF32(gradOut.seg(), gradOut.offset() + at, x.seg(), x.offset() + at, l.s, (float) mu);
                    sumG += two[0];
                    sumGX += two[1];
                } else {
                    ElementIO.load(gradOut.dtype(), gradOut.seg(), gradOut.offset() + at, 1, gBuf, (int) l.s);
                    ElementIO.load(x.dtype(), x.seg(), x.offset() + at, 1, xBuf, (int) l.s);
                    for (int k = 0; k < l.s; k++) {
                        sumG += gBuf[k];
                        sumGX += gBuf[k] * (xBuf[k] - mu);
                    }
                }
            }
            gb[ch] = sumG;
            gw[ch] = l.count() == 0 ? 0 : sumGX * rstd;  // an empty sum is 0, although rstd is NaN then
            if (gradX == null || l.count() == 0) return;
            // gradX = w rstd (g - sumG / M - xhat * gw / M) = A g + B x + C, per element two multiply-adds.
            double m = l.count(), a = w[ch] * rstd, bx = -a * rstd * rstd * sumGX / m, c0 = -a * sumG / m - bx * mu;
            for (long i = 0; i < l.n; i++) affine(x, gradX, l.run(i, ch), l.s, bx, a, c0, simd, xBuf, gradOut);
        });
        if (gradWeight != null) ElementIO.store(gradWeight.dtype(), gradWeight.seg(), gradWeight.offset(), 1, gw, l.c);
        if (gradBias != null) ElementIO.store(gradBias.dtype(), gradBias.seg(), gradBias.offset(), 1, gb, l.c);
    }

    private static double sumRun(Operand x, long at, long len, double[] buf) {
        ElementIO.load(x.dtype(), x.seg(), x.offset() + at, 1, buf, (int) len);
        double t = 0;
        for (int k = 0; k < len; k++) t += buf[k];
        return t;
    }

    private static double centredSquares(Operand x, long at, long len, double mu, double[] buf) {
        ElementIO.load(x.dtype(), x.seg(), x.offset() + at, 1, buf, (int) len);
        double t = 0;
        for (int k = 0; k < len; k++) t += (buf[k] - mu) * (buf[k] - mu);
        return t;
    }

    /** Vectors added in float before their lanes go to a double: float error stays bounded per block. */
    private static final int BLOCK = 256 * S.length();

    /** {sum of g, sum of g * (x - mu)} over one run. */
    private static double[] sumsF32(MemorySegment gs, long go, MemorySegment xs, long xo, long n, float mu) {
        long i = 0, ub = S.loopBound(n);
        double sg = 0, sgx = 0;
        while (i < ub) {
            FloatVector accG = FloatVector.zero(S), accGX = FloatVector.zero(S);
            for (long end = Math.min(ub, i + BLOCK); i < end; i += S.length()) {
                FloatVector g = FloatVector.fromMemorySegment(S, gs, (go + i) * 4, ORDER);
                accG = accG.add(g);
                accGX = g.fma(FloatVector.fromMemorySegment(S, xs, (xo + i) * 4, ORDER).sub(mu), accGX);
            }
            sg += VectorF32.sumLanes(accG);
            sgx += VectorF32.sumLanes(accGX);
        }
        for (; i < n; i++) {
            double g = gs.get(ElementIO.FLOAT, (go + i) * 4);
            sg += g;
            sgx += g * (xs.get(ElementIO.FLOAT, (xo + i) * 4) - mu);
        }
        return new double[] {sg, sgx};
    }

    /** dst = x * bx + g * a + c over one run (g absent: a unused). */
    private static void affine(Operand x, Operand dst, long at, long len, double bx, double a, double c, boolean simd, double[] buf,
                               Operand g) {
        MemorySegment xs = x.seg(), ds = dst.seg();
        long xo = x.offset() + at, dO = dst.offset() + at;
        if (simd) {
            float fb = (float) bx, fa = (float) a, fc = (float) c;
            long i = 0, ub = S.loopBound(len);
            if (g == null) {
                for (; i < ub; i += S.length()) {
                    FloatVector.fromMemorySegment(S, xs, (xo + i) * 4, ORDER).fma(fb, fc).intoMemorySegment(ds, (dO + i) * 4, ORDER);
                }
                for (; i < len; i++) ds.set(ElementIO.FLOAT, (dO + i) * 4, Math.fma(xs.get(ElementIO.FLOAT, (xo + i) * 4), fb, fc));
            } else {
                MemorySegment gs = g.seg();
                long go = g.offset() + at;
                FloatVector va = FloatVector.broadcast(S, fa);
                for (; i < ub; i += S.length()) {
                    FloatVector t = FloatVector.fromMemorySegment(S, xs, (xo + i) * 4, ORDER).fma(fb, fc);
                    FloatVector.fromMemorySegment(S, gs, (go + i) * 4, ORDER).fma(va, t).intoMemorySegment(ds, (dO + i) * 4, ORDER);
                }
                for (; i < len; i++) {
                    float t = Math.fma(xs.get(ElementIO.FLOAT, (xo + i) * 4), fb, fc);
                    ds.set(ElementIO.FLOAT, (dO + i) * 4, Math.fma(gs.get(ElementIO.FLOAT, (go + i) * 4), fa, t));
                }
            }
            return;
        }
        int n = (int) len;
        ElementIO.load(x.dtype(), xs, xo, 1, buf, n);
        double[] gv = null;
        if (g != null) {
            gv = new double[n];
            ElementIO.load(g.dtype(), g.seg(), g.offset() + at, 1, gv, n);
        }
        for (int k = 0; k < n; k++) buf[k] = buf[k] * bx + (gv == null ? 0 : gv[k] * a) + c;
        ElementIO.store(dst.dtype(), ds, dO, 1, buf, n);
    }
}
