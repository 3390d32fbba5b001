package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.Shapes;

/**
 * What a kernel needs of an array: its element address, dtype, shape and strides (in elements). Backend methods turn
 * their NDArrays into these; internal temporaries (im2col buffers, casts) are made directly as {@link Temp}s.
 */
record DevArray(long address, DType dtype, long[] shape, long[] strides) {
    static DevArray of(NDArray a) { return new DevArray(a.dataAddress(), a.dtype(), a.shape(), a.strides()); }

    static DevArray contiguous(long address, DType dtype, long... shape) {
        return new DevArray(address, dtype, shape, Shapes.contiguousStrides(shape));
    }

    long numel() { return Shapes.numel(shape); }
    int rank() { return shape.length; }
    long bytes() { return numel() * dtype.byteSize(); }

    boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /** The same memory seen with another shape and strides. */
    DevArray view(long[] newShape, long[] newStrides) { return new DevArray(address, dtype, newShape, newStrides); }

    /** Elements offset further into the same memory. */
    DevArray offset(long elements, long[] newShape, long[] newStrides) {
        return new DevArray(address + elements * dtype.byteSize(), dtype, newShape, newStrides);
    }

    /** A contiguous temporary array on a device, released (stream-ordered) on close. */
    static final class Temp implements AutoCloseable {
        final DevArray array;
        private final CudaDevice.DeviceBuffer buffer;

        Temp(CudaDevice dev, DType dtype, long... shape) {
            this.buffer = dev.temp(Math.max(Shapes.numel(shape) * dtype.byteSize(), 1));
            this.array = contiguous(buffer.address, dtype, shape);
        }

        @Override public void close() { buffer.close(); }
    }
}
