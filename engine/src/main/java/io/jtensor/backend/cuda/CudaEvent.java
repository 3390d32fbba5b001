package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.cuda.CudaDriver;

/** A CUDA event: a point in a stream to wait for or to time against. */
public final class CudaEvent implements AutoCloseable {
    final CudaDevice device;
    final long handle;
    private final boolean timing;
    private boolean closed;

    private CudaEvent(CudaDevice device, long handle, boolean timing) {
        this.device = device;
        this.handle = handle;
        this.timing = timing;
    }

    /** A new event on d; timing events can measure {@link #elapsedMillis}, others are cheaper to wait on. */
    public static CudaEvent create(Device d, boolean timing) {
        CudaDevice dev = Backends.cuda().device(d);
        dev.gpu.makeCurrent();
        return new CudaEvent(dev, CudaDriver.cuEventCreate(timing ? CudaDriver.EVENT_DEFAULT : CudaDriver.EVENT_DISABLE_TIMING), timing);
    }

    /** Records the event at the current end of the stream. */
    public void record(CudaStream stream) {
        device.gpu.makeCurrent();
        CudaDriver.cuEventRecord(handle, stream.handle);
    }

    /** Records the event on the device's current stream for this thread. */
    public void record() { record(CudaStreams.current(device.device)); }

    /** Blocks until the recorded work has completed. */
    public void synchronize() {
        device.gpu.makeCurrent();
        CudaDriver.cuEventSynchronize(handle);
    }

    /** Whether the recorded work has completed. */
    public boolean query() {
        device.gpu.makeCurrent();
        return CudaDriver.cuEventQuery(handle);
    }

    /** Milliseconds from this event to end (both recorded; waits for end). */
    public float elapsedMillis(CudaEvent end) {
        if (!timing || !end.timing) throw new IllegalStateException("elapsedMillis: both events must be created with timing=true");
        end.synchronize();
        return CudaDriver.cuEventElapsedTime(handle, end.handle);
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        device.gpu.makeCurrent();
        CudaDriver.cuEventDestroy(handle);
    }
}
