package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.backend.BackendContract;
import io.jtensor.backend.ReduceOp;
import java.util.Arrays;

/**
 * Reductions over any set of dims. The kept dims and the reduced dims each become a collapsed loop nest; the flat
 * index over the collapsed reduced nest equals the flat index over the original reduced dims, which is what
 * MAX/MIN/ARGMAX/ARGMIN report. Two walking orders:
 * <ul>
 * <li>rows: each output folds its reduced elements (best when the reduced elements are contiguous); a single
 *     large reduction is split across cores into partial folds combined in order;</li>
 * <li>columns: when the kept elements are contiguous in x (e.g. summing [N, C] over N), a block of outputs is
 *     folded at once, one contiguous slice of x per reduced position.</li>
 * </ul>
 * Floating inputs fold in double (sums of F16/BF16/F32 are accumulated in double), integer inputs in long.
 * MAX/MIN propagate NaN, and report the first NaN or the first occurrence of the extreme value.
 */
final class CpuReduce {
    private static final int CHUNK = CpuElementwise.CHUNK;
    private static final long COLUMN_MAX_REDUCED = 1 << 22;

    private CpuReduce() {}

    /** What one fold computes; MAX_I/MIN_I also track the index. SUMEXP is LOGSUMEXP's second pass. */
    enum Fold { SUM, PROD, MAX, MIN, MAX_I, MIN_I, ANY, ALL, SUMEXP }

    /** A running fold: value (double or long domain) and index of the extreme. */
    static final class Partial {
        double d;
        long l;
        long index = 0;
        boolean seen;

        Partial(Fold f, boolean longDomain) {
            switch (f) {
                case PROD, ALL -> { d = 1; l = 1; }
                default -> { d = 0; l = 0; }
            }
        }
    }

    static void reduce(ReduceOp op, Operand x, int[] dims, Operand out, Operand indices) {
        BackendContract.requireReduction(op, x.shape(), dims, out.shape(), indices == null ? null : indices.shape());
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        for (int d : dims) reduced[d] = true;
        int nRed = 0;
        for (boolean b : reduced) if (b) nRed++;
        long[] keptShape = new long[rank - nRed], keptX = new long[rank - nRed], keptOut = new long[rank - nRed], keptIdx = new long[rank - nRed];
        long[] redShape = new long[nRed], redX = new long[nRed];
        long[] xs = x.strides(), os = out.strides(), is = indices == null ? null : indices.strides();
        for (int d = 0, k = 0, r = 0; d < rank; d++) {
            long size = x.shape()[d];
            if (reduced[d]) {
                redShape[r] = size;
                redX[r++] = xs[d];
            } else {
                keptShape[k] = size;
                keptX[k] = xs[d];
                keptOut[k] = os[d];
                keptIdx[k++] = is == null ? 0 : is[d];
            }
        }
        boolean reportsIndex = indices != null || op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN;
        if (!reportsIndex) sortByStride(redShape, redX); // any walking order gives the same result: take memory's
        LoopNest outer = LoopNest.of(keptShape, keptX, keptOut, keptIdx);
        LoopNest inner = LoopNest.of(redShape, redX);
        if (outer.numel == 0) return;
        long rCount = inner.numel;

        boolean longDomain = x.dtype().isIntegral() && op != ReduceOp.LOGSUMEXP;
        Fold fold = switch (op) {
            case SUM -> Fold.SUM;
            case PROD -> Fold.PROD;
            case MAX -> indices != null ? Fold.MAX_I : Fold.MAX;
            case MIN -> indices != null ? Fold.MIN_I : Fold.MIN;
            case ARGMAX -> Fold.MAX_I;
            case ARGMIN -> Fold.MIN_I;
            case ANY -> Fold.ANY;
            case ALL -> Fold.ALL;
            case LOGSUMEXP -> Fold.MAX;
        };
        Writer writer = new Writer(op, out, indices);
        long keptInner = outer.innerSize();
        // Columns keep one offset per reduced position in an array, so very long reductions walk rows instead.
        boolean columns = outer.innerStride(0) == 1 && keptInner >= 16 && rCount > 1 && rCount <= COLUMN_MAX_REDUCED
                && inner.innerStride(0) != 1;
        if (columns) {
            reduceColumns(op, fold, longDomain, x, outer, inner, writer);
        } else {
            reduceRows(op, fold, longDomain, x, outer, inner, writer);
        }
    }

