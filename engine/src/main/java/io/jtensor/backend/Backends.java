package io.jtensor.backend;

import io.jtensor.Device;
import io.jtensor.backend.cpu.CpuBackend;
import io.jtensor.backend.cuda.CudaBackend;

/** The one dispatch point from a device to the backend that runs its ops. */
public final class Backends {
    private static final CpuBackend CPU = new CpuBackend();
    private static volatile CudaBackend cuda;
    private static volatile RuntimeException cudaFailure;

    private Backends() {}

    public static Backend of(Device d) {
        if (d.isCpu()) return CPU;
        CudaBackend c = cuda();
        c.checkDevice(d);
        return c;
    }

    public static CpuBackend cpu() { return CPU; }

    /** Whether a CUDA backend can be used on this machine; the reason when not is in {@link #cudaUnavailableReason()}. */
    public static boolean cudaAvailable() {
        try {
            cuda();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Why CUDA cannot be used, or null when it can. */
    public static String cudaUnavailableReason() {
        try {
            cuda();
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    /** The CUDA backend, created on first use; the failure to create it is remembered and rethrown. */
    public static CudaBackend cuda() {
        CudaBackend c = cuda;
        if (c != null) return c;
        synchronized (Backends.class) {
            if (cuda != null) return cuda;
            if (cudaFailure != null) throw cudaFailure;
            try {
                cuda = CudaBackend.create();
                return cuda;
            } catch (RuntimeException | LinkageError e) {
                cudaFailure = e instanceof RuntimeException re ? re : new UnsupportedOperationException(e.toString(), e);
                throw cudaFailure;
            }
        }
    }
}
