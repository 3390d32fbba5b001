package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.memory.Allocator;
import io.jtensor.memory.MemoryStats;

/** The {@link Allocator} of the CUDA backend: each logical device has its own {@link DeviceMemoryPool}. */
final class CachingAllocator implements Allocator {
    private final CudaBackend backend;

    CachingAllocator(CudaBackend backend) { this.backend = backend; }

    @Override public long allocate(Device device, long bytes) {
        CudaDevice dev = backend.device(device);
        return dev.pool.allocate(bytes, CudaStreams.current(dev).handle);
    }

    @Override public void free(Device device, long address, long bytes) {
        CudaDevice dev = backend.device(device);
        dev.pool.free(address, CudaStreams.current(dev).handle);
    }

    @Override public MemoryStats stats(Device device) { return backend.device(device).pool.stats; }
}