    /**
     * Reorders dims so that strides decrease (the smallest stride innermost), as memory lays them out: a reduction
     * over all of a transposed array then reads it sequentially. Only for folds that report no index, whose
     * result does not depend on the order (up to rounding).
     */
    private static void sortByStride(long[] shape, long[] strides) {
        for (int i = 1; i < shape.length; i++) {
            for (int j = i; j > 0 && Math.abs(strides[j]) > Math.abs(strides[j - 1]); j--) {
                long t = strides[j]; strides[j] = strides[j - 1]; strides[j - 1] = t;
                t = shape[j]; shape[j] = shape[j - 1]; shape[j - 1] = t;
            }
        }
    }

    /** Writes one result: the value (in out's dtype) and, where asked for, the index. */
    private record Writer(ReduceOp op, Operand out, Operand indices) {
        void write(long outOff, long idxOff, Partial p, boolean longDomain) {
            switch (op) {
                case ARGMAX, ARGMIN -> ElementIO.setLong(out.dtype(), out.seg(), outOff, p.index);
                case LOGSUMEXP -> ElementIO.setDouble(out.dtype(), out.seg(), outOff, p.d);
                default -> {
                    if (longDomain) ElementIO.setLong(out.dtype(), out.seg(), outOff, p.l);
                    else ElementIO.setDouble(out.dtype(), out.seg(), outOff, p.d);
                    if (indices != null) ElementIO.setLong(indices.dtype(), indices.seg(), idxOff, p.index);
                }
            }
        }
    }

    // ------------------------------------------------------------------ rows

    private static void reduceRows(ReduceOp op, Fold fold, boolean longDomain, Operand x, LoopNest outer, LoopNest inner, Writer w) {
        long oCount = outer.numel, rCount = inner.numel;
        long[] base = {x.offset(), w.out().offset(), w.indices() == null ? 0 : w.indices().offset()};
        if (oCount >= Parallel.THREADS * 4L || rCount * oCount < Parallel.MIN_WORK * 2) {
            Parallel.forRange(oCount, Math.max(rCount, 1), (start, end) -> outer.forRuns(start, end, base, (offs, len) -> {
                long xs = outer.innerStride(0), os = outer.innerStride(1), is = outer.innerStride(2);
                for (long i = 0; i < len; i++) {
                    Partial p = foldAll(op, fold, longDomain, x, inner, offs[0] + i * xs);
                    w.write(offs[1] + i * os, offs[2] + i * is, p, longDomain);
                }
            }));
            return;
        }
        // Few outputs, many elements each: split every reduction across cores.
        outer.forRuns(0, oCount, base, (offs, len) -> {
            long xs = outer.innerStride(0), os = outer.innerStride(1), is = outer.innerStride(2);
            for (long i = 0; i < len; i++) {
                long xBase = offs[0] + i * xs;
                Partial p = foldSplit(fold, longDomain, x, inner, xBase, 0);
                if (op == ReduceOp.LOGSUMEXP) {
                    double max = p.d;
                    Partial s = foldSplit(Fold.SUMEXP, false, x, inner, xBase, max);
                    p.d = logSumExp(max, s.d);
                }
                w.write(offs[1] + i * os, offs[2] + i * is, p, longDomain);
            }
        });
    }

