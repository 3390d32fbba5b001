package io.jtensor.backend.cpu;

import io.jtensor.Device;
import io.jtensor.memory.Allocator;
import io.jtensor.memory.MemoryStats;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Host memory from libc's {@code aligned_alloc}/{@code free}, called through FFM downcalls, with one
 * {@link MemoryStats} per logical CPU device ({@code cpu:0..N}) so that data-parallel code can watch each
 * device's balance on a single machine.
 */
final class CpuAllocator implements Allocator {
    static final long ALIGNMENT = 64;

    /**
     * Blocks up to this size are taken and returned with "critical" downcalls, which skip the thread-state
     * transition (tens of nanoseconds). Larger blocks go through normal downcalls because glibc maps and unmaps
     * them with system calls that may take long enough to matter to a safepoint.
     */
    private static final long CRITICAL_LIMIT = 128 * 1024;

    private static final MethodHandle ALLOC_SMALL, ALLOC_LARGE, FREE_SMALL, FREE_LARGE;

    static {
        Linker linker = Linker.nativeLinker();
        var allocSym = linker.defaultLookup().find("aligned_alloc")
                .orElseThrow(() -> new UnsupportedOperationException("CpuAllocator: libc has no aligned_alloc"));
        var freeSym = linker.defaultLookup().find("free")
                .orElseThrow(() -> new UnsupportedOperationException("CpuAllocator: libc has no free"));
        // Pointers travel as JAVA_LONG: on the 64-bit targets FFM supports, a pointer is returned and passed
        // in the same registers as a 64-bit integer, and a long avoids a MemorySegment per call.
        FunctionDescriptor allocDesc = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        FunctionDescriptor freeDesc = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);
        Linker.Option critical = Linker.Option.critical(false);
        ALLOC_SMALL = linker.downcallHandle(allocSym, allocDesc, critical);
        ALLOC_LARGE = linker.downcallHandle(allocSym, allocDesc);
        FREE_SMALL = linker.downcallHandle(freeSym, freeDesc, critical);
        FREE_LARGE = linker.downcallHandle(freeSym, freeDesc);
    }

    /** Stats per device index; grown copy-on-write so that the hot path is one volatile read. */
    private volatile MemoryStats[] stats = newStats(4);

    private static MemoryStats[] newStats(int n) {
        MemoryStats[] s = new MemoryStats[n];
        for (int i = 0; i < n; i++) s[i] = new MemoryStats();
        return s;
    }

    @Override public long allocate(Device device, long bytes) {
        MemoryStats st = stats(device);
        if (bytes < 0) throw new IllegalArgumentException("allocate on " + device + ": negative size " + bytes);
        // aligned_alloc wants a multiple of the alignment; never ask for zero bytes (NULL would be ambiguous).
        long size = Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) & -ALIGNMENT);
        if (size < bytes) throw outOfMemory(device, bytes, st);
        long address;
        try {
            address = size <= CRITICAL_LIMIT
                    ? (long) ALLOC_SMALL.invokeExact(ALIGNMENT, size)
                    : (long) ALLOC_LARGE.invokeExact(ALIGNMENT, size);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed on " + device, t);
        }
        if (address == 0) throw outOfMemory(device, bytes, st);
        st.onAllocate(bytes);
        return address;
    }

    private static OutOfMemoryError outOfMemory(Device device, long bytes, MemoryStats st) {
        return new OutOfMemoryError("out of memory on " + device + ": could not allocate " + bytes + " bytes ("
                + st.allocated() + " bytes already allocated by jtensor)");
    }

    @Override public void free(Device device, long address, long bytes) {
        if (address == 0) return;
        long size = Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) & -ALIGNMENT);
        try {
            if (size <= CRITICAL_LIMIT) FREE_SMALL.invokeExact(address);
            else FREE_LARGE.invokeExact(address);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed on " + device, t);
        }
        stats(device).onFree(bytes);
    }

    @Override public MemoryStats stats(Device device) {
        if (!device.isCpu()) throw new IllegalArgumentException("CpuAllocator: expected a CPU device, got " + device);
        int i = device.index();
        MemoryStats[] s = stats;
        if (i < s.length) return s[i];
        return grow(i);
    }

    private synchronized MemoryStats grow(int index) {
        MemoryStats[] s = stats;
        if (index < s.length) return s[index];
        MemoryStats[] bigger = new MemoryStats[Math.max(index + 1, s.length * 2)];
        System.arraycopy(s, 0, bigger, 0, s.length);
        for (int i = s.length; i < bigger.length; i++) bigger[i] = new MemoryStats();
        stats = bigger;
        return bigger[index];
    }
}
