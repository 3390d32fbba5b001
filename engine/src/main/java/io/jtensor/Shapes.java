package io.jtensor;

import java.util.Arrays;

/** Shape arithmetic shared by the engine: element counts, strides, broadcasting, dim normalisation. */
public final class Shapes {
    private Shapes() {}

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    /**
     * The element count of a shape that an array may have: every size >= 0 and the product representable. Fails
     * naming {@code op} otherwise.
     */
    public static long checkedNumel(String op, long[] shape) {
        long n = 1;
        boolean empty = false;
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException(op + ": expected sizes >= 0, got " + s + " in shape " + Arrays.toString(shape));
            if (s == 0) empty = true;
        }
        if (empty) return 0;
        for (long s : shape) {
            try {
                n = Math.multiplyExact(n, s);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape) + " has more than 2^63-1 elements"
                        + " (numel: integer multiplication overflow)");
            }
        }
        return n;
    }

    /** Bytes an array of this shape and dtype needs, checked as {@link #checkedNumel}. */
    public static long byteSize(String op, long[] shape, DType dtype) {
        long n = checkedNumel(op, shape);
        if (n > Long.MAX_VALUE / dtype.byteSize()) {
            throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape) + " of " + dtype + " needs more than 2^63-1 bytes");
        }
        return n * dtype.byteSize();
    }

    public static long[] contiguousStrides(long[] shape) {
        long[] st = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = acc;
            // saturate: only a zero-element shape gets here with a product past a long, and its strides reach nothing
            acc = Math.multiplyHigh(acc, Math.max(shape[i], 1)) == 0 && acc * Math.max(shape[i], 1) >= 0 ? acc * Math.max(shape[i], 1) : Long.MAX_VALUE;
        }
        return st;
    }

    /** PyTorch broadcasting: align right; sizes must match or one of them be 1. */
    public static long[] broadcast(String op, long[] a, long[] b) {
        int n = Math.max(a.length, b.length);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long da = i < n - a.length ? 1 : a[i - (n - a.length)];
            long db = i < n - b.length ? 1 : b[i - (n - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        checkedNumel(op, out); // before any operand is expanded to it, so that the failure names op, not expand
        return out;
    }

    /** Maps a possibly negative dim into [0, rank). */
    public static int normalizeDim(String op, int dim, int rank) {
        int r = Math.max(rank, 1);
        if (dim < -r || dim >= r) {
            throw new IndexOutOfBoundsException(op + ": dim " + dim + " out of range for a tensor of rank " + rank
                    + " (expected " + (-r) + ".." + (r - 1) + ")");
        }
        return dim < 0 ? dim + r : dim;
    }

    /** Infers one -1 entry of a requested shape from the element count. */
    public static long[] inferShape(String op, long[] requested, long numel) {
        long[] shape = requested.clone();
        int infer = -1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": only one dimension can be -1, got " + Arrays.toString(requested));
                infer = i;
            } else if (shape[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid size " + shape[i] + " in " + Arrays.toString(requested));
            }
        }
        long known = 1;
        boolean hasZero = false;
        for (int i = 0; i < shape.length; i++) if (i != infer && shape[i] == 0) hasZero = true;
        if (hasZero) {
            known = 0;
        } else {
            for (int i = 0; i < shape.length; i++) {
                if (i == infer) continue;
                try {
                    known = Math.multiplyExact(known, shape[i]);
                } catch (ArithmeticException e) { // more elements than any array can hold
                    throw new IllegalArgumentException(op + ": shape " + Arrays.toString(requested) + " is invalid for " + numel + " elements");
                }
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(requested) + " is invalid for " + numel + " elements");
            }
            shape[infer] = numel / known;
        } else if (known != numel) {
            throw new IllegalArgumentException(op + ": shape " + Arrays.toString(requested) + " is invalid for " + numel + " elements");
        }
        return shape;
    }

    /**
     * Strides that let an array of (shape, strides) be viewed as newShape without copying, or null when a copy is
     * needed (PyTorch's computeStride).
     */
    public static long[] viewStrides(long[] shape, long[] strides, long[] newShape) {
        if (numel(shape) == 0) return contiguousStrides(newShape);
        long[] newStrides = new long[newShape.length];
        int viewD = newShape.length - 1;
        long chunkBase = strides.length == 0 ? 1 : strides[strides.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    newStrides[viewD] = viewNumel * chunkBase;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        if (viewD != -1) return null;
        return newStrides;
    }

    public static String str(long[] shape) { return Arrays.toString(shape); }
}
