package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.bindings.cublas.Cublas;
import io.jtensor.bindings.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A logical CUDA device (cuda:i): a physical GPU plus its own default stream, caching allocator (and so its own
 * memory accounting), cuBLAS handle and kernel error flag. Several logical devices may share one physical GPU.
 */
final class CudaDevice {
    final int index;
    final Device device;
    final PhysicalGpu gpu;
    final CudaStream defaultStream;
    final DeviceMemoryPool pool;
    /** Pinned, device-mapped {int code, int pad, long value} that kernels set when they meet a bad index. */
    private final MemorySegment errorFlag;
    private volatile String lastIndexOp = "an index kernel";
    private long cublasHandle;

    CudaDevice(int index, PhysicalGpu gpu) {
        this.index = index;
        this.device = new Device(Device.Type.CUDA, index);
        this.gpu = gpu;
        gpu.makeCurrent();
        this.defaultStream = new CudaStream(this, CudaDriver.cuStreamCreate(CudaDriver.STREAM_NON_BLOCKING), false);
        this.pool = new DeviceMemoryPool(device.toString(), DeviceMemoryPool.driver(gpu));
        this.errorFlag = CudaDriver.cuMemHostAlloc(16, CudaDriver.MEMHOSTALLOC_PORTABLE | CudaDriver.MEMHOSTALLOC_DEVICEMAP);
        errorFlag.fill((byte) 0);
    }

    /** Makes the context current and returns the calling thread's current stream for this device. */
    long enter() {
        gpu.makeCurrent();
        return CudaStreams.current(this).handle;
    }

    /** The device address of the error flag (host memory mapped into the GPU's address space). */
    long errorFlagAddress(String op) {
        lastIndexOp = op;
        return errorFlag.address();
    }

    /** Throws (and clears the flag) when a kernel finished since the last check reported a bad index. */
    void checkErrors() {
        int code = errorFlag.get(ValueLayout.JAVA_INT, 0);
        if (code == 0) return;
        long value = errorFlag.get(ValueLayout.JAVA_LONG, 8);
        errorFlag.fill((byte) 0);
        if (code == KernelCodes.E_INDEX_OUT_OF_RANGE) {
            throw new IndexOutOfBoundsException(lastIndexOp + " on " + device + ": index " + value
                    + " out of range (the offending elements were skipped)");
        }
        throw new IllegalStateException("a kernel on " + device + " reported error " + code + " (value " + value + ")");
    }

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
