package io.jtensor;

import io.jtensor.backend.Backends;
import java.util.stream.Stream;

/**
 * The devices every op test runs on: the CPU always, CUDA device 0 when this machine can run it. On a machine
 * without a GPU the CUDA cases are simply absent; {@link #cudaSkipReason()} says why.
 */
public final class TestDevices {
    private TestDevices() {}

    public static Stream<Device> all() {
        if (Backends.cudaAvailable()) return Stream.of(Device.cpu(), Device.cuda(0));
        return Stream.of(Device.cpu());
    }

    /** Why CUDA cases are not run, or null when they are. */
    public static String cudaSkipReason() { return Backends.cudaUnavailableReason(); }
}