    private static Partial foldAll(ReduceOp op, Fold fold, boolean longDomain, Operand x, LoopNest inner, long xBase) {
        Partial p = new Partial(fold, longDomain);
        if ((x.dtype() == DType.F32 || x.dtype() == DType.F64) && inner.rank == 1 && inner.innerStride(0) == 1 && inner.numel > 0
                && (fold == Fold.SUM || fold == Fold.MAX || fold == Fold.MIN)) {
            // One contiguous F32/F64 row: straight to the SIMD loop.
            p.d = simdFold(fold, x, xBase, inner.numel);
            p.seen = true;
            if (op == ReduceOp.LOGSUMEXP) {
                Partial s = new Partial(Fold.SUMEXP, false);
                foldRange(Fold.SUMEXP, false, x, inner, xBase, 0, inner.numel, s, p.d);
                p.d = logSumExp(p.d, s.d);
            }
            return p;
        }
        foldRange(fold, longDomain, x, inner, xBase, 0, inner.numel, p, 0);
        if (op == ReduceOp.LOGSUMEXP) {
            if (!p.seen) {
                p.d = Double.NEGATIVE_INFINITY; // log of an empty sum
                return p;
            }
            Partial s = new Partial(Fold.SUMEXP, false);
            foldRange(Fold.SUMEXP, false, x, inner, xBase, 0, inner.numel, s, p.d);
            p.d = logSumExp(p.d, s.d);
        }
        return p;
    }

    private static double simdFold(Fold fold, Operand x, long at, long len) {
        if (x.dtype() == DType.F64) {
            return fold == Fold.SUM ? VectorF64.sum(x.seg(), at, len) : VectorF64.max(x.seg(), at, len, fold == Fold.MIN);
        }
        return fold == Fold.SUM ? VectorF32.sum(x.seg(), at, len) : VectorF32.max(x.seg(), at, len, fold == Fold.MIN);
    }

    static double logSumExp(double max, double sumExp) {
        if (Double.isInfinite(max)) return max; // all -inf (or empty) gives -inf; any +inf gives +inf
        return max + Math.log(sumExp);
    }

    /** One fold split into per-core partials over the reduced positions, combined in order. */
    private static Partial foldSplit(Fold fold, boolean longDomain, Operand x, LoopNest inner, long xBase, double shift) {
        int pieces = Parallel.THREADS;
        long n = inner.numel, per = (n + pieces - 1) / pieces;
        Partial[] parts = new Partial[pieces];
        Parallel.forRange(pieces, per, (s, e) -> {
            for (long k = s; k < e; k++) {
                Partial p = new Partial(fold, longDomain);
                long start = k * per, end = Math.min(n, start + per);
                foldRange(fold, longDomain, x, inner, xBase, start, end, p, shift);
                parts[(int) k] = p;
            }
        });
        Partial total = parts[0];
        for (int k = 1; k < pieces; k++) combine(fold, longDomain, total, parts[k]);
        return total;
    }

    /** Merges a later partial into an earlier one (so ties keep the earlier index). */
    private static void combine(Fold fold, boolean longDomain, Partial a, Partial b) {
        if (!b.seen) return;
        if (!a.seen) {
            a.d = b.d; a.l = b.l; a.index = b.index; a.seen = true;
            return;
        }
        switch (fold) {
            case SUM, SUMEXP -> { a.d += b.d; a.l += b.l; }
            case PROD -> { a.d *= b.d; a.l *= b.l; }
            case ANY -> { a.d = (a.d != 0 || b.d != 0) ? 1 : 0; a.l = (a.l != 0 || b.l != 0) ? 1 : 0; }
            case ALL -> { a.d = (a.d != 0 && b.d != 0) ? 1 : 0; a.l = (a.l != 0 && b.l != 0) ? 1 : 0; }
            case MAX, MAX_I, MIN, MIN_I -> {
                boolean isMax = fold == Fold.MAX || fold == Fold.MAX_I;
                boolean better = longDomain
                        ? (isMax ? b.l > a.l : b.l < a.l)
                        : (isMax ? b.d > a.d : b.d < a.d) || (b.d != b.d && a.d == a.d);
                if (better) { a.d = b.d; a.l = b.l; a.index = b.index; }
            }
        }
    }

