package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.backend.BackendContract;
import java.util.Arrays;

/**
 * Gather, scatter-add and index-select (kernels/cu/index.cu). As on the CPU, an index outside [0, size) fails the
 * call itself with an {@link IndexOutOfBoundsException} naming the op, the value and the size: the kernel skips bad
 * elements and records the first one in an error flag that {@link CudaDevice#launchChecked} reads right after it.
 */
final class CudaIndex {
    private static final String[] GATHER = KernelCodes.names("index_gather_");
    private static final String[] SCATTER_ADD = KernelCodes.names("index_scatteradd_");

    private CudaIndex() {}

    private static DevArray requireI64(String op, DevArray index) {
        if (index.dtype() != DType.I64) throw new IllegalArgumentException(op + ": expected an I64 index, got " + index.dtype());
        return index;
    }

    /** out = x gathered along dim at index (out has index's shape). */
    static void gather(CudaDevice dev, String op, DevArray x, int dim, DevArray index, DevArray out) {
        requireI64(op, index);
        if (out.dtype() != x.dtype()) throw new IllegalArgumentException(op + ": out is " + out.dtype() + " but x is " + x.dtype());
        // A scalar x is one element along its one dim 0: every index must be 0, as on the CPU.
        boolean scalar = x.rank() == 0;
        long[] xs = scalar ? new long[out.rank()] : x.strides().clone();
        long dimStride = scalar ? 0 : xs[dim];
        long size = scalar ? 1 : x.shape()[dim];
        if (!scalar) xs[dim] = 0;
        Geometry g = Geometry.of(op, out.shape(), out.strides(), index.strides(), xs);
        if (g.numel == 0) return;
        dev.launchChecked(op, (flag, stream) -> KernelArgs.start().geom(g).ptr(x.address()).ptr(index.address()).ptr(out.address())
                        .i64(dimStride).i64(size).ptr(flag)
                        .launch(dev.gpu.function(GATHER[x.dtype().ordinal()]), dev.grid(g.numel, 256), 256, stream),
                indexFailure(op, dim, size));
    }

    /** The CPU backend's exception for a bad index of dim (of size size), from the flag's E_INDEX_OUT_OF_RANGE. */
    static CudaDevice.KernelFailure indexFailure(String op, int dim, long size) {
        return (code, value) -> code == KernelCodes.E_INDEX_OUT_OF_RANGE ? BackendContract.indexOutOfBounds(op, value, dim, size) : null;
    }

    /** out[index[i] along dim] += src[i]; index and src share a shape. */
    static void scatterAdd(CudaDevice dev, DevArray out, int dim, DevArray index, DevArray src) {
        requireI64("scatterAdd", index);
        if (!Arrays.equals(index.shape(), src.shape())) {
            throw new IllegalArgumentException("scatterAdd: index " + Arrays.toString(index.shape()) + " and src "
                    + Arrays.toString(src.shape()) + " must have one shape");
        }
        if (src.dtype() != out.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, out.dtype(), src.shape())) {
                CudaElementwise.copy(dev, src, t.array);
                scatterAdd(dev, out, dim, index, t.array);
            }
            return;
        }
        long[] os = out.rank() == 0 ? new long[0] : out.strides().clone();
        long dimStride = out.rank() == 0 ? 0 : os[dim];
        long dimSize = out.rank() == 0 ? 1 : out.shape()[dim];
        if (out.rank() > 0) os[dim] = 0;
        Geometry g = Geometry.of("scatterAdd", src.shape(), src.strides(), index.strides(), os);
        if (g.numel == 0) return;
        dev.launchChecked("scatterAdd", (flag, stream) -> KernelArgs.start().geom(g).ptr(src.address()).ptr(index.address()).ptr(out.address())
                        .i64(dimStride).i64(dimSize).ptr(flag)
                        .launch(dev.gpu.function(SCATTER_ADD[out.dtype().ordinal()]), dev.grid(g.numel, 256), 256, stream),
                indexFailure("scatterAdd", dim, dimSize));
    }

    /** out = x.indexSelect(dim, index): a gather whose index is broadcast along every dim but dim. */
    static void indexSelect(CudaDevice dev, DevArray x, int dim, DevArray index, DevArray out) {
        requireI64("indexSelect", index);
        long[] is = new long[out.rank()];
        if (out.rank() > 0) is[dim] = index.rank() == 0 ? 0 : index.strides()[0];
        gather(dev, "indexSelect", x, dim, index.view(out.shape(), is), out);
    }
}
