package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;

/**
 * A strided 2-D view of host memory, the operand type of the GEMM kernels: element (r, c) lives at element index
 * {@code off + r * rowStride + c * colStride} of {@code seg}, in {@code dtype}. Strides may be zero (broadcast) or
 * anything else; the packing routines read them with whatever access pattern is cheapest.
 */
record CpuGemmMatrix(MemorySegment seg, long off, long rowStride, long colStride, DType dtype) {

    /** The same memory seen as the transposed matrix. */
    CpuGemmMatrix transpose() { return new CpuGemmMatrix(seg, off, colStride, rowStride, dtype); }

    /** The sub-matrix whose element (0, 0) is this one's (r, c). */
    CpuGemmMatrix shift(long r, long c) { return new CpuGemmMatrix(seg, off + r * rowStride + c * colStride, rowStride, colStride, dtype); }

    /** The same strides starting elements further on (one batch entry of a batched operand). */
    CpuGemmMatrix plus(long elements) { return new CpuGemmMatrix(seg, off + elements, rowStride, colStride, dtype); }

    /** Byte offset of element (r, c). */
    long byteOffset(long r, long c) { return (off + r * rowStride + c * colStride) * dtype.byteSize(); }

    /** A whole native segment over host memory starting at address, wide enough for any index a view uses. */
    static MemorySegment hostSegment(long address, long bytes) { return MemorySegment.ofAddress(address).reinterpret(bytes); }
}
