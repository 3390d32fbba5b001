package io.jtensor.memory;

import io.jtensor.Device;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * A reference-counted block of device memory that arrays (and their views) share. The last {@link #release()} frees
 * it. A {@link Cleaner} frees storage that became unreachable without being released, and logs that it had to.
 */
public final class Storage {
    private static final Logger LOG = Logger.getLogger(Storage.class.getName());
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final long address;
    private final long bytes;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final Freer freer;
    private final Cleaner.Cleanable cleanable;
    private final MemorySegment hostSegment;

    /** The part the cleaner runs: holds no reference to the Storage so that it can become unreachable. */
    private static final class Freer implements Runnable {
        private final Allocator allocator;
        private final Device device;
        private final long address;
        private final long bytes;
        private volatile boolean explicit;

        Freer(Allocator allocator, Device device, long address, long bytes) {
            this.allocator = allocator;
            this.device = device;
            this.address = address;
            this.bytes = bytes;
        }

        @Override public void run() {
            if (!explicit) {
                LOG.fine(() -> "collected " + bytes + " bytes on " + device + " that were never closed");
                LeakCounter.COLLECTED.incrementAndGet();
            }
            allocator.free(device, address, bytes);
        }
    }

    /** How many storages the garbage collector had to free because nobody closed them. */
    public static final class LeakCounter {
        public static final java.util.concurrent.atomic.AtomicLong COLLECTED = new java.util.concurrent.atomic.AtomicLong();
        private LeakCounter() {}
    }

    public Storage(Allocator allocator, Device device, long bytes) {
        this.device = device;
        this.bytes = bytes;
        this.address = allocator.allocate(device, bytes);
        this.freer = new Freer(allocator, device, address, bytes);
        this.cleanable = CLEANER.register(this, freer);
        this.hostSegment = device.isCpu() ? MemorySegment.ofAddress(address).reinterpret(bytes) : null;
    }

    public Device device() { return device; }
    public long address() { return address; }
    public long byteSize() { return bytes; }

    /** The bytes as a host segment; only for CPU storage. */
    public MemorySegment segment() {
        if (hostSegment == null) throw new IllegalStateException("storage on " + device + " is not host memory");
        return hostSegment;
    }

    public boolean isReleased() { return refs.get() <= 0; }

    public Storage retain() {
        int r;
        do {
            r = refs.get();
            if (r <= 0) throw new IllegalStateException("storage on " + device + " was already freed");
        } while (!refs.compareAndSet(r, r + 1));
        return this;
    }

    /**
     * Takes one more reference unless the block was freed already (then false): lets an op that only checked
     * "not closed" keep the block alive while it runs, without failing with a message that names no op.
     */
    public boolean tryRetain() {
        int r;
        do {
            r = refs.get();
            if (r <= 0) return false;
        } while (!refs.compareAndSet(r, r + 1));
        return true;
    }

    public void release() {
        int r = refs.decrementAndGet();
        if (r == 0) {
            freer.explicit = true;
            cleanable.clean();
        } else if (r < 0) {
            throw new IllegalStateException("storage on " + device + " released more times than retained");
        }
    }
}
