package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.Shapes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Derivative rules of the ops that move elements without changing them: reshapes, permutations, broadcasting,
 * slicing, concatenation, copies across dtypes and devices.
 */
final class Views {
    private Views() {}

    /**
     * Any op that keeps the elements in row-major order and changes only the shape (reshape, view, flatten,
     * squeeze, unsqueeze): the gradient is reshaped back.
     */
    static Tensor reshapeLike(String op, Tensor x, NDArray out) {
        long[] xShape = x.shape();
        return Recorder.record(op, out, x, s -> (g, need) -> new NDArray[] {g.reshape(xShape)});
    }

    /** An op whose output is its input (contiguous, dropout in eval mode): the gradient passes through. */
    static Tensor alias(String op, Tensor x, NDArray out) {
        return Recorder.record(op, out, x, s -> (g, need) -> new NDArray[] {g.share()});
    }

    static Tensor permute(Tensor x, int... dims) {
        NDArray out = x.data().permute(dims);
        int[] inverse = new int[dims.length];
        for (int i = 0; i < dims.length; i++) inverse[Shapes.normalizeDim("permute", dims[i], dims.length)] = i;
        return Recorder.record("permute", out, x, s -> (g, need) -> new NDArray[] {g.permute(inverse)});
    }

    static Tensor transpose(Tensor x, int a, int b) {
        return Recorder.record("transpose", x.data().transpose(a, b), x, s -> (g, need) -> new NDArray[] {g.transpose(a, b)});
    }

    /** The gradient of a broadcast is summed over the broadcast dims. */
    static Tensor expand(Tensor x, long... shape) {
        long[] xShape = x.shape();
        return Recorder.record("expand", x.data().expand(shape), x,
                s -> (g, need) -> new NDArray[] {Broadcast.sumTo("expand", g, xShape)});
    }

    /**
     * Any op that picks a strided part of its input (narrow, slice, select): the gradient is zero except on that
     * part, where it is written through the same view of a zero array.
     */
    static Tensor part(String op, Tensor x, UnaryOperator<NDArray> view) {
        long[] xShape = x.shape();
        return Recorder.record(op, view.apply(x.data()), x, s -> (g, need) -> {
            NDArray gx = NDArray.zeros(g.dtype(), g.device(), xShape);
            try (NDArray dst = view.apply(gx)) {
                dst.copyFrom(g);
            }
            return new NDArray[] {gx};
        });
    }

    static Tensor narrow(Tensor x, int dim, long start, long length) {
        return part("narrow", x, a -> a.narrow(dim, start, length));
    }

    static Tensor slice(Tensor x, int dim, long start, long end, long step) {
        return part("slice", x, a -> a.slice(dim, start, end, step));
    }

    static Tensor select(Tensor x, int dim, long index) {
        return part("select", x, a -> a.select(dim, index));
    }

    /** Each part gets its own stretch of the gradient along dim. */
    static Tensor cat(List<Tensor> parts, int dim) {
        return Autocasting.run(AutocastOp.CAT, in -> catAsGiven(List.of(in), dim), parts.toArray(new Tensor[0]));
    }

    private static Tensor catAsGiven(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("cat: expected at least one tensor");
        List<NDArray> arrays = new ArrayList<>(parts.size());
        for (Tensor t : parts) arrays.add(t.data());
        NDArray out = NDArray.cat(arrays, dim);
        int d = Shapes.normalizeDim("cat", dim, parts.get(0).dim());
        long[] starts = new long[parts.size()], lengths = new long[parts.size()];
        long at = 0;
        for (int i = 0; i < parts.size(); i++) {
            starts[i] = at;
            lengths[i] = parts.get(i).shape()[d];
            at += lengths[i];
        }
        return Recorder.record("cat", out, parts, s -> (g, need) -> {
            NDArray[] r = new NDArray[need.length];
            for (int i = 0; i < need.length; i++) if (need[i]) r[i] = g.narrow(d, starts[i], lengths[i]);
            return r;
        });
    }

    /** Stacking is unsqueezing each part and concatenating. */
    static Tensor stack(List<Tensor> parts, int dim) {
        return Autocasting.run(AutocastOp.STACK, in -> stackAsGiven(List.of(in), dim), parts.toArray(new Tensor[0]));
    }

    private static Tensor stackAsGiven(List<Tensor> parts, int dim) {
        if (parts.isEmpty()) throw new IllegalArgumentException("stack: expected at least one tensor");
        long[] first = parts.get(0).shape();
        int d = Shapes.normalizeDim("stack", dim, first.length + 1);
        List<Tensor> us = new ArrayList<>(parts.size());
        try {
            // stack is unsqueeze and cat: their failures (a closed part, another device) are reported as stack's
            return io.jtensor.OpErrors.as("stack", () -> {
                for (Tensor p : parts) {
                    if (!Arrays.equals(p.shape(), first)) {
                        throw new IllegalArgumentException("stack: expected equal shapes, got " + Arrays.toString(first) + " and " + Arrays.toString(p.shape()));
                    }
                    us.add(p.unsqueeze(d));
                }
                return cat(us, d);
            });
        } finally {
            for (Tensor u : us) u.data().close();
        }
    }

    /** Consecutive pieces of the given sizes along dim, each a differentiable narrow. */
    static List<Tensor> split(Tensor x, long[] sizes, int dim) {
        int d = Shapes.normalizeDim("split", dim, x.dim());
        long total = 0;
        for (long sz : sizes) {
            if (sz < 0) throw new IllegalArgumentException("split: negative size in " + Arrays.toString(sizes));
            total += sz;
        }
        long n = x.shape()[d];
        if (total != n) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " add to " + total + " but dim " + d + " has size " + n);
        }
        List<Tensor> out = new ArrayList<>(sizes.length);
        long at = 0;
        for (long sz : sizes) {
            out.add(narrow(x, d, at, sz));
            at += sz;
        }
        return out;
    }

    /** Pieces of {@code size} along dim; the last may be smaller. */
    static List<Tensor> split(Tensor x, long size, int dim) {
        int d = Shapes.normalizeDim("split", dim, x.dim());
        if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
        long n = x.shape()[d];
        int pieces = (int) Math.max(1, (n + size - 1) / size);
        long[] sizes = new long[pieces];
        for (int i = 0; i < pieces; i++) sizes[i] = Math.min(size, n - i * size);
        return split(x, sizes, d);
    }

    static List<Tensor> chunk(Tensor x, int chunks, int dim) {
        if (chunks <= 0) throw new IllegalArgumentException("chunk: chunks must be positive, got " + chunks);
        int d = Shapes.normalizeDim("chunk", dim, x.dim());
        long size = Math.max(1, (x.shape()[d] + chunks - 1) / chunks);
        return split(x, size, d);
    }

    /** A dtype conversion; the gradient is converted back (integer results are not differentiable). */
    static Tensor toDType(Tensor x, DType target) {
        DType source = x.dtype();
        return Recorder.record("to", x.data().to(target), x, s -> (g, need) -> new NDArray[] {g.to(source)});
    }

    /** A copy to another device; the gradient is copied back. */
    static Tensor toDevice(Tensor x, Device target) {
        Device source = x.device();
        return Recorder.record("to", x.data().to(target), x, s -> (g, need) -> new NDArray[] {g.to(source)});
    }
}
