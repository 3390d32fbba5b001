package io.jtensor.backend.cuda;

import io.jtensor.bindings.cuda.CudaDriver;
import io.jtensor.bindings.cuda.CudaException;
import io.jtensor.memory.MemoryStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The caching allocator of one logical device. Freed blocks are kept for reuse instead of going back to the driver
 * (cuMemAlloc/cuMemFree synchronise and cost tens of microseconds):
 * <ul>
 *   <li>sizes round up to 512 bytes; requests up to 1 MiB come from 2 MiB segments, larger ones from segments of
 *       20 MiB (up to 10 MiB) or their size rounded to 2 MiB;</li>
 *   <li>a block larger than the request is split, and freed neighbours in a segment coalesce again;</li>
 *   <li>free blocks are kept per stream: a block is reused only on the stream it was allocated on, where stream order
 *       makes reuse safe while earlier kernels may still be running. A block freed while the thread's current stream
 *       is another one waits for an event on that stream before it can be reused;</li>
 *   <li>when the driver is out of memory, cached blocks are released and the allocation retried once.</li>
 * </ul>
 * Stats: allocated and peak count block sizes of live allocations, reserved the segments held from the driver.
 */
final class DeviceMemoryPool {
    static final long ROUND = 512;
    static final long SMALL_LIMIT = 1L << 20;
    static final long SMALL_SEGMENT = 2L << 20;
    static final long LARGE_SEGMENT = 20L << 20;
    static final long LARGE_ROUND = 2L << 20;
    static final long LARGE_SPLIT_MIN = 1L << 20;

    private static final class Block {
        final long address;
        long size;
        final boolean small;
        final long stream;
        boolean free;
        Block prev, next;

        Block(long address, long size, boolean small, long stream) {
            this.address = address;
            this.size = size;
            this.small = small;
            this.stream = stream;
        }
    }

    private record Pending(Block block, long event) {}

    /** What the pool needs from the driver; a fake in unit tests. */
    interface Backing {
        long alloc(long bytes);          // throws CudaException (OUT_OF_MEMORY) when the GPU is full
        void free(long address);
        void synchronize();              // waits for all work on the device
        long recordEvent(long stream);   // an event recorded at the current end of stream
        boolean eventDone(long event);
        void destroyEvent(long event);
        long[] memInfo();                // {free, total}
    }

    /** The real driver, for a device's context. */
    static Backing driver(PhysicalGpu gpu) {
        return new Backing() {
            @Override public long alloc(long bytes) { gpu.makeCurrent(); return CudaDriver.cuMemAlloc(bytes); }
            @Override public void free(long address) { gpu.makeCurrent(); CudaDriver.cuMemFree(address); }
            @Override public void synchronize() { gpu.makeCurrent(); CudaDriver.cuCtxSynchronize(); }
            @Override public long recordEvent(long stream) {
                gpu.makeCurrent();
                long ev = CudaDriver.cuEventCreate(CudaDriver.EVENT_DISABLE_TIMING);
                CudaDriver.cuEventRecord(ev, stream);
                return ev;
            }
            @Override public boolean eventDone(long event) { gpu.makeCurrent(); return CudaDriver.cuEventQuery(event); }
            @Override public void destroyEvent(long event) { gpu.makeCurrent(); CudaDriver.cuEventDestroy(event); }
            @Override public long[] memInfo() { gpu.makeCurrent(); return CudaDriver.cuMemGetInfo(); }
        };
    }

    private static final Comparator<Block> BY_SIZE = Comparator.comparingLong((Block b) -> b.size).thenComparingLong(b -> b.address);

    private final String device;
    private final Backing backing;
    final MemoryStats stats = new MemoryStats();
    private final Map<Long, Block> live = new HashMap<>();
    private final Map<Long, TreeSet<Block>> freeSmall = new HashMap<>();
    private final Map<Long, TreeSet<Block>> freeLarge = new HashMap<>();
    private final List<Pending> pending = new ArrayList<>();
    private long reserved;
    private long segments;

    DeviceMemoryPool(String device, Backing backing) {
        this.device = device;
        this.backing = backing;
    }

    static long roundSize(long bytes) { return Math.max(ROUND, (bytes + ROUND - 1) / ROUND * ROUND); }

    static long segmentSize(long size) {
        if (size <= SMALL_LIMIT) return SMALL_SEGMENT;
        if (size < 10L << 20) return LARGE_SEGMENT;
        return (size + LARGE_ROUND - 1) / LARGE_ROUND * LARGE_ROUND;
    }

    private TreeSet<Block> pool(boolean small, long stream) {
        return (small ? freeSmall : freeLarge).computeIfAbsent(stream, s -> new TreeSet<>(BY_SIZE));
    }

