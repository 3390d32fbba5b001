package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.Shapes;
import java.util.Arrays;

/** Derivative rules of gather and indexSelect: the gradient is scatter-added back to the positions that were read. */
final class Indexing {
    private Indexing() {}

    /** out[..i..] = x[..index[..i..]..] along dim. */
    static Tensor gather(Tensor x, int dim, Tensor index) {
        NDArray out = x.data().gather(dim, index.data());
        int d = Shapes.normalizeDim("gather", dim, x.dim());
        long[] xShape = x.shape();
        return Recorder.record("gather", out, x, index, s -> {
            NDArray idx = s.own(index.data().to(DType.I64));
            return (g, need) -> new NDArray[] {scatterAddIntoZeros(xShape, d, idx, g), null};
        });
    }

    /** Slices of x along dim at the positions in a 1-D index; repeated positions accumulate their gradients. */
    static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        NDArray out = x.data().indexSelect(dim, index.data());
        int d = Shapes.normalizeDim("indexSelect", dim, x.dim());
        long[] xShape = x.shape();
        return Recorder.record("indexSelect", out, x, index, s -> {
            long[] lined = new long[xShape.length];
            Arrays.fill(lined, 1);
            lined[d] = index.shape()[0];
            NDArray idx;
            try (NDArray i64 = index.data().to(DType.I64)) {
                idx = s.own(i64.reshape(lined));
            }
            return (g, need) -> {
                try (NDArray spread = idx.expand(g.shape())) {
                    return new NDArray[] {scatterAddIntoZeros(xShape, d, spread, g), null};
                }
            };
        });
    }

    /** Rows of a [V, D] table picked by integer ids of any shape: the result has shape ids.shape + [D]. */
    static Tensor embedding(Tensor weight, Tensor ids) {
        if (weight.dim() != 2) throw new IllegalArgumentException("embedding: expected a weight table [V, D], got " + Arrays.toString(weight.shape()));
        if (ids.dtype().isFloating() || ids.dtype() == DType.BOOL) {
            throw new IllegalArgumentException("embedding: expected integer ids, got " + ids.dtype());
        }
        Losses.checkOpen("embedding", weight);
        Losses.checkOpen("embedding", ids);
        if (!weight.device().equals(ids.device())) {
            throw new IllegalArgumentException("embedding: expected the weight and ids on one device, got " + weight.device() + " and " + ids.device());
        }
        long[] idShape = ids.shape();
        long[] outShape = Arrays.copyOf(idShape, idShape.length + 1);
        outShape[idShape.length] = weight.shape()[1];
        Tensor flat = ids.reshape(-1);
        Tensor rows;
        try {
            rows = indexSelect(weight, 0, flat);
        } catch (IndexOutOfBoundsException e) {
            flat.data().close();
            IndexOutOfBoundsException r = new IndexOutOfBoundsException("embedding: expected ids in [0, " + weight.shape()[0] + "), but " + e.getMessage());
            r.initCause(e);
            throw r;
        }
        Tensor out = rows.reshape(outShape);
        Reductions.closeIntermediates(flat, rows);
        return out;
    }

    /** A zero array of shape with src added at index along dim (index and src of one shape, index I64). */
    static NDArray scatterAddIntoZeros(long[] shape, int dim, NDArray index, NDArray src) {
        NDArray out = NDArray.zeros(src.dtype(), src.device(), shape);
        try {
            out.backend().scatterAdd(out, dim, index, src);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }
}
