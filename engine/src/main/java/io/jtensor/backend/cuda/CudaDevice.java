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
    /**
     * Device memory {int code, int pad, long value} that kernels set when they meet a bad index. Read back (a 16-byte
     * copy) only at synchronisation points after an index kernel has run.
     */
    private final long errorFlag;
    private final MemorySegment errorHost = java.lang.foreign.Arena.ofAuto().allocate(16, 8);
    private volatile boolean indexKernelsSinceSync;
    private volatile String lastIndexOp = "an index kernel";
    private long cublasHandle;

    CudaDevice(int index, PhysicalGpu gpu) {
        this.index = index;
        this.device = new Device(Device.Type.CUDA, index);
        this.gpu = gpu;
        gpu.makeCurrent();
        this.defaultStream = new CudaStream(this, CudaDriver.cuStreamCreate(CudaDriver.STREAM_NON_BLOCKING), false);
        this.pool = new DeviceMemoryPool(device.toString(), DeviceMemoryPool.driver(gpu));
        this.errorFlag = CudaDriver.cuMemAlloc(16);
        CudaDriver.cuMemsetD8(errorFlag, (byte) 0, 16);
    }

    /** Makes the context current and returns the calling thread's current stream for this device. */
    long enter() {
        gpu.makeCurrent();
        return CudaStreams.current(this).handle;
    }

    /** The device address of the error flag, for an index kernel named op about to be launched. */
    long errorFlagAddress(String op) {
        lastIndexOp = op;
        indexKernelsSinceSync = true;
        return errorFlag;
    }

    /**
     * Throws (and clears the flag) when an index kernel reported a bad index. Call after synchronising: with
     * {@code wholeDevice}, every kernel has finished and the flag need not be read again until the next index kernel.
     */
    void checkErrors(boolean wholeDevice) {
        if (!indexKernelsSinceSync) return;
        gpu.makeCurrent();
        CudaDriver.cuMemcpyDtoH(errorHost, errorFlag, 16);
        if (wholeDevice) indexKernelsSinceSync = false;
        int code = errorHost.get(ValueLayout.JAVA_INT, 0);
        if (code == 0) return;
        long value = errorHost.get(ValueLayout.JAVA_LONG, 8);
        CudaDriver.cuMemsetD8(errorFlag, (byte) 0, 16);
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
