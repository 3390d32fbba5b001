package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.Arrays;

/** Undoing broadcasting in the backward pass: a gradient is summed over the dims its input was broadcast along. */
final class Broadcast {
    private Broadcast() {}

    /**
     * {@code g} summed down to {@code target} (leading dims removed, size-1 dims kept); a new reference.
     * Fails, naming {@code op}, when g could not have come from broadcasting target.
     */
    static NDArray sumTo(String op, NDArray g, long[] target) {
        long[] shape = g.shape();
        if (Arrays.equals(shape, target)) return g.share();
        int lead = shape.length - target.length;
        if (lead < 0) throw mismatch(op, shape, target);
        int[] dims = new int[shape.length];
        int n = 0;
        for (int i = 0; i < lead; i++) dims[n++] = i;
        for (int i = 0; i < target.length; i++) {
            long have = shape[lead + i];
            if (have == target[i]) continue;
            if (target[i] != 1) throw mismatch(op, shape, target);
            dims[n++] = lead + i;
        }
        if (n == 0) return g.reshape(target);
        try (NDArray s = g.sum(Arrays.copyOf(dims, n), true)) {
            return s.reshape(target);
        }
    }

    private static IllegalStateException mismatch(String op, long[] grad, long[] target) {
        return new IllegalStateException("backward of " + op + ": gradient of shape " + Arrays.toString(grad)
                + " does not reduce to the input's shape " + Arrays.toString(target));
    }

    /** The shape with the given (normalised) dims set to 1, as a keepDim reduction leaves it. */
    static long[] keptShape(long[] shape, int[] dims) {
        long[] k = shape.clone();
        for (int d : dims) k[d] = 1;
        return k;
    }
}
