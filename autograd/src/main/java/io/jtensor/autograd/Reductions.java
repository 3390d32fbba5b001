package io.jtensor.autograd;

import io.jtensor.NDArray;
import io.jtensor.Shapes;
import java.util.Arrays;

/**
 * Derivative rules of the reductions. Each rule first restores the reduced dims as size 1 (the keepDim shape), then
 * spreads the gradient back over the input.
 */
final class Reductions {
    private Reductions() {}

    /** Gradient 1 for every summed element: g broadcast back over the reduced dims. */
    static Tensor sum(Tensor x, int[] dims, boolean keepDim) {
        return Autocasting.run(AutocastOp.SUM, in -> sumAsGiven(in[0], dims, keepDim), x);
    }

    private static Tensor sumAsGiven(Tensor x, int[] dims, boolean keepDim) {
        int[] d = normalize("sum", x, dims);
        long[] xShape = x.shape();
        return Recorder.record("sum", x.data().sum(d, keepDim), x, s -> (g, need) -> {
            try (NDArray gk = g.reshape(Broadcast.keptShape(xShape, d))) {
                return new NDArray[] {gk.expand(xShape)};
            }
        });
    }

    static Tensor mean(Tensor x, int[] dims, boolean keepDim) {
        return Autocasting.run(AutocastOp.MEAN, in -> meanAsGiven(in[0], dims, keepDim), x);
    }

