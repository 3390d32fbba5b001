package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.backend.Backend;

/** Placeholder until the CUDA backend lands: says plainly that this build has none. */
public abstract class CudaBackend implements Backend {
    public static CudaBackend create() {
        throw new UnsupportedOperationException("Device.cuda: this build of jtensor has no CUDA backend yet");
    }

    /** Throws when d is not a CUDA device this backend can run on. */
    public abstract void checkDevice(Device d);
}
