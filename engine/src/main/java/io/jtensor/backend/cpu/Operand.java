package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.BackendContract;
import java.lang.foreign.MemorySegment;

/**
 * What a kernel needs of an array, read once: its storage's bytes, dtype, and layout in elements. Every access a
 * kernel makes goes through {@link #seg}, whose bounds FFM checks, so a layout bug cannot reach foreign memory.
 */
record Operand(MemorySegment seg, DType dtype, long offset, long[] shape, long[] strides) {
    static Operand of(NDArray a) {
        return new Operand(a.storage().segment(), a.dtype(), a.offset(), a.shape(), a.strides());
    }

    int rank() { return shape.length; }

    long numel() {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    boolean isContiguous() {
        if (numel() == 0) return true;
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** This operand without dim d, positioned at index i of it. */
    Operand select(int d, long i) {
        long[] sh = new long[shape.length - 1], st = new long[shape.length - 1];
        for (int k = 0, j = 0; k < shape.length; k++) {
            if (k == d) continue;
            sh[j] = shape[k];
            st[j++] = strides[k];
        }
        return new Operand(seg, dtype, offset + i * strides[d], sh, st);
    }

    /** Throws unless other has this shape (kernels rely on it for their loop bounds). */
    void requireShape(String op, Operand other) { BackendContract.requireSameShape(op, shape, other.shape); }
}
