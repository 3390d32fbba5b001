package io.jtensor.backend.cuda;

import io.jtensor.bindings.cuda.CudaDriver;
import io.jtensor.bindings.cuda.CudaException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Builds a kernel's {@code void**} argument array in a per-thread native buffer, then launches. Each value is
 * written at its natural alignment and the pointer array points at it; cuLaunchKernel copies the values, so the
 * buffer is reused by the next launch on the thread.
 * <pre>{@code KernelArgs.start().i32(op).geom(g).ptr(x).ptr(out).launch(fn, grid, 256, 0, stream);}</pre>
 */
final class KernelArgs {
    private static final int VALUE_BYTES = 8192;
    private static final int MAX_ARGS = 64;
    private static final ThreadLocal<KernelArgs> PER_THREAD = ThreadLocal.withInitial(KernelArgs::new);

    private final MemorySegment values;
    private final MemorySegment pointers;
    private final long valuesAddress;
    private int offset;
    private int count;

    private KernelArgs() {
        Arena arena = Arena.ofAuto();
        values = arena.allocate(VALUE_BYTES, 64);
        pointers = arena.allocate(8L * MAX_ARGS, 8);
        valuesAddress = values.address();
    }

    static KernelArgs start() {
        KernelArgs a = PER_THREAD.get();
        a.offset = 0;
        a.count = 0;
        return a;
    }

    private long slot(int bytes, int align) {
        offset = (offset + align - 1) & -align;
        if (offset + bytes > VALUE_BYTES || count == MAX_ARGS) throw new IllegalStateException("KernelArgs: too many arguments");
        long at = offset;
        pointers.setAtIndex(ValueLayout.JAVA_LONG, count++, valuesAddress + at);
        offset += bytes;
        return at;
    }

    KernelArgs i32(int v) {
        values.set(ValueLayout.JAVA_INT, slot(4, 4), v);
        return this;
    }

    KernelArgs i64(long v) {
        values.set(ValueLayout.JAVA_LONG, slot(8, 8), v);
        return this;
    }

    /** A device pointer (CUdeviceptr), or 0 for null. */
    KernelArgs ptr(long address) { return i64(address); }

    KernelArgs f32(float v) {
        values.set(ValueLayout.JAVA_FLOAT, slot(4, 4), v);
        return this;
    }

    KernelArgs f64(double v) {
        values.set(ValueLayout.JAVA_DOUBLE, slot(8, 8), v);
        return this;
    }

    /** Raw bits of a 1-, 2-, 4- or 8-byte scalar (fill values already converted to the dtype). */
    KernelArgs bits(int bytes, long v) {
        switch (bytes) {
            case 1 -> values.set(ValueLayout.JAVA_BYTE, slot(1, 1), (byte) v);
            case 2 -> values.set(ValueLayout.JAVA_SHORT, slot(2, 2), (short) v);
            case 4 -> values.set(ValueLayout.JAVA_INT, slot(4, 4), (int) v);
            case 8 -> values.set(ValueLayout.JAVA_LONG, slot(8, 8), v);
            default -> throw new IllegalArgumentException("bits: unsupported width " + bytes);
        }
        return this;
    }

    /** A by-value struct of the given size (8-byte aligned); the caller fills the returned slice. */
    MemorySegment struct(int bytes) { return struct(bytes, 8); }

    /** A zeroed by-value struct argument at the given alignment (a CUtensorMap wants 64). */
    MemorySegment struct(int bytes, int align) {
        long at = slot(bytes, align);
        MemorySegment s = values.asSlice(at, bytes);
        s.fill((byte) 0);
        return s;
    }

    KernelArgs geom(Geometry g) {
        g.pack(struct((int) Geometry.structBytes(g.operands())));
        return this;
    }

    /** The void** array (for tests). */
    MemorySegment pointerArray() { return pointers; }

    /** Arguments added since {@link #start()}. */
    int count() { return count; }

    void launch(long function, long gridX, int gridY, int gridZ, int block, int sharedBytes, long stream) {
        if (gridX > Integer.MAX_VALUE) throw new IllegalArgumentException("launch: grid " + gridX + " too large");
        try {
            CudaDriver.cuLaunchKernel(function, (int) gridX, gridY, gridZ, block, 1, 1, sharedBytes, stream, pointers);
        } catch (CudaException e) {
            throw new CudaException(e.code(), e.errorName(), "cuLaunchKernel(" + PhysicalGpu.nameOf(function) + ", grid " + gridX + "x"
                    + gridY + "x" + gridZ + ", block " + block + ", " + sharedBytes + " B shared)", CudaDriver.errorString(e.code()));
        }
    }

    void launch(long function, long gridX, int block, long stream) { launch(function, gridX, 1, 1, block, 0, stream); }
}