    /** Folds reduced positions [start, end) of the output whose first element sits at xBase. */
    private static void foldRange(Fold fold, boolean longDomain, Operand x, LoopNest inner, long xBase, long start, long end,
                                  Partial p, double shift) {
        if (start >= end) return;
        long[] base = {xBase};
        long rs = inner.innerStride(0);
        boolean f32 = (x.dtype() == DType.F32 || x.dtype() == DType.F64) && rs == 1 && (fold == Fold.SUM || fold == Fold.MAX || fold == Fold.MIN);
        double[] dbuf = longDomain || f32 ? null : new double[(int) Math.min(CHUNK, end - start)];
        long[] lbuf = longDomain ? new long[(int) Math.min(CHUNK, end - start)] : null;
        long[] flat = {start};
        inner.forRuns(start, end, base, (offs, len) -> {
            if (f32) {
                if (fold == Fold.SUM) {
                    p.d += simdFold(fold, x, offs[0], len);
                } else {
                    double v = simdFold(fold, x, offs[0], len);
                    p.d = !p.seen ? v : fold == Fold.MIN ? Math.min(p.d, v) : Math.max(p.d, v);
                }
                p.seen = true;
                return;
            }
            for (long c = 0; c < len; c += CHUNK) {
                int m = (int) Math.min(CHUNK, len - c);
                if (longDomain) {
                    ElementIO.load(x.dtype(), x.seg(), offs[0] + c * rs, rs, lbuf, m);
                    foldLong(fold, lbuf, m, p, flat[0]);
                } else {
                    ElementIO.load(x.dtype(), x.seg(), offs[0] + c * rs, rs, dbuf, m);
                    foldDouble(fold, dbuf, m, p, flat[0], shift);
                }
                flat[0] += m;
            }
        });
    }

    private static void foldDouble(Fold fold, double[] v, int m, Partial p, long flat, double shift) {
        int i = 0;
        if (!p.seen && m > 0 && (fold == Fold.MAX || fold == Fold.MIN || fold == Fold.MAX_I || fold == Fold.MIN_I)) {
            p.d = v[0];
            p.index = flat;
            i = 1;
        }
        if (m > 0) p.seen = true;
        double acc = p.d;
        switch (fold) {
            case SUM -> { for (; i < m; i++) acc += v[i]; }
            case SUMEXP -> { for (; i < m; i++) acc += Math.exp(v[i] - shift); }
            case PROD -> { for (; i < m; i++) acc *= v[i]; }
            case MAX -> { for (; i < m; i++) acc = Math.max(acc, v[i]); }
            case MIN -> { for (; i < m; i++) acc = Math.min(acc, v[i]); }
            case MAX_I -> {
                long idx = p.index;
                for (; i < m; i++) {
                    double e = v[i];
                    if (e > acc || (e != e && acc == acc)) { acc = e; idx = flat + i; }
                }
                p.index = idx;
            }
            case MIN_I -> {
                long idx = p.index;
                for (; i < m; i++) {
                    double e = v[i];
                    if (e < acc || (e != e && acc == acc)) { acc = e; idx = flat + i; }
                }
                p.index = idx;
            }
            case ANY -> { for (; i < m && acc == 0; i++) if (v[i] != 0) acc = 1; }
            case ALL -> { for (; i < m && acc != 0; i++) if (v[i] == 0) acc = 0; }
        }
        p.d = acc;
    }

