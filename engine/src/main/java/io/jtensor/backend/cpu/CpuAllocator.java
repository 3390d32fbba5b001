package io.jtensor.backend.cpu;

import io.jtensor.Device;
import io.jtensor.memory.Allocator;
import io.jtensor.memory.MemoryStats;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Host memory from libc's {@code aligned_alloc}/{@code free}, called through FFM downcalls, with one
 * {@link MemoryStats} per logical CPU device ({@code cpu:0..N}) so that data-parallel code can watch each
 * device's balance on a single machine.
 *
 * <p>Large blocks get two treatments, because a fresh multi-megabyte block costs more to fault in page by page
 * than most ops cost to compute on it: they are 2 MiB aligned and advised for transparent huge pages, and freed
 * blocks are kept in a bounded per-device cache and handed out again for requests of the same rounded size (the
 * pattern of a training loop). {@link #emptyCache()} gives the cached blocks back to libc.
 */
final class CpuAllocator implements Allocator {
    static final long ALIGNMENT = 64;

    /** Blocks from this size are huge-page aligned and advised. */
    private static final long HUGE_MIN = 4L << 20;
    private static final long HUGE_PAGE = 2L << 20;
    /** Blocks from this size are cached when freed; their sizes round to CACHE_GRAIN (or HUGE_PAGE). */
    private static final long CACHE_MIN = 1L << 20;
    private static final long CACHE_GRAIN = 64L << 10;
    /** Most bytes a device's cache holds; beyond it freed blocks go straight back to libc. */
    private static final long CACHE_LIMIT = Long.getLong("jtensor.cpu.cacheBytes", 1L << 30);
    private static final int MADV_HUGEPAGE = 14;

    /**
     * Blocks up to this size are taken and returned with "critical" downcalls, which skip the thread-state
     * transition (tens of nanoseconds). Larger blocks go through normal downcalls because glibc maps and unmaps
     * them with system calls that may take long enough to matter to a safepoint.
     */
    private static final long CRITICAL_LIMIT = 128 * 1024;

    private static final MethodHandle ALLOC_SMALL, ALLOC_LARGE, FREE_SMALL, FREE_LARGE, MADVISE;

    static {
        Linker linker = Linker.nativeLinker();
        var lookup = linker.defaultLookup();
        MemorySegment allocSym = lookup.find("aligned_alloc")
                .orElseThrow(() -> new UnsupportedOperationException("CpuAllocator: libc has no aligned_alloc"));
        MemorySegment freeSym = lookup.find("free").orElseThrow(() -> new UnsupportedOperationException("CpuAllocator: libc has no free"));
        // Pointers travel as JAVA_LONG: on the 64-bit targets FFM supports, a pointer is returned and passed
        // in the same registers as a 64-bit integer, and a long avoids a MemorySegment per call.
        FunctionDescriptor allocDesc = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
        FunctionDescriptor freeDesc = FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG);
        Linker.Option critical = Linker.Option.critical(false);
        ALLOC_SMALL = linker.downcallHandle(allocSym, allocDesc, critical);
        ALLOC_LARGE = linker.downcallHandle(allocSym, allocDesc);
        FREE_SMALL = linker.downcallHandle(freeSym, freeDesc, critical);
        FREE_LARGE = linker.downcallHandle(freeSym, freeDesc);
        Optional<MemorySegment> madvise = lookup.find("madvise");
        MADVISE = madvise.map(m -> linker.downcallHandle(m,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT))).orElse(null);
    }

    /** One logical device's counters and cached blocks. */
    private static final class DeviceState {
        final MemoryStats stats = new MemoryStats();
        final Map<Long, ArrayDeque<Long>> cache = new HashMap<>();
        long cachedBytes;
    }

    /** State per device index; grown copy-on-write so that the hot path is one volatile read. */
    private volatile DeviceState[] devices = newStates(4);

    private static DeviceState[] newStates(int n) {
        DeviceState[] s = new DeviceState[n];
        for (int i = 0; i < n; i++) s[i] = new DeviceState();
        return s;
    }

    /** The size actually taken from libc for a request. */
    private static long blockSize(long bytes) {
        if (bytes >= HUGE_MIN) return (bytes + HUGE_PAGE - 1) & -HUGE_PAGE;
        if (bytes >= CACHE_MIN) return (bytes + CACHE_GRAIN - 1) & -CACHE_GRAIN;
        return Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) & -ALIGNMENT);
    }

    @Override public long allocate(Device device, long bytes) {
        DeviceState ds = state(device);
        if (bytes < 0) throw new IllegalArgumentException("allocate on " + device + ": negative size " + bytes);
        long size = blockSize(bytes);
        if (size < bytes) throw outOfMemory(device, bytes, ds.stats);
        long address = 0;
        if (size >= CACHE_MIN) address = takeCached(ds, size);
        if (address == 0) {
            address = size <= CRITICAL_LIMIT ? allocSmall(size) : allocLarge(size);
            if (address == 0 && size >= CACHE_MIN && emptyCache(ds) > 0) address = allocLarge(size);
            if (address == 0) throw outOfMemory(device, bytes, ds.stats);
            if (size >= HUGE_MIN) adviseHugePages(address, size);
        }
        ds.stats.onAllocate(bytes);
        if (size >= CACHE_MIN) updateReserved(ds);
        return address;
    }

    private static long allocSmall(long size) {
        try {
            return (long) ALLOC_SMALL.invokeExact(ALIGNMENT, size);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
    }

    private static long allocLarge(long size) {
        try {
            return (long) ALLOC_LARGE.invokeExact(size >= HUGE_MIN ? HUGE_PAGE : ALIGNMENT, size);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc failed", t);
        }
    }

    /** Huge pages cut the page faults of a fresh block 512-fold; failure only costs speed, so it is ignored. */
    private static void adviseHugePages(long address, long size) {
        if (MADVISE == null) return;
        try {
            int ignored = (int) MADVISE.invokeExact(address, size, MADV_HUGEPAGE);
        } catch (Throwable t) {
            // advice only
        }
    }

    private static void freeRaw(long address, long size) {
        try {
            if (size <= CRITICAL_LIMIT) FREE_SMALL.invokeExact(address);
            else FREE_LARGE.invokeExact(address);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }

    private static OutOfMemoryError outOfMemory(Device device, long bytes, MemoryStats st) {
        return new OutOfMemoryError("out of memory on " + device + ": could not allocate " + bytes + " bytes ("
                + st.allocated() + " bytes already allocated by jtensor)");
    }

    @Override public void free(Device device, long address, long bytes) {
        if (address == 0) return;
        DeviceState ds = state(device);
        long size = blockSize(bytes);
        ds.stats.onFree(bytes);
        if (size >= CACHE_MIN && putCached(ds, address, size)) {
            updateReserved(ds);
            return;
        }
        freeRaw(address, size);
        if (size >= CACHE_MIN) updateReserved(ds);
    }

    private static long takeCached(DeviceState ds, long size) {
        synchronized (ds) {
            ArrayDeque<Long> q = ds.cache.get(size);
            if (q == null || q.isEmpty()) return 0;
            ds.cachedBytes -= size;
            return q.pop();
        }
    }

    private static boolean putCached(DeviceState ds, long address, long size) {
        synchronized (ds) {
            if (ds.cachedBytes + size > CACHE_LIMIT) return false;
            ds.cache.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
            ds.cachedBytes += size;
            return true;
        }
    }

    private static void updateReserved(DeviceState ds) {
        long cached;
        synchronized (ds) {
            cached = ds.cachedBytes;
        }
        ds.stats.setReserved(ds.stats.allocated() + cached);
    }

    /** Gives every cached block of every device back to libc; returns the bytes released. */
    long emptyCache() {
        long total = 0;
        for (DeviceState ds : devices) total += emptyCache(ds);
        return total;
    }

    private static long emptyCache(DeviceState ds) {
        long released = 0;
        synchronized (ds) {
            for (var e : ds.cache.entrySet()) {
                for (long address : e.getValue()) {
                    freeRaw(address, e.getKey());
                    released += e.getKey();
                }
            }
            ds.cache.clear();
            ds.cachedBytes = 0;
        }
        updateReserved(ds);
        return released;
    }

    /** A kernel's temporary host block; closing it returns the block (to the cache when large). */
    final class Scratch implements AutoCloseable {
        private final Device device;
        private final long address, bytes;
        final MemorySegment segment;

        private Scratch(Device device, long bytes) {
            this.device = device;
            this.bytes = bytes;
            this.address = allocate(device, bytes);
            this.segment = MemorySegment.ofAddress(address).reinterpret(bytes);
        }

        @Override public void close() { free(device, address, bytes); }
    }

    /** Temporary memory for a kernel on a CPU device, accounted to it while alive. */
    Scratch scratch(Device device, long bytes) { return new Scratch(device, Math.max(bytes, 1)); }

    @Override public MemoryStats stats(Device device) { return state(device).stats; }

    private DeviceState state(Device device) {
        if (!device.isCpu()) throw new IllegalArgumentException("CpuAllocator: expected a CPU device, got " + device);
        int i = device.index();
        DeviceState[] s = devices;
        if (i < s.length) return s[i];
        return grow(i);
    }

    private synchronized DeviceState grow(int index) {
        DeviceState[] s = devices;
        if (index < s.length) return s[index];
        DeviceState[] bigger = new DeviceState[Math.max(index + 1, s.length * 2)];
        System.arraycopy(s, 0, bigger, 0, s.length);
        for (int i = s.length; i < bigger.length; i++) bigger[i] = new DeviceState();
        devices = bigger;
        return bigger[index];
    }
}
