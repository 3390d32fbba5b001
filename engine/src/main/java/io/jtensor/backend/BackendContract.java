package io.jtensor.backend;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import java.util.Arrays;

/**
 * The checks of {@link Backend}'s contract that every backend makes at its entry points, and the exceptions a
 * backend throws for bad values found while it runs. Callers that skip NDArray (and NDArray's own bugs) then get
 * the same clear error on every device rather than a stray memory access: kernels size their loops by out's shape
 * and trust the others to match. Works on plain shapes so that each backend can call it with its own array view.
 */
public final class BackendContract {
    private BackendContract() {}

    /** Throws unless other has shape: elementwise kernels walk every operand with out's loop bounds. */
    public static void requireSameShape(String op, long[] shape, long[] other) {
        if (!Arrays.equals(shape, other)) {
            throw new IllegalArgumentException(op + ": expected matching shapes, got " + Arrays.toString(shape) + " and " + Arrays.toString(other));
        }
    }

    /**
     * Checks {@link Backend#copyBetweenDevices}'s operands: both on devices of the backend's type, one dtype, one
     * shape, both contiguous (the copy moves bytes, it neither casts nor walks strides).
     */
    public static void requireDeviceCopy(Device.Type type, NDArray src, NDArray dst) {
        String op = "copyBetweenDevices";
        if (src.device().type() != type || dst.device().type() != type) {
            throw new IllegalArgumentException(op + ": expected two " + type.name().toLowerCase() + " devices, got "
                    + src.device() + " -> " + dst.device());
        }
        if (src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException(op + ": expected one dtype, got " + src.dtype() + " -> " + dst.dtype());
        }
        requireSameShape(op, src.shape(), dst.shape());
        if (!src.isContiguous() || !dst.isContiguous()) {
            throw new IllegalArgumentException(op + ": expected contiguous arrays, got strides " + Arrays.toString(src.strides())
                    + " -> " + Arrays.toString(dst.strides()));
        }
    }

    /** Throws unless dim names a dim of an array of this rank (a scalar has the one dim 0). */
    public static void requireDim(String op, int rank, int dim) {
        if (rank == 0 ? dim != 0 : dim < 0 || dim >= rank) {
            throw new IndexOutOfBoundsException(op + ": dim " + dim + " out of range for rank " + rank);
        }
    }

    /**
     * Checks a reduction of x over dims into out (x's rank, the reduced dims of size 1) and, when not null, into
     * indices (out's shape). MAX, MIN, ARGMAX and ARGMIN have no value over an empty set, so they refuse one.
     */
    public static void requireReduction(ReduceOp op, long[] x, int[] dims, long[] out, long[] indices) {
        String name = op.name().toLowerCase();
        int rank = x.length;
        if (out.length != rank) {
            throw new IllegalArgumentException(name + ": expected out of rank " + rank + ", got " + Arrays.toString(out));
        }
        boolean[] reduced = new boolean[rank];
        for (int d : dims) {
            if (d < 0 || d >= rank) throw new IndexOutOfBoundsException(name + ": dim " + d + " out of range for rank " + rank);
            reduced[d] = true;
        }
        long reducedCount = 1;
        for (int d = 0; d < rank; d++) {
            if (out[d] != (reduced[d] ? 1 : x[d])) {
                throw new IllegalArgumentException(name + ": out " + Arrays.toString(out) + " does not match input "
                        + Arrays.toString(x) + " reduced over dims " + Arrays.toString(dims));
            }
            if (reduced[d]) reducedCount *= x[d];
        }
        if (indices != null) requireSameShape(name, out, indices);
        boolean needsAnElement = op == ReduceOp.MAX || op == ReduceOp.MIN || op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN;
        long outCount = 1;
        for (long s : out) outCount *= s;
        if (needsAnElement && reducedCount == 0 && outCount > 0) {
            throw new IllegalArgumentException(name + ": cannot reduce an empty dim of shape " + Arrays.toString(x));
        }
    }

    /**
     * Checks gather/scatterAdd's operands: index has x's rank, dim is one of x's dims, and index is no larger than x
     * in every other dim (x is the gathered input, or the array scatterAdd writes).
     */
    public static void requireIndexOperands(String op, long[] x, int dim, long[] index) {
        if (index.length != x.length) {
            throw new IllegalArgumentException(op + ": index rank " + index.length + " must equal input rank " + x.length);
        }
        requireDim(op, x.length, dim);
        for (int i = 0; i < x.length; i++) {
            if (i != dim && index[i] > x[i]) {
                throw new IllegalArgumentException(op + ": index " + Arrays.toString(index) + " larger than input "
                        + Arrays.toString(x) + " in dim " + i);
            }
        }
    }

    /** Checks indexSelect's operands: a 1-D index, and out shaped like x with dim resized to the index's length. */
    public static void requireIndexSelect(long[] x, int dim, long[] index, long[] out) {
        if (index.length != 1) throw new IllegalArgumentException("indexSelect: expected a 1-D index, got " + Arrays.toString(index));
        requireDim("indexSelect", x.length, dim);
        long[] expected = x.clone();
        if (expected.length > 0) expected[dim] = index[0];
        if (!Arrays.equals(expected, out)) {
            throw new IllegalArgumentException("indexSelect: expected out " + Arrays.toString(expected) + ", got " + Arrays.toString(out));
        }
    }

    /** What a backend throws for an index value outside [0, size) met while indexing dim of the op's input. */
    public static IndexOutOfBoundsException indexOutOfBounds(String op, long value, int dim, long size) {
        return new IndexOutOfBoundsException(op + ": index " + value + " is out of bounds for dim " + dim + " with size " + size);
    }

    /** What a backend throws for a cross-entropy target that is neither a class index nor the ignore index. */
    public static IndexOutOfBoundsException badClassIndex(long value, long classes, long ignoreIndex) {
        return new IndexOutOfBoundsException("crossEntropy: expected class indices in [0, " + classes + ") or the ignore index "
                + ignoreIndex + ", got index " + value);
    }

    /** Throws for a unary op's parameters the op does not define: an integer POW needs a non-negative integer exponent. */
    public static void requireUnaryParameters(UnaryOp op, DType x, double p1) {
        if (op == UnaryOp.POW && x.isIntegral() && (p1 != Math.rint(p1) || p1 < 0)) {
            throw new IllegalArgumentException("pow: integer tensors need a non-negative integer exponent, got " + p1
                    + " (convert to a floating dtype first)");
        }
    }

    /** What a backend throws for an integer POW whose exponent (an element of the second operand) is negative. */
    public static IllegalArgumentException negativeIntegerExponent(long exponent) {
        return new IllegalArgumentException("pow: integers to negative integer powers are not allowed, got exponent " + exponent);
    }

    /** What a backend throws for an integer DIV or REMAINDER by zero. */
    public static ArithmeticException integerDivisionByZero(BinaryOp op) {
        return new ArithmeticException(op.name().toLowerCase() + ": integer division by zero");
    }
}
