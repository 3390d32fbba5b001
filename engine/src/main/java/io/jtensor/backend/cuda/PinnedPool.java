package io.jtensor.backend.cuda;

import io.jtensor.bindings.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * Page-locked staging buffers for host transfers from and to Java heap memory (which the GPU cannot read): the
 * bytes are copied into a pinned buffer and DMA'd from there. Each buffer carries an event marking the end of its
 * last transfer, so that host-to-device copies return without waiting and the buffer is reused once that copy is
 * done.
 */
final class PinnedPool {
    static final long CHUNK = 8L << 20;
    private static final int MAX_BUFFERS = 4;

    static final class Buffer {
        final MemorySegment segment;
        final long event;
        boolean recorded;

        Buffer(MemorySegment segment, long event) {
            this.segment = segment;
            this.event = event;
        }
    }

    private final PhysicalGpu gpu;
    private final ArrayDeque<Buffer> idle = new ArrayDeque<>();
    private int created;

    PinnedPool(PhysicalGpu gpu) { this.gpu = gpu; }

    /** A buffer of CHUNK bytes whose previous transfer has completed. */
    synchronized Buffer acquire() {
        gpu.makeCurrent();
        while (true) {
            for (Buffer b : idle) {
                if (!b.recorded || CudaDriver.cuEventQuery(b.event)) {
                    idle.remove(b);
                    return b;
                }
            }
            if (created < MAX_BUFFERS) {
                created++;
                MemorySegment seg = CudaDriver.cuMemHostAlloc(CHUNK, CudaDriver.MEMHOSTALLOC_PORTABLE);
                return new Buffer(seg, CudaDriver.cuEventCreate(CudaDriver.EVENT_DISABLE_TIMING));
            }
            if (idle.isEmpty()) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a pinned staging buffer", e);
                }
            } else {
                Buffer oldest = idle.poll();
                CudaDriver.cuEventSynchronize(oldest.event);
                return oldest;
            }
        }
    }

    /** Returns a buffer whose last transfer was queued on stream (recorded) or already finished (stream 0). */
    synchronized void release(Buffer b, long stream, boolean inFlight) {
        if (inFlight) {
            CudaDriver.cuEventRecord(b.event, stream);
            b.recorded = true;
        } else {
            b.recorded = false;
        }
        idle.add(b);
        notifyAll();
    }
}
