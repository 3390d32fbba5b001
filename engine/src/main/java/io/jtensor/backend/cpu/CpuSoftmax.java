package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.backend.BackendContract;
import java.util.Arrays;
import java.util.function.LongFunction;

/**
 * Softmax, log-softmax and their gradient along one dim. Rows whose elements are contiguous take the SIMD row
 * kernel (F32) or a buffered double loop; when the dim is strided but its neighbours are contiguous (softmax over
 * channels of [N, C, H, W]), blocks of rows are processed side by side so that every load is contiguous.
 * Stable form: exp(x - max) / sum, log-softmax x - max - log(sum).
 */
final class CpuSoftmax {
    private static final int CHUNK = CpuElementwise.CHUNK;

    private CpuSoftmax() {}

    /** The row structure of a set of same-shaped operands: rows = all dims but dim, row elements along dim. */
    private record Rows(LoopNest nest, long length, long[] rowStrides) {
        static Rows of(Operand[] ops, int dim) {
            long[] shape = ops[0].shape();
            if (shape.length == 0) {
                long[][] st = new long[ops.length][0];
                return new Rows(LoopNest.of(new long[0], st), 1, new long[ops.length]);
            }
            long[] rowShape = new long[shape.length - 1];
            long[][] st = new long[ops.length][shape.length - 1];
            long[] along = new long[ops.length];
            for (int d = 0, k = 0; d < shape.length; d++) {
                if (d == dim) continue;
                rowShape[k] = shape[d];
                for (int o = 0; o < ops.length; o++) st[o][k] = ops[o].strides()[d];
                k++;
            }
            for (int o = 0; o < ops.length; o++) along[o] = ops[o].strides()[dim];
            return new Rows(LoopNest.of(rowShape, st), shape[dim], along);
        }

        long[] bases(Operand[] ops) {
            long[] b = new long[ops.length];
            for (int o = 0; o < ops.length; o++) b[o] = ops[o].offset();
            return b;
        }

        /** Whether every operand's neighbouring rows are adjacent in memory (the column-block layout). */
        boolean columnar() {
            if (nest.innerSize() < 16) return false;
            for (int o = 0; o < rowStrides.length; o++) if (nest.innerStride(o) != 1 || rowStrides[o] == 1) return false;
            return true;
        }
    }

    private static void checkDim(String name, Operand x, int dim, Operand... others) {
        for (Operand o : others) BackendContract.requireSameShape(name, x.shape(), o.shape());
        BackendContract.requireDim(name, x.rank(), dim);
    }

    /** Inputs at least this large that are not laid out like out are first copied into out's layout. */
    private static final long RELAYOUT_MIN = 4096;

    /**
     * @param scratch temporary memory for repacking a strided input, or null to compute on it in place
     */
    static void softmax(Operand x, int dim, boolean log, Operand out, LongFunction<CpuAllocator.Scratch> scratch) {
        String name = log ? "logSoftmax" : "softmax";
        checkDim(name, x, dim, out);
        if (scratch != null && x.numel() >= RELAYOUT_MIN && !x.isContiguous() && out.isContiguous()) {
            // A strided input (a transpose, say) would make every row pass stride through memory; one tiled copy
            // into out's layout turns it into contiguous rows or adjacent columns.
            try (CpuAllocator.Scratch tmp = scratch.apply(x.numel() * x.dtype().byteSize())) {
                Operand packed = new Operand(tmp.segment, x.dtype(), 0, x.shape(), out.strides());
                CpuCopy.copy(x, packed);
                softmax(packed, dim, log, out, null);
            }
            return;
        }
        Operand[] ops = {out, x};
        Rows rows = Rows.of(ops, dim);
        long d = rows.length();
        if (rows.nest().numel == 0 || d == 0) return;
        long os = rows.rowStrides()[0], xs = rows.rowStrides()[1];
        boolean f32 = x.dtype() == DType.F32 && out.dtype() == DType.F32 && os == 1 && xs == 1;
        boolean f64 = x.dtype() == DType.F64 && out.dtype() == DType.F64 && os == 1 && xs == 1;
        boolean columns = !f32 && !f64 && rows.columnar();
        boolean columns32 = columns && x.dtype() == DType.F32 && out.dtype() == DType.F32;
        long[] base = rows.bases(ops);
        LoopNest nest = rows.nest();
        Parallel.forRange(nest.numel, d * 4, (start, end) -> {
            double[][] bufs = new double[3][];
            nest.forRuns(start, end, base, (offs, len) -> {
                long ro = nest.innerStride(0), rx = nest.innerStride(1);
                if (columns) {
                    for (long c = 0; c < len; c += CHUNK) {
                        int m = (int) Math.min(CHUNK, len - c);
                        if (columns32) VectorF32.softmaxColumns(x.seg(), offs[1] + c, xs, out.seg(), offs[0] + c, os, d, m, log);
                        else softmaxColumns(x, offs[1] + c, xs, out, offs[0] + c, os, d, m, log, bufs);
                    }
                    return;
                }
                for (long i = 0; i < len; i++) {
                    long xo = offs[1] + i * rx, oo = offs[0] + i * ro;
                    if (f32) VectorF32.softmaxRow(x.seg(), xo, out.seg(), oo, d, log);
                    else if (f64) VectorF64.softmaxRow(x.seg(), xo, out.seg(), oo, d, log);
                    else softmaxRow(x, xo, xs, out, oo, os, d, log, bufs);
                }
            });
        });
    }

    private static double[] buf(double[][] bufs, int k, int n) {
        if (bufs[k] == null || bufs[k].length < n) bufs[k] = new double[n];
        return bufs[k];
    }

