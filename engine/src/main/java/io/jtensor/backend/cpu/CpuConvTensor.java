package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A 4-D strided view of host memory, the form in which the convolution code handles its arrays. Half-precision
 * arrays are turned into F32 copies with {@link #toCompute}, so the kernels only ever meet F32 and F64.
 */
record CpuConvTensor(MemorySegment seg, long off, long[] shape, long[] strides, DType dtype) {

    static CpuConvTensor of(NDArray a) {
        CpuGemmMatrix whole = CpuGemm.matrix(a, 0, 0); // only for its segment and base offset
        return new CpuConvTensor(whole.seg(), whole.off(), a.shape(), a.strides(), a.dtype());
    }

    /** A fresh contiguous tensor of this shape in dtype, allocated from temps (contents undefined). */
    static CpuConvTensor allocate(long[] shape, DType dtype, CpuConvTemps temps) {
        long n = 1;
        for (long s : shape) n *= s;
        long[] strides = new long[shape.length];
        long st = 1;
        for (int d = shape.length - 1; d >= 0; d--) { strides[d] = st; st *= shape[d]; }
        return new CpuConvTensor(temps.allocate(n * dtype.byteSize()), 0, shape.clone(), strides, dtype);
    }

    /** The element type the kernels compute in: F64 for F64, F32 for everything else. */
    static DType computeType(DType dt) { return dt == DType.F64 ? DType.F64 : DType.F32; }

    long stride(int d) { return strides[d]; }
    int size(int d) { return (int) shape[d]; }

    /** True when dims from..last are laid out row-major with unit innermost stride (ignoring dims of size 1). */
    boolean rowMajorFrom(int from) {
        long expected = 1;
        for (int d = shape.length - 1; d >= from; d--) {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /**
     * This tensor in its compute type with dims from..last row-major: itself when it already is, else a
     * contiguous copy (widening F16/BF16 to F32).
     */
    CpuConvTensor toCompute(int rowMajorFrom, CpuConvTemps temps) {
        DType ct = computeType(dtype);
        if (ct == dtype && rowMajorFrom(rowMajorFrom)) return this;
        CpuConvTensor dst = allocate(shape, ct, temps);
        copyInto(dst);
        return dst;
    }

    /** dst (same shape, contiguous) = this, converted element by element. */
    void copyInto(CpuConvTensor dst) {
        long n0 = shape[0], n1 = shape[1], n2 = shape[2], n3 = shape[3];
        long i = 0;
        for (long a = 0; a < n0; a++) {
            for (long b = 0; b < n1; b++) {
                for (long c = 0; c < n2; c++) {
                    long base = off + a * strides[0] + b * strides[1] + c * strides[2];
                    for (long d = 0; d < n3; d++, i++) dst.write(dst.off + i, read(base + d * strides[3]));
                }
            }
        }
    }

    /** The element at element index idx of the segment, as a double. */
    double read(long idx) {
        return switch (dtype) {
            case F32 -> seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, idx);
            case F64 -> seg.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, idx);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, idx));
            case BF16 -> CpuGemmHalf.bf16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, idx));
            default -> throw new IllegalArgumentException("conv: unsupported dtype " + dtype);
        };
    }

    /** Stores v, rounded to this tensor's dtype, at element index idx. */
    void write(long idx, double v) {
        switch (dtype) {
            case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, idx, (float) v);
            case F64 -> seg.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, idx, v);
            case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, idx, Float.floatToFloat16((float) v));
            case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, idx, CpuGemmHalf.floatToBf16((float) v));
            default -> throw new IllegalArgumentException("conv: unsupported dtype " + dtype);
        }
    }
}