    /** A block of at least bytes for use on stream. */
    synchronized long allocate(long bytes, long stream) {
        reclaimPending(false);
        long size = roundSize(bytes);
        boolean small = size <= SMALL_LIMIT;
        TreeSet<Block> pool = pool(small, stream);
        Block probe = new Block(0, size, small, stream);
        Block b = pool.ceiling(probe);
        if (b != null) {
            pool.remove(b);
        } else {
            long segSize = segmentSize(size);
            long addr = driverAlloc(segSize, size);
            b = new Block(addr, segSize, small, stream);
            reserved += segSize;
            segments++;
            stats.setReserved(reserved);
        }
        long remainder = b.size - size;
        if (remainder >= (small ? ROUND : LARGE_SPLIT_MIN)) {
            Block rest = new Block(b.address + size, remainder, small, stream);
            rest.free = true;
            rest.prev = b;
            rest.next = b.next;
            if (b.next != null) b.next.prev = rest;
            b.next = rest;
            b.size = size;
            pool.add(rest);
        }
        b.free = false;
        live.put(b.address, b);
        stats.onAllocate(b.size);
        return b.address;
    }

    private long driverAlloc(long segSize, long requested) {
        try {
            return backing.alloc(segSize);
        } catch (CudaException e) {
            if (!e.isOutOfMemory()) throw e;
        }
        releaseCached();
        try {
            return backing.alloc(segSize);
        } catch (CudaException e) {
            if (!e.isOutOfMemory()) throw e;
            long[] info = backing.memInfo();
            OutOfMemoryError oom = new OutOfMemoryError("CUDA out of memory on " + device + ": tried to allocate "
                    + mib(requested) + " (segment " + mib(segSize) + "); this device holds " + mib(stats.allocated())
                    + " in live arrays, " + mib(reserved) + " reserved; the GPU has " + mib(info[0]) + " free of "
                    + mib(info[1]) + " (" + e.getMessage() + ")");
            oom.initCause(e);
            throw oom;
        }
    }

    private static String mib(long bytes) { return String.format("%.1f MiB", bytes / 1048576.0); }

    /** Returns a block; it can be reused once the work queued before this point on the current stream is done. */
    synchronized void free(long address, long currentStream) {
        Block b = live.remove(address);
        if (b == null) throw new IllegalStateException("CUDA allocator on " + device + ": free of unknown address 0x" + Long.toHexString(address));
        stats.onFree(b.size);
        if (currentStream != b.stream) {
            pending.add(new Pending(b, backing.recordEvent(currentStream)));
        } else {
            release(b);
        }
    }

    /** Puts a block into its free pool, merged with free neighbours. */
    private void release(Block b) {
        TreeSet<Block> pool = pool(b.small, b.stream);
        b.free = true;
        if (b.prev != null && b.prev.free) {
            Block p = b.prev;
            pool.remove(p);
            p.size += b.size;
            p.next = b.next;
            if (b.next != null) b.next.prev = p;
            b = p;
        }
        if (b.next != null && b.next.free) {
            Block n = b.next;
            pool.remove(n);
            b.size += n.size;
            b.next = n.next;
            if (n.next != null) n.next.prev = b;
        }
        pool.add(b);
    }

    private void reclaimPending(boolean all) {
        if (pending.isEmpty()) return;
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (all || backing.eventDone(p.event())) {
                backing.destroyEvent(p.event());
                release(p.block());
                it.remove();
            }
        }
    }

    /** Waits for the device, then gives every whole free segment back to the driver. */
    synchronized void releaseCached() {
        backing.synchronize();
        reclaimPending(true);
        for (Map<Long, TreeSet<Block>> pools : List.of(freeSmall, freeLarge)) {
            for (TreeSet<Block> pool : pools.values()) {
                for (Iterator<Block> it = pool.iterator(); it.hasNext(); ) {
                    Block b = it.next();
                    if (b.prev == null && b.next == null) {
                        it.remove();
                        backing.free(b.address);
                        reserved -= b.size;
                        segments--;
                    }
                }
            }
        }
        stats.setReserved(reserved);
    }

    synchronized long reserved() { return reserved; }
    synchronized int pendingFrees() { return pending.size(); }
    synchronized long segments() { return segments; }

    /** Bytes in free blocks (cached, reusable). */
    synchronized long cached() {
        long c = 0;
        for (Map<Long, TreeSet<Block>> pools : List.of(freeSmall, freeLarge)) {
            for (TreeSet<Block> pool : pools.values()) for (Block b : pool) c += b.size;
        }
        return c;
    }
}