    /** One row in three buffered passes: max, sum of exp, write. */
    private static void softmaxRow(Operand x, long xo, long xs, Operand out, long oo, long os, long d, boolean log, double[][] bufs) {
        double[] b = buf(bufs, 0, (int) Math.min(CHUNK, d));
        double max = Double.NEGATIVE_INFINITY;
        for (long c = 0; c < d; c += CHUNK) {
            int m = (int) Math.min(CHUNK, d - c);
            ElementIO.load(x.dtype(), x.seg(), xo + c * xs, xs, b, m);
            for (int j = 0; j < m; j++) max = Math.max(max, b[j]);
        }
        double sum = 0;
        for (long c = 0; c < d; c += CHUNK) {
            int m = (int) Math.min(CHUNK, d - c);
            ElementIO.load(x.dtype(), x.seg(), xo + c * xs, xs, b, m);
            for (int j = 0; j < m; j++) sum += Math.exp(b[j] - max);
        }
        double logSum = Math.log(sum);
        for (long c = 0; c < d; c += CHUNK) {
            int m = (int) Math.min(CHUNK, d - c);
            ElementIO.load(x.dtype(), x.seg(), xo + c * xs, xs, b, m);
            if (log) for (int j = 0; j < m; j++) b[j] = b[j] - max - logSum;
            else for (int j = 0; j < m; j++) b[j] = Math.exp(b[j] - max) / sum;
            ElementIO.store(out.dtype(), out.seg(), oo + c * os, os, b, m);
        }
    }

    /** m adjacent rows at once: each step along dim loads m contiguous elements. */
    private static void softmaxColumns(Operand x, long xo, long xs, Operand out, long oo, long os, long d, int m, boolean log, double[][] bufs) {
        double[] b = buf(bufs, 0, m), max = buf(bufs, 1, m), sum = buf(bufs, 2, m);
        Arrays.fill(max, 0, m, Double.NEGATIVE_INFINITY);
        Arrays.fill(sum, 0, m, 0);
        for (long k = 0; k < d; k++) {
            ElementIO.load(x.dtype(), x.seg(), xo + k * xs, 1, b, m);
            for (int j = 0; j < m; j++) max[j] = Math.max(max[j], b[j]);
        }
        for (long k = 0; k < d; k++) {
            ElementIO.load(x.dtype(), x.seg(), xo + k * xs, 1, b, m);
            for (int j = 0; j < m; j++) sum[j] += Math.exp(b[j] - max[j]);
        }
        if (log) for (int j = 0; j < m; j++) sum[j] = max[j] + Math.log(sum[j]);
        for (long k = 0; k < d; k++) {
            ElementIO.load(x.dtype(), x.seg(), xo + k * xs, 1, b, m);
            if (log) for (int j = 0; j < m; j++) b[j] = b[j] - sum[j];
            else for (int j = 0; j < m; j++) b[j] = Math.exp(b[j] - max[j]) / sum[j];
            ElementIO.store(out.dtype(), out.seg(), oo + k * os, 1, b, m);
        }
    }

    /** softmax: gx = y * (gy - sum(gy * y)); log-softmax: gx = gy - exp(y) * sum(gy). */
    static void softmaxBackward(Operand y, Operand gy, int dim, boolean log, Operand gx) {
        String name = log ? "logSoftmaxBackward" : "softmaxBackward";
        checkDim(name, y, dim, gy, gx);
        Operand[] ops = {gx, y, gy};
        Rows rows = Rows.of(ops, dim);
        long d = rows.length();
        if (rows.nest().numel == 0 || d == 0) return;
        long gxs = rows.rowStrides()[0], ys = rows.rowStrides()[1], gys = rows.rowStrides()[2];
        boolean f32 = gx.dtype() == DType.F32 && y.dtype() == DType.F32 && gy.dtype() == DType.F32 && gxs == 1 && ys == 1 && gys == 1;
        long[] base = rows.bases(ops);
        LoopNest nest = rows.nest();
        Parallel.forRange(nest.numel, d * 3, (start, end) -> {
            int cap = (int) Math.min(CHUNK, d);
            double[] yb = new double[cap], gb = new double[cap];
            nest.forRuns(start, end, base, (offs, len) -> {
                for (long i = 0; i < len; i++) {
                    long go = offs[0] + i * nest.innerStride(0), yo = offs[1] + i * nest.innerStride(1), gyo = offs[2] + i * nest.innerStride(2);
                    if (f32) {
                        VectorF32.softmaxBackwardRow(y.seg(), yo, gy.seg(), gyo, gx.seg(), go, d, log);
                        continue;
                    }
                    double s = 0;
                    for (long c = 0; c < d; c += CHUNK) {
                        int m = (int) Math.min(CHUNK, d - c);
                        ElementIO.load(gy.dtype(), gy.seg(), gyo + c * gys, gys, gb, m);
                        if (log) {
                            for (int j = 0; j < m; j++) s += gb[j];
                        } else {
                            ElementIO.load(y.dtype(), y.seg(), yo + c * ys, ys, yb, m);
                            for (int j = 0; j < m; j++) s += gb[j] * yb[j];
                        }
                    }
                    for (long c = 0; c < d; c += CHUNK) {
                        int m = (int) Math.min(CHUNK, d - c);
                        ElementIO.load(gy.dtype(), gy.seg(), gyo + c * gys, gys, gb, m);
                        ElementIO.load(y.dtype(), y.seg(), yo + c * ys, ys, yb, m);
                        if (log) for (int j = 0; j < m; j++) gb[j] = gb[j] - Math.exp(yb[j]) * s;
                        else for (int j = 0; j < m; j++) gb[j] = yb[j] * (gb[j] - s);
                        ElementIO.store(gx.dtype(), gx.seg(), go + c * gxs, gxs, gb, m);
                    }
                }
            });
        });
    }
}
