package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.bindings.cuda.CudaErrors;
import io.jtensor.bindings.cuda.CudaException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The caching allocator's bookkeeping against a fake driver that hands out address ranges. */
class DeviceMemoryPoolTest {
    private static final long S1 = 11, S2 = 22;

    /** A driver with a fixed capacity; events complete when the test says so. */
    static final class FakeDriver implements DeviceMemoryPool.Backing {
        final long capacity;
        long used, next = 1L << 32;
        final List<long[]> live = new ArrayList<>();
        final Set<Long> doneEvents = new HashSet<>();
        int allocs, frees, syncs;
        long nextEvent = 1;

        FakeDriver(long capacity) { this.capacity = capacity; }

        @Override public long alloc(long bytes) {
            if (used + bytes > capacity) throw new CudaException(CudaErrors.OUT_OF_MEMORY, CudaErrors.name(2), "cuMemAlloc", null);
            used += bytes;
            allocs++;
            long a = next;
            next += bytes + (1L << 20);
            live.add(new long[] {a, bytes});
            return a;
        }

        @Override public void free(long address) {
            frees++;
            for (int i = 0; i < live.size(); i++) {
                if (live.get(i)[0] == address) {
                    used -= live.remove(i)[1];
                    return;
                }
            }
            throw new AssertionError("freeing an address never allocated: " + address);
        }

        @Override public void synchronize() { syncs++; }
        @Override public long recordEvent(long stream) { return nextEvent++; }
        @Override public boolean eventDone(long event) { return doneEvents.contains(event); }
        @Override public void destroyEvent(long event) {}
        @Override public long[] memInfo() { return new long[] {capacity - used, capacity}; }
    }

    @Test
    void smallRequestsShareOneSegmentAndAreRounded() {
        FakeDriver drv = new FakeDriver(1L << 30);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", drv);
        long a = p.allocate(100, S1), b = p.allocate(600, S1), c = p.allocate(512, S1);
        assertEquals(1, drv.allocs, "one 2 MiB segment serves all three");
        assertEquals(DeviceMemoryPool.SMALL_SEGMENT, p.reserved());
        assertEquals(a + 512, b, "100 bytes round up to 512");
        assertEquals(b + 1024, c, "600 bytes round up to 1024");
        assertEquals(512 + 1024 + 512, p.stats.allocated());
        assertEquals(3, p.stats.count());
        assertTrue(a % 512 == 0 || a % 64 == 0);
    }

    @Test
    void freedBlocksAreReusedOnTheSameStreamOnly() {
        FakeDriver drv = new FakeDriver(1L << 30);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", drv);
        long a = p.allocate(4L << 20, S1);
        p.free(a, S1);
        assertEquals(a, p.allocate(4L << 20, S1), "reused on its stream");
        long b = p.allocate(4L << 20, S2);
        assertNotEquals(a, b, "another stream gets another block");
        assertEquals(2, drv.allocs);
    }

    @Test
    void splitBlocksCoalesceWhenFreed() {
        FakeDriver drv = new FakeDriver(1L << 30);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", drv);
        long a = p.allocate(3L << 20, S1); // a 20 MiB segment, split
        long b = p.allocate(5L << 20, S1);
        assertEquals(1, drv.allocs);
        assertEquals(a + (3L << 20), b);
        p.free(a, S1);
        p.free(b, S1);
        // Both halves merged back with the tail: a request for the whole segment fits without a new cuMemAlloc.
        long whole = p.allocate(DeviceMemoryPool.LARGE_SEGMENT, S1);
        assertEquals(a, whole);
        assertEquals(1, drv.allocs);
    }

    @Test
    void peakAndReservedAreTracked() {
        FakeDriver drv = new FakeDriver(1L << 30);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", drv);
        long a = p.allocate(12L << 20, S1);
        long b = p.allocate(12L << 20, S1);
        p.free(a, S1);
        p.free(b, S1);
        assertEquals(0, p.stats.allocated());
        assertEquals(24L << 20, p.stats.peak());
        assertEquals(24L << 20, p.stats.reserved(), "freed blocks stay cached");
        p.releaseCached();
        assertEquals(0, p.reserved());
        assertEquals(0, drv.used);
        assertEquals(1, drv.syncs, "releasing waits for the device first");
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetries() {
        FakeDriver drv = new FakeDriver(64L << 20);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", drv);
        long a = p.allocate(40L << 20, S1);
        p.free(a, S1);
        // 40 MiB are cached on S1; S2 needs 40 MiB more than the device has: the cache goes back, then it fits.
        long b = p.allocate(40L << 20, S2);
        assertTrue(b != 0);
        assertEquals(40L << 20, drv.used);
        assertEquals(1, drv.frees);
    }

    @Test
    void outOfMemoryWithNothingCachedNamesTheNumbers() {
        FakeDriver drv = new FakeDriver(64L << 20);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:1", drv);
        p.allocate(40L << 20, S1);
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> p.allocate(40L << 20, S1));
        assertTrue(e.getMessage().startsWith("CUDA out of memory on cuda:1: tried to allocate 40.0 MiB"), e.getMessage());
        assertTrue(e.getMessage().contains("40.0 MiB in live arrays"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY in cuMemAlloc"), e.getMessage());
    }

    @Test
    void freeFromAnotherStreamWaitsForItsEvent() {
        FakeDriver drv = new FakeDriver(1L << 30);
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", drv);
        long a = p.allocate(4L << 20, S1);
        p.free(a, S2); // last used on S2: reusable only after S2's event completes
        assertEquals(1, p.pendingFrees());
        long b = p.allocate(4L << 20, S1);
        assertNotEquals(a, b, "not reused while the event is pending");
        drv.doneEvents.add(1L);
        p.free(b, S1);
        long c = p.allocate(4L << 20, S1);
        assertEquals(0, p.pendingFrees());
        assertTrue(c == a || c == b);
    }

    @Test
    void freeingAnUnknownAddressIsAnError() {
        DeviceMemoryPool p = new DeviceMemoryPool("cuda:0", new FakeDriver(1L << 30));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.free(12345, S1));
        assertTrue(e.getMessage().contains("free of unknown address"), e.getMessage());
    }
}