    private static Tensor meanAsGiven(Tensor x, int[] dims, boolean keepDim) {
        int[] d = normalize("mean", x, dims);
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException("mean: expected a floating dtype, got " + x.dtype() + "; convert with to(DType.F32)");
        }
        long n = count(x.shape(), d);
        Tensor s = sum(x, d, keepDim);
        Tensor m = s.mul(1.0 / n);
        closeIntermediates(s);
        return m;
    }

    /** The largest (or smallest) values over dims; the gradient is shared evenly by the elements that tie for it. */
    static Tensor amax(Tensor x, int[] dims, boolean keepDim, boolean max) {
        String op = max ? "amax" : "amin";
        int[] d = normalize(op, x, dims);
        NDArray out = max ? x.data().amax(d, keepDim) : x.data().amin(d, keepDim);
        long[] xShape = x.shape();
        return Recorder.record(op, out, x, s -> {
            NDArray xv = s.save(x.data());
            NDArray y = s.save(out);
            return (g, need) -> {
                long[] kept = Broadcast.keptShape(xShape, d);
                try (NDArray yk = y.reshape(kept); NDArray hit = xv.eq(yk); NDArray mask = hit.to(g.dtype());
                     NDArray count = mask.sum(d, true); NDArray gk = g.reshape(kept); NDArray share = gk.div(count)) {
                    return new NDArray[] {mask.mul(share)};
                }
            };
        });
    }

    /** Values and indices of the extreme along one dim; the gradient goes to the recorded index. */
    static ValuesIndices maxWithIndices(Tensor x, int dim, boolean keepDim, boolean max) {
        String op = max ? "max" : "min";
        NDArray.ValuesIndices vi = max ? x.data().max(dim, keepDim) : x.data().min(dim, keepDim);
        long[] xShape = x.shape();
        if (x.dim() == 0) {
            return new ValuesIndices(Recorder.record(op, vi.values(), x, s -> (g, need) -> new NDArray[] {g.share()}),
                    new Tensor(vi.indices(), false, null));
        }
        int d = Shapes.normalizeDim(op, dim, x.dim());
        long[] kept = Broadcast.keptShape(xShape, new int[] {d});
        Tensor values = Recorder.record(op, vi.values(), x, s -> {
            NDArray idx = s.own(vi.indices().reshape(kept));
            return (g, need) -> {
                try (NDArray gk = g.reshape(kept)) {
                    return new NDArray[] {Indexing.scatterAddIntoZeros(xShape, d, idx, gk)};
                }
            };
        });
        return new ValuesIndices(values, new Tensor(vi.indices(), false, null));
    }

    /** d lse / dx = exp(x - lse). */
    static Tensor logsumexp(Tensor x, int[] dims, boolean keepDim) {
        int[] d = normalize("logsumexp", x, dims);
        NDArray out = x.data().logsumexp(d, keepDim);
        long[] xShape = x.shape();
        return Recorder.record("logsumexp", out, x, s -> {
            NDArray xv = s.save(x.data());
            NDArray y = s.save(out);
            return (g, need) -> {
                long[] kept = Broadcast.keptShape(xShape, d);
                try (NDArray yk = y.reshape(kept); NDArray diff = xv.sub(yk); NDArray p = diff.exp(); NDArray gk = g.reshape(kept)) {
                    return new NDArray[] {p.mul(gk)};
                }
            };
        });
    }

    /** Variance with {@code correction} (1 = unbiased), composed so that its gradient follows from the parts. */
    static Tensor var(Tensor x, int[] dims, boolean keepDim, int correction) {
        return io.jtensor.OpErrors.as("var", () -> composedVar(x, dims, keepDim, correction));
    }

    private static Tensor composedVar(Tensor x, int[] dims, boolean keepDim, int correction) {
        int[] d = normalize("var", x, dims);
        if (!x.dtype().isFloating()) throw new IllegalArgumentException("var: expected a floating dtype, got " + x.dtype());
        long n = count(x.shape(), d);
        Tensor m = x.mean(d, true);
        Tensor diff = x.sub(m);
        Tensor sq = diff.square();
        Tensor s = sq.sum(d, keepDim);
        Tensor v = s.mul(1.0 / Math.max(n - correction, 0));
        closeIntermediates(m, diff, sq, s);
        return v;
    }

    static Tensor std(Tensor x, int[] dims, boolean keepDim, int correction) {
        return io.jtensor.OpErrors.as("std", () -> {
            Tensor v = var(x, dims, keepDim, correction);
            Tensor r = v.sqrt();
            closeIntermediates(v);
            return r;
        });
    }

    /** The p-norm over dims, composed: p = 1, 2, +-inf and general p. */
    static Tensor norm(Tensor x, double p, int[] dims, boolean keepDim) {
        return io.jtensor.OpErrors.as("norm", () -> Autocasting.run(AutocastOp.NORM, in -> composedNorm(in[0], p, dims, keepDim), x));
    }

    private static Tensor composedNorm(Tensor x, double p, int[] dims, boolean keepDim) {
        if (!x.dtype().isFloating()) throw new IllegalArgumentException("norm: expected a floating dtype, got " + x.dtype());
        if (p <= 0 && p != Double.NEGATIVE_INFINITY) throw new IllegalArgumentException("norm: expected p > 0 or +-infinity, got " + p);
        if (p == 2) {
            Tensor sq = x.square();
            Tensor s = sq.sum(dims, keepDim);
            Tensor r = s.sqrt();
            closeIntermediates(sq, s);
            return r;
        }
        Tensor a = x.abs();
        Tensor r;
        if (p == Double.POSITIVE_INFINITY) {
            r = a.amax(dims, keepDim);
        } else if (p == Double.NEGATIVE_INFINITY) {
            r = a.amin(dims, keepDim);
        } else if (p == 1) {
            r = a.sum(dims, keepDim);
        } else {
            Tensor pw = a.pow(p);
            Tensor s = pw.sum(dims, keepDim);
            r = s.pow(1.0 / p);
            closeIntermediates(pw, s);
        }
        closeIntermediates(a);
        return r;
    }

    /**
     * Closes the arrays of intermediate tensors of a composed op. Safe: a node that needs one of them saved its own
     * reference, and the composed result does not share their storage.
     */
    static void closeIntermediates(Tensor... ts) {
        for (Tensor t : ts) t.data().close();
    }

    static int[] allDims(int rank) {
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) d[i] = i;
        return d;
    }

    /** Dims in [0, rank), sorted, no repeats; a 0-dim tensor reduces over nothing. */
    static int[] normalize(String op, Tensor x, int[] dims) {
        int rank = x.dim();
        if (rank == 0) {
            for (int dd : dims) Shapes.normalizeDim(op, dd, 0);
            return new int[0];
        }
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) out[i] = Shapes.normalizeDim(op, dims[i], rank);
        Arrays.sort(out);
        for (int i = 1; i < out.length; i++) {
            if (out[i] == out[i - 1]) throw new IllegalArgumentException(op + ": dim " + out[i] + " appears twice in " + Arrays.toString(dims));
        }
        return out;
    }

    static long count(long[] shape, int[] dims) {
        long n = 1;
        for (int d : dims) n *= shape[d];
        return n;
    }
}
