package io.jtensor.memory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Per-device counters: bytes held by live arrays now and at peak, how many allocations are live, and (for caching
 * allocators) bytes reserved from the driver.
 */
public final class MemoryStats {
    private final AtomicLong allocated = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong reserved = new AtomicLong();

    public void onAllocate(long bytes) {
        long now = allocated.addAndGet(bytes);
        count.incrementAndGet();
        peak.accumulateAndGet(now, Math::max);
    }

    public void onFree(long bytes) {
        allocated.addAndGet(-bytes);
        count.decrementAndGet();
    }

    public void setReserved(long bytes) { reserved.set(bytes); }

    /** Bytes held by live arrays. */
    public long allocated() { return allocated.get(); }
    /** Highest {@link #allocated()} seen since start or the last {@link #resetPeak()}. */
    public long peak() { return peak.get(); }
    /** Number of live allocations. */
    public long count() { return count.get(); }
    /** Bytes the allocator holds from the system, cached blocks included. */
    public long reserved() { return Math.max(reserved.get(), allocated.get()); }

    public void resetPeak() { peak.set(allocated.get()); }

    @Override public String toString() {
        return "allocated=" + allocated() + " peak=" + peak() + " count=" + count() + " reserved=" + reserved();
    }
}
