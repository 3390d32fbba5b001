package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.backend.Backends;

/**
 * For libraries that take the CUDA context from the calling thread and a raw stream (NCCL): make a device's context
 * current on this thread and name its current stream.
 */
public final class CudaInterop {
    private CudaInterop() {}

    /** Makes the (primary) context of d's GPU current on the calling thread. */
    public static void makeCurrent(Device d) { Backends.cuda().device(d).gpu.makeCurrent(); }

    /** The CUstream handle of the calling thread's current stream on d, with d's context made current. */
    public static long currentStream(Device d) { return Backends.cuda().device(d).enter(); }

    /** The CUDA device ordinal (physical GPU) behind the logical device d. */
    public static int ordinal(Device d) { return Backends.cuda().device(d).gpu.ordinal; }
}
