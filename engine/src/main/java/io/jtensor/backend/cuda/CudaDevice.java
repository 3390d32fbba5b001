package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.bindings.cublas.Cublas;
import io.jtensor.bindings.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A logical CUDA device (cuda:i): a physical GPU plus its own default stream, caching allocator (and so its own
 * memory accounting) and cuBLAS handle. Several logical devices may share one physical GPU.
 */
final class CudaDevice {
    final int index;
    final Device device;
    final PhysicalGpu gpu;
    final CudaStream defaultStream;
    final DeviceMemoryPool pool;
    private long cublasHandle;

    CudaDevice(int index, PhysicalGpu gpu) {
        this.index = index;
        this.device = new Device(Device.Type.CUDA, index);
        this.gpu = gpu;
        gpu.makeCurrent();
        this.defaultStream = new CudaStream(this, CudaDriver.cuStreamCreate(CudaDriver.STREAM_NON_BLOCKING), false);
        this.pool = new DeviceMemoryPool(device.toString(), DeviceMemoryPool.driver(gpu));
    }

    /** Makes the context current and returns the calling thread's current stream for this device. */
    long enter() {
        gpu.makeCurrent();
        return CudaStreams.current(this).handle;
    }

    /** Queues a kernel on stream that reports bad input into the error flag at device address flag. */
    @FunctionalInterface
    interface CheckedLaunch {
        void launch(long flag, long stream);
    }

    /** Turns a code a kernel wrote into its error flag (and the value it wrote with it) into the exception to throw. */
    @FunctionalInterface
    interface KernelFailure {
        /** The exception for code, or null for a code this launch does not expect. */
        RuntimeException exception(int code, long value);
    }

    /**
     * Launches a kernel that reports bad input (an index out of range, an integer division by zero) and fails at once
     * when it did. {@code launch} gets the device address of a fresh, zeroed flag {int code, int pad, long value}
     * (kernels/cu/common.cuh, report_error) and the calling thread's current stream; after it the flag is read back
     * on that stream, which waits for the kernel, and a set code becomes the exception {@code failure} makes of it.
     * The flag belongs to this call alone: an error can neither surface in a later op nor in another thread's op on
     * the same device.
     *
     * <p>The price is one stream synchronisation per call. The kernels skip the bad elements, so whatever they
     * wrote before the error is partial; NDArray's ops write into fresh arrays that the exception discards.
     */
    void launchChecked(String op, CheckedLaunch launch, KernelFailure failure) {
        long stream = enter();
        try (DeviceBuffer flag = temp(FLAG_BYTES); Arena arena = Arena.ofConfined()) {
            CudaDriver.cuMemsetD32Async(flag.address, 0, FLAG_BYTES / 4, stream);
            launch.launch(flag.address, stream);
            MemorySegment host = arena.allocate(FLAG_BYTES, 8);
            CudaDriver.cuMemcpyDtoHAsync(host, flag.address, FLAG_BYTES, stream);
            CudaDriver.cuStreamSynchronize(stream);
            int code = host.get(ValueLayout.JAVA_INT, 0);
            if (code == 0) return;
            long value = host.get(ValueLayout.JAVA_LONG, 8);
            RuntimeException e = failure.exception(code, value);
            throw e != null ? e
                    : new IllegalStateException(op + " on " + device + ": the kernel reported error code " + code + " (value " + value + ")");
        }
    }

    private static final int FLAG_BYTES = 16;

    /** Grid size for a grid-stride kernel over work items: enough blocks to fill the GPU, no more. */
    long grid(long work, int block) {
        long need = (work + block - 1) / block;
        long cap = (long) gpu.multiprocessors * (2048 / block) * 2;
        return Math.max(1, Math.min(need, cap));
    }

    /** A temporary device buffer, released (stream-ordered) on close. */
    DeviceBuffer temp(long bytes) {
        long stream = CudaStreams.current(this).handle;
        return new DeviceBuffer(this, pool.allocate(Math.max(bytes, 1), stream), bytes);
    }

    /** This device's cuBLAS handle bound to stream; callers hold the device's lock while using it. */
    long cublas(long stream) {
        if (cublasHandle == 0) {
            gpu.makeCurrent();
            cublasHandle = Cublas.create();
            Cublas.setMathMode(cublasHandle, Cublas.DEFAULT_MATH);
        }
        Cublas.setStream(cublasHandle, stream);
        return cublasHandle;
    }

    /** A raw device allocation from this device's pool. */
    static final class DeviceBuffer implements AutoCloseable {
        final CudaDevice dev;
        final long address;
        final long bytes;
        private boolean closed;

        DeviceBuffer(CudaDevice dev, long address, long bytes) {
            this.dev = dev;
            this.address = address;
            this.bytes = bytes;
        }

        @Override public void close() {
            if (closed) return;
            closed = true;
            dev.pool.free(address, CudaStreams.current(dev).handle);
        }
    }

    @Override public String toString() { return device + " on " + gpu; }
}
