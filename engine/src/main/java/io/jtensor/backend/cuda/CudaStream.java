package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.cuda.CudaDriver;

/**
 * A CUDA stream on one (logical) device: work queued on it runs in order, work on different streams may overlap.
 * Every device has a default stream ({@link CudaStreams#defaultStream}); ops run on the calling thread's current
 * stream for the device ({@link CudaStreams#current}, set with {@link CudaStreams#use}).
 * <pre>{@code
 * try (CudaStream s = CudaStream.create(Device.cuda(0)); var use = CudaStreams.use(s)) {
 *     ... ops here are queued on s ...
 *     s.synchronize();
 * }}</pre>
 */
public final class CudaStream implements AutoCloseable {
    final CudaDevice device;
    final long handle;
    private final boolean owned;
    private volatile boolean closed;

    CudaStream(CudaDevice device, long handle, boolean owned) {
        this.device = device;
        this.handle = handle;
        this.owned = owned;
    }

    /** A new stream on d (non-blocking with respect to the legacy default stream). */
    public static CudaStream create(Device d) {
        CudaDevice dev = Backends.cuda().device(d);
        dev.gpu.makeCurrent();
        return new CudaStream(dev, CudaDriver.cuStreamCreate(CudaDriver.STREAM_NON_BLOCKING), true);
    }

    public Device device() { return device.device; }

    /** The CUstream handle, for interoperating with other CUDA libraries. */
    public long handle() { return handle; }

    /** Blocks until everything queued on this stream has run. */
    public void synchronize() {
        device.gpu.makeCurrent();
        CudaDriver.cuStreamSynchronize(handle);
    }

    /** Whether everything queued so far has completed. */
    public boolean query() {
        device.gpu.makeCurrent();
        return CudaDriver.cuStreamQuery(handle);
    }

    /** Records a new event at this point of the stream (for timing or cross-stream waits). */
    public CudaEvent record() {
        CudaEvent e = CudaEvent.create(device(), true);
        e.record(this);
        return e;
    }

    /** Makes later work on this stream wait until the event's work is done (without blocking the host). */
    public void waitFor(CudaEvent event) {
        device.gpu.makeCurrent();
        CudaDriver.cuStreamWaitEvent(handle, event.handle, 0);
    }

    /** Makes later work on this stream wait for everything queued on other so far. */
    public void waitFor(CudaStream other) {
        try (CudaEvent e = CudaEvent.create(other.device(), false)) {
            e.record(other);
            waitFor(e);
        }
    }

    boolean isClosed() { return closed; }

    /** Destroys a stream made by {@link #create}; the default stream cannot be closed (a no-op). */
    @Override public void close() {
        if (!owned || closed) return;
        closed = true;
        device.gpu.makeCurrent();
        CudaDriver.cuStreamDestroy(handle);
    }

    @Override public String toString() { return "CudaStream(" + device() + (owned ? "" : ", default") + ")"; }
}