    private static void foldLong(Fold fold, long[] v, int m, Partial p, long flat) {
        int i = 0;
        if (!p.seen && m > 0 && (fold == Fold.MAX || fold == Fold.MIN || fold == Fold.MAX_I || fold == Fold.MIN_I)) {
            p.l = v[0];
            p.index = flat;
            i = 1;
        }
        if (m > 0) p.seen = true;
        long acc = p.l;
        switch (fold) {
            case SUM -> { for (; i < m; i++) acc += v[i]; }
            case PROD -> { for (; i < m; i++) acc *= v[i]; }
            case MAX -> { for (; i < m; i++) acc = Math.max(acc, v[i]); }
            case MIN -> { for (; i < m; i++) acc = Math.min(acc, v[i]); }
            case MAX_I -> {
                long idx = p.index;
                for (; i < m; i++) if (v[i] > acc) { acc = v[i]; idx = flat + i; }
                p.index = idx;
            }
            case MIN_I -> {
                long idx = p.index;
                for (; i < m; i++) if (v[i] < acc) { acc = v[i]; idx = flat + i; }
                p.index = idx;
            }
            case ANY -> { for (; i < m && acc == 0; i++) if (v[i] != 0) acc = 1; }
            case ALL -> { for (; i < m && acc != 0; i++) if (v[i] == 0) acc = 0; }
            case SUMEXP -> throw new IllegalStateException("SUMEXP folds in double");
        }
        p.l = acc;
    }

    // ------------------------------------------------------------------ columns

    /**
     * Folds blocks of contiguous outputs at once: for each reduced position, one contiguous slice of x is loaded
     * and folded elementwise into per-output accumulators.
     */
    private static void reduceColumns(ReduceOp op, Fold fold, boolean longDomain, Operand x, LoopNest outer, LoopNest inner, Writer w) {
        long rCount = inner.numel;
        long[] base = {x.offset(), w.out().offset(), w.indices() == null ? 0 : w.indices().offset()};
        long[] rOffsets = new long[(int) rCount];
        inner.forEachOffset(0, (off, flat) -> rOffsets[(int) flat] = off);
        // LOGSUMEXP folds MAX first, then needs the SUMEXP pass that only the double path below does.
        boolean f32 = x.dtype() == DType.F32 && op != ReduceOp.LOGSUMEXP && (fold == Fold.SUM || fold == Fold.MAX || fold == Fold.MIN);
        // The SIMD path reads whole rows of up to 2048 floats, which keeps the hardware prefetcher streaming.
        int chunk = f32 ? 2048 : CHUNK;
        Parallel.forRange(outer.numel, rCount, (start, end) -> {
            int cap = (int) Math.min(chunk, end - start);
            double[] acc = new double[cap], acc2 = op == ReduceOp.LOGSUMEXP ? new double[cap] : null, buf = new double[cap];
            long[] lacc = longDomain ? new long[cap] : null, lbuf = longDomain ? new long[cap] : null;
            long[] idx = fold == Fold.MAX_I || fold == Fold.MIN_I ? new long[cap] : null;
            Partial p = new Partial(fold, longDomain);
            outer.forRuns(start, end, base, (offs, len) -> {
                long os = outer.innerStride(1), is = outer.innerStride(2);
                for (long c = 0; c < len; c += chunk) {
                    int m = (int) Math.min(chunk, len - c);
                    long xBase = offs[0] + c;
                    if (longDomain) {
                        columnsLong(fold, x, xBase, rOffsets, m, lacc, lbuf, idx);
                    } else if (f32) {
                        VectorF32.columns(fold == Fold.SUM ? 0 : fold == Fold.MAX ? 1 : 2, x.seg(), xBase, rOffsets, m, acc);
                    } else {
                        columnsDouble(fold, x, xBase, rOffsets, m, acc, buf, idx, null);
                        if (op == ReduceOp.LOGSUMEXP) {
                            columnsDouble(Fold.SUMEXP, x, xBase, rOffsets, m, acc2, buf, null, acc);
                            for (int j = 0; j < m; j++) acc[j] = logSumExp(acc[j], acc2[j]);
                        }
                    }
                    for (int j = 0; j < m; j++) {
                        p.d = longDomain ? 0 : acc[j];
                        p.l = longDomain ? lacc[j] : 0;
                        p.index = idx == null ? 0 : idx[j];
                        w.write(offs[1] + (c + j) * os, offs[2] + (c + j) * is, p, longDomain);
                    }
                }
            });
        });
    }

