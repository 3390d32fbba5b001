package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.backend.Backends;

/**
 * The calling thread's current stream per device. Ops on a CUDA device are queued on the current stream of the
 * thread that calls them; by default that is the device's default stream.
 * <pre>{@code try (var scope = CudaStreams.use(stream)) { ... }  // restores the previous stream}</pre>
 */
public final class CudaStreams {
    private static final ThreadLocal<CudaStream[]> CURRENT = ThreadLocal.withInitial(() -> new CudaStream[8]);

    private CudaStreams() {}

    /** The device's default stream. */
    public static CudaStream defaultStream(Device d) { return Backends.cuda().device(d).defaultStream; }

    /** The stream ops on d use from this thread. */
    public static CudaStream current(Device d) { return current(Backends.cuda().device(d)); }

    static CudaStream current(CudaDevice dev) {
        CudaStream[] cur = CURRENT.get();
        CudaStream s = dev.index < cur.length ? cur[dev.index] : null;
        if (s == null || s.isClosed()) return dev.defaultStream;
        return s;
    }

    /** Makes stream the current one for its device on this thread until the scope closes. */
    public static Scope use(CudaStream stream) {
        int i = stream.device.index;
        CudaStream[] cur = CURRENT.get();
        if (i >= cur.length) {
            cur = java.util.Arrays.copyOf(cur, Math.max(i + 1, cur.length * 2));
            CURRENT.set(cur);
        }
        Scope scope = new Scope(i, cur[i]);
        cur[i] = stream;
        return scope;
    }

    /** Restores the stream that was current before {@link #use}. */
    public static final class Scope implements AutoCloseable {
        private final int device;
        private final CudaStream previous;
        private boolean closed;

        private Scope(int device, CudaStream previous) {
            this.device = device;
            this.previous = previous;
        }

        @Override public void close() {
            if (closed) return;
            closed = true;
            CURRENT.get()[device] = previous;
        }
    }
}
