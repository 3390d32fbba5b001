package io.jtensor.memory;

import io.jtensor.Device;

/** Hands out raw memory for one kind of device. Implementations keep their device's {@link MemoryStats}. */
public interface Allocator {
    /** Returns the address of at least {@code bytes} bytes (aligned to 64), or throws OutOfMemoryError. */
    long allocate(Device device, long bytes);

    void free(Device device, long address, long bytes);

    MemoryStats stats(Device device);
}