    private static void columnsDouble(Fold fold, Operand x, long xBase, long[] rOffsets, int m, double[] acc, double[] buf,
                                      long[] idx, double[] shift) {
        DType dt = x.dtype();
        ElementIO.load(dt, x.seg(), xBase + rOffsets[0], 1, buf, m);
        switch (fold) {
            case SUMEXP -> { for (int j = 0; j < m; j++) acc[j] = Math.exp(buf[j] - shift[j]); }
            case ANY, ALL -> { for (int j = 0; j < m; j++) acc[j] = buf[j] != 0 ? 1 : 0; }
            default -> System.arraycopy(buf, 0, acc, 0, m);
        }
        if (idx != null) Arrays.fill(idx, 0, m, 0);
        for (int r = 1; r < rOffsets.length; r++) {
            ElementIO.load(dt, x.seg(), xBase + rOffsets[r], 1, buf, m);
            switch (fold) {
                case SUM -> { for (int j = 0; j < m; j++) acc[j] += buf[j]; }
                case SUMEXP -> { for (int j = 0; j < m; j++) acc[j] += Math.exp(buf[j] - shift[j]); }
                case PROD -> { for (int j = 0; j < m; j++) acc[j] *= buf[j]; }
                case MAX -> { for (int j = 0; j < m; j++) acc[j] = Math.max(acc[j], buf[j]); }
                case MIN -> { for (int j = 0; j < m; j++) acc[j] = Math.min(acc[j], buf[j]); }
                case MAX_I -> {
                    for (int j = 0; j < m; j++) {
                        double e = buf[j], a = acc[j];
                        if (e > a || (e != e && a == a)) { acc[j] = e; idx[j] = r; }
                    }
                }
                case MIN_I -> {
                    for (int j = 0; j < m; j++) {
                        double e = buf[j], a = acc[j];
                        if (e < a || (e != e && a == a)) { acc[j] = e; idx[j] = r; }
                    }
                }
                case ANY -> { for (int j = 0; j < m; j++) if (buf[j] != 0) acc[j] = 1; }
                case ALL -> { for (int j = 0; j < m; j++) if (buf[j] == 0) acc[j] = 0; }
            }
        }
    }

    private static void columnsLong(Fold fold, Operand x, long xBase, long[] rOffsets, int m, long[] acc, long[] buf, long[] idx) {
        DType dt = x.dtype();
        ElementIO.load(dt, x.seg(), xBase + rOffsets[0], 1, buf, m);
        switch (fold) {
            case ANY, ALL -> { for (int j = 0; j < m; j++) acc[j] = buf[j] != 0 ? 1 : 0; }
            default -> System.arraycopy(buf, 0, acc, 0, m);
        }
        if (idx != null) Arrays.fill(idx, 0, m, 0);
        for (int r = 1; r < rOffsets.length; r++) {
            ElementIO.load(dt, x.seg(), xBase + rOffsets[r], 1, buf, m);
            switch (fold) {
                case SUM -> { for (int j = 0; j < m; j++) acc[j] += buf[j]; }
                case PROD -> { for (int j = 0; j < m; j++) acc[j] *= buf[j]; }
                case MAX -> { for (int j = 0; j < m; j++) acc[j] = Math.max(acc[j], buf[j]); }
                case MIN -> { for (int j = 0; j < m; j++) acc[j] = Math.min(acc[j], buf[j]); }
                case MAX_I -> { for (int j = 0; j < m; j++) if (buf[j] > acc[j]) { acc[j] = buf[j]; idx[j] = r; } }
                case MIN_I -> { for (int j = 0; j < m; j++) if (buf[j] < acc[j]) { acc[j] = buf[j]; idx[j] = r; } }
                case ANY -> { for (int j = 0; j < m; j++) if (buf[j] != 0) acc[j] = 1; }
                case ALL -> { for (int j = 0; j < m; j++) if (buf[j] == 0) acc[j] = 0; }
                case SUMEXP -> throw new IllegalStateException("SUMEXP folds in double");
            }
        }
    }
}
