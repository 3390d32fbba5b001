package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentSkipListMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer normalisation over contiguous rows and its gradient. F32 rows take a SIMD loop (the statistics in two
 * passes, mean then centred squares, so that a large mean does not cancel the variance away); the other dtypes go
 * through a buffer of doubles. Statistics are kept in double and stored in the stats dtype (F32, or F64 for F64).
 */
final class CpuNorm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private CpuNorm() {}

    private static void check(String op, Operand x, int n, Operand... sameShape) {
        if (n < 1) throw new IllegalArgumentException(op + ": normalizedSize must be >= 1, got " + n);
        if (!x.dtype().isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + x.dtype());
        if (!x.isContiguous()) throw new IllegalArgumentException(op + ": expected a contiguous input");
        if (x.numel() % n != 0) {
            throw new IllegalArgumentException(op + ": " + x.numel() + " elements are not whole rows of " + n);
        }
        for (Operand o : sameShape) {
            if (o != null && (o.numel() != x.numel() || !o.isContiguous())) {
                throw new IllegalArgumentException(op + ": expected contiguous operands of " + x.numel() + " elements, got " + o.numel());
            }
        }
    }

    /** weight or bias as doubles (fill when absent). */
    static double[] vector(Operand p, int n, double fill) {
        double[] v = new double[n];
        if (p == null) java.util.Arrays.fill(v, fill);
        else ElementIO.load(p.dtype(), p.seg(), p.offset(), 1, v, n);
        return v;
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    static void forward(Operand x, int n, Operand weight, Operand bias, double eps, Operand out, Operand mean, Operand rstd) {
        check("layerNorm", x, n, out);
        long rows = x.numel() / n;
        double[] w = vector(weight, n, 1), b = vector(bias, n, 0);
        boolean simd = x.dtype() == DType.F32 && out.dtype() == DType.F32;
        float[] wf = simd ? toFloats(w) : null, bf = simd ? toFloats(b) : null;
        Parallel.forRange(rows, 4L * n, (start, end) -> {
            double[] buf = simd ? null : new double[n];
            for (long r = start; r < end; r++) {
                long xo = x.offset() + r * n, oo = out.offset() + r * n;
                double mu, rs;
                if (simd) {
                    mu = meanF32(x.seg(), xo, n);
                    rs = 1 / Math.sqrt(centredSquaresF32(x.seg(), xo, n, (float) mu) / n + eps);
                    normaliseF32(x.seg(), xo, out.seg(), oo, n, (float) mu, (float) rs, wf, bf);
                } else {
                    ElementIO.load(x.dtype(), x.seg(), xo, 1, buf, n);
                    double s = 0;
                    for (int i = 0; i < n; i++) s += buf[i];
                    mu = s / n;
                    double q = 0;
                    for (int i = 0; i < n; i++) q += (buf[i] - mu) * (buf[i] - mu);
                    rs = 1 / Math.sqrt(q / n + eps);
                    for (int i = 0; i < n; i++) buf[i] = (buf[i] - mu) * rs * w[i] + b[i];
                    ElementIO.store(out.dtype(), out.seg(), oo, 1, buf, n);
                }
                ElementIO.setDouble(mean.dtype(), mean.seg(), mean.offset() + r, mu);
                ElementIO.setDouble(rstd.dtype(), rstd.seg(), rstd.offset() + r, rs);
            }
        });
    }

    private static double meanF32(MemorySegment s, long off, int n) {
        int i = 0, ub = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        double total = 0;
        // Blocks of 256 vectors are summed in float and then added in double: float error stays bounded per block.
        while (i < ub) {
            int blockEnd = Math.min(ub, i + 256 * S.length());
            for (; i < blockEnd; i += S.length()) acc = acc.add(FloatVector.fromMemorySegment(S, s, (off + i) * 4, ORDER));
            total += VectorF32.sumLanes(acc);
            acc = FloatVector.zero(S);
        }
        for (; i < n; i++) total += s.get(ElementIO.FLOAT, (off + i) * 4);
        return total / n;
    }

    /** Sum of (x - mu)^2 over n F32 elements from element off (also batch norm's, per run of a channel). */
    static double centredSquaresF32(MemorySegment s, long off, long n, float mu) {
        long i = 0, ub = S.loopBound(n);
        double total = 0;
        while (i < ub) {
            FloatVector acc = FloatVector.zero(S);
            long blockEnd = Math.min(ub, i + 256 * S.length());
            for (; i < blockEnd; i += S.length()) {
                FloatVector d = FloatVector.fromMemorySegment(S, s, (off + i) * 4, ORDER).sub(mu);
                acc = d.fma(d, acc);
            }
            total += VectorF32.sumLanes(acc);
        }
        for (; i < n; i++) {
            double d = s.get(ElementIO.FLOAT, (off + i) * 4) - mu;
            total += d * d;
        }
        return total;
    }

    private static void normaliseF32(MemorySegment xs, long xo, MemorySegment os, long oo, int n, float mu, float rs, float[] w, float[] b) {
        int i = 0, ub = S.loopBound(n);
        for (; i < ub; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, xs, (xo + i) * 4, ORDER).sub(mu).mul(rs);
            v.fma(FloatVector.fromArray(S, w, i), FloatVector.fromArray(S, b, i)).intoMemorySegment(os, (oo + i) * 4, ORDER);
        }
        for (; i < n; i++) os.set(ElementIO.FLOAT, (oo + i) * 4, Math.fma((xs.get(ElementIO.FLOAT, (xo + i) * 4) - mu) * rs, w[i], b[i]));
    }

    static void backward(Operand gradOut, Operand x, Operand mean, Operand rstd, Operand weight,
                         Operand gradX, Operand gradWeight, Operand gradBias) {
        if (x.numel() == 0 || mean.numel() == 0) {  // no rows: the parameter gradients are sums of nothing
            for (Operand p : new Operand[] {gradWeight, gradBias}) {
                if (p != null) ElementIO.store(p.dtype(), p.seg(), p.offset(), 1, new double[(int) p.numel()], (int) p.numel());
            }
            return;
        }
        long perRow = x.numel() / mean.numel();
        if (perRow > Integer.MAX_VALUE) throw new IllegalArgumentException("layerNormBackward: rows of " + perRow + " elements are too long");
        int n = (int) perRow;
        check("layerNormBackward", x, n, gradOut, gradX);
        long rows = x.numel() / n;
        if (mean.numel() != rows || rstd.numel() != rows) {
            throw new IllegalArgumentException("layerNormBackward: expected mean and rstd of " + rows + " rows, got " + mean.numel() + " and " + rstd.numel());
        }
        double[] w = vector(weight, n, 1);
        boolean params = gradWeight != null || gradBias != null;
        // Per-piece partial sums of the parameter gradients, merged in row order afterwards so that the result does
        // not depend on which piece finished first.
        ConcurrentSkipListMap<Long, double[][]> partials = new ConcurrentSkipListMap<>();
        Parallel.forRange(rows, 6L * n, (start, end) -> {
            double[] g = new double[n], xh = new double[n];
            double[] gw = params ? new double[n] : null, gb = params ? new double[n] : null;
            for (long r = start; r < end; r++) {
                ElementIO.load(gradOut.dtype(), gradOut.seg(), gradOut.offset() + r * n, 1, g, n);
                ElementIO.load(x.dtype(), x.seg(), x.offset() + r * n, 1, xh, n);
                double mu = ElementIO.getDouble(mean.dtype(), mean.seg(), mean.offset() + r);
                double rs = ElementIO.getDouble(rstd.dtype(), rstd.seg(), rstd.offset() + r);
                double sumG = 0, sumGX = 0;
                for (int i = 0; i < n; i++) {
                    xh[i] = (xh[i] - mu) * rs;
                    if (params) {
                        gw[i] += g[i] * xh[i];
                        gb[i] += g[i];
                    }
                    double gi = g[i] * w[i];
                    sumG += gi;
                    sumGX += gi * xh[i];
                }
                if (gradX != null) {
                    double mg = sumG / n, mgx = sumGX / n;
                    for (int i = 0; i < n; i++) g[i] = rs * (g[i] * w[i] - mg - xh[i] * mgx);
                    ElementIO.store(gradX.dtype(), gradX.seg(), gradX.offset() + r * n, 1, g, n);
                }
            }
            if (params) partials.put(start, new double[][] {gw, gb});
        });
        if (!params) return;
        double[] gw = new double[n], gb = new double[n];
        for (double[][] p : partials.values()) {
            for (int i = 0; i < n; i++) {
                gw[i] += p[0][i];
                gb[i] += p[1][i];
            }
        }
        if (gradWeight != null) ElementIO.store(gradWeight.dtype(), gradWeight.seg(), gradWeight.offset(), 1, gw, n);
        if (gradBias != null) ElementIO.store(gradBias.dtype(), gradBias.seg(), gradBias.offset(), 1, gb, n);
    }
}
