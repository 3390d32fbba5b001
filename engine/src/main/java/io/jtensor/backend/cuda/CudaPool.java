package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.backend.ConvParams;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Max and average pooling (kernels/cu/pool.cu); max-pool backward is a scatter-add at the recorded indices. */
final class CudaPool {
    private static final String[] MAX = KernelCodes.names("pool_max2d_");
    private static final String[] AVG = KernelCodes.names("pool_avg2d_");
    private static final String[] AVG_BACK = KernelCodes.names("pool_avg2dback_");
    private static final String[] SCATTER_ADD = KernelCodes.names("index_scatteradd_");
    static final int GEOM_BYTES = 152;

    private CudaPool() {}

    /** Fills the PoolGeom struct (kernels/cu/pool.cu). */
    private static void pack(MemorySegment s, long[] nchw, long oh, long ow, int kH, int kW, ConvParams p, long[] xs, boolean countIncludePad) {
        for (int i = 0; i < 4; i++) s.set(ValueLayout.JAVA_LONG, 8L * i, nchw[i]);
        s.set(ValueLayout.JAVA_LONG, 32, oh);
        s.set(ValueLayout.JAVA_LONG, 40, ow);
        int[] ints = {kH, kW, p.strideH(), p.strideW(), p.padH(), p.padW(), p.dilationH(), p.dilationW()};
        for (int i = 0; i < 8; i++) s.set(ValueLayout.JAVA_INT, 48 + 4L * i, ints[i]);
        for (int i = 0; i < 4; i++) s.set(ValueLayout.JAVA_LONG, 80 + 8L * i, xs[i]);
        s.set(ValueLayout.JAVA_INT, 144, countIncludePad ? 1 : 0);
    }

    private static void require4d(String op, DevArray a) {
        if (a.rank() != 4) throw new IllegalArgumentException(op + ": expected [N,C,H,W], got rank " + a.rank());
        if (!a.dtype().isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + a.dtype());
    }

    static void maxPool2d(CudaDevice dev, DevArray x, int kH, int kW, ConvParams p, DevArray out, DevArray indices) {
        require4d("maxPool2d", x);
        if (!out.isContiguous() || !indices.isContiguous() || out.dtype() != x.dtype() || indices.dtype() != DType.I64) {
            try (DevArray.Temp to = new DevArray.Temp(dev, x.dtype(), out.shape()); DevArray.Temp ti = new DevArray.Temp(dev, DType.I64, out.shape())) {
                maxPool2d(dev, x, kH, kW, p, to.array, ti.array);
                CudaElementwise.copy(dev, to.array, out);
                CudaElementwise.copy(dev, ti.array, indices);
            }
            return;
        }
        long total = out.numel();
        if (total == 0) return;
        long stream = dev.enter();
        KernelArgs a = KernelArgs.start();
        pack(a.struct(GEOM_BYTES), x.shape(), out.shape()[2], out.shape()[3], kH, kW, p, x.strides(), false);
        a.ptr(x.address()).ptr(out.address()).ptr(indices.address())
                .launch(dev.gpu.function(MAX[x.dtype().ordinal()]), dev.grid(total, 256), 256, stream);
    }

    /** gradIn = 0, then gradIn[n, c, indices] += gradOut. */
    static void maxPool2dBackward(CudaDevice dev, DevArray gradOut, DevArray indices, DevArray gradIn) {
        require4d("maxPool2dBackward", gradIn);
        long[] gs = gradIn.strides();
        long H = gradIn.shape()[2], W = gradIn.shape()[3];
        boolean planeContiguous = (W == 1 || gs[3] == 1) && (H == 1 || gs[2] == W);
        if (gradOut.dtype() != gradIn.dtype() || indices.dtype() != DType.I64) {
            throw new IllegalArgumentException("maxPool2dBackward: expected gradOut in " + gradIn.dtype() + " and I64 indices, got "
                    + gradOut.dtype() + " and " + indices.dtype());
        }
        if (!planeContiguous) {
            try (DevArray.Temp t = new DevArray.Temp(dev, gradIn.dtype(), gradIn.shape())) {
                maxPool2dBackward(dev, gradOut, indices, t.array);
                CudaElementwise.copy(dev, t.array, gradIn);
            }
            return;
        }
        CudaElementwise.fill(dev, gradIn, 0);
        // Walk gradOut's [N, C, OH, OW]; the target of each element is gradIn[n, c] + index (h*W + w) in its plane.
        long[] targetStrides = {gs[0], gs[1], 0, 0};
        Geometry g = Geometry.of("maxPool2dBackward", gradOut.shape(), gradOut.strides(), indices.strides(), targetStrides);
        if (g.numel == 0) return;
        dev.launchChecked("maxPool2dBackward", (flag, stream) -> KernelArgs.start().geom(g).ptr(gradOut.address()).ptr(indices.address())
                        .ptr(gradIn.address()).i64(1).i64(H * W).ptr(flag)
                        .launch(dev.gpu.function(SCATTER_ADD[gradIn.dtype().ordinal()]), dev.grid(g.numel, 256), 256, stream),
                (code, value) -> code != KernelCodes.E_INDEX_OUT_OF_RANGE ? null : new IndexOutOfBoundsException(
                        "maxPool2dBackward: index " + value + " is outside the " + H + "x" + W + " input plane"));
    }

    static void avgPool2d(CudaDevice dev, DevArray x, int kH, int kW, ConvParams p, boolean countIncludePad, DevArray out) {
        require4d("avgPool2d", x);
        if (!out.isContiguous() || out.dtype() != x.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, x.dtype(), out.shape())) {
                avgPool2d(dev, x, kH, kW, p, countIncludePad, t.array);
                CudaElementwise.copy(dev, t.array, out);
            }
            return;
        }
        long total = out.numel();
        if (total == 0) return;
        long stream = dev.enter();
        KernelArgs a = KernelArgs.start();
        pack(a.struct(GEOM_BYTES), x.shape(), out.shape()[2], out.shape()[3], kH, kW, p, x.strides(), countIncludePad);
        a.ptr(x.address()).ptr(out.address()).launch(dev.gpu.function(AVG[x.dtype().ordinal()]), dev.grid(total, 256), 256, stream);
    }

    static void avgPool2dBackward(CudaDevice dev, DevArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, DevArray gradIn) {
        require4d("avgPool2dBackward", gradIn);
        if (!gradIn.isContiguous() || gradOut.dtype() != gradIn.dtype()) {
            try (DevArray.Temp t = new DevArray.Temp(dev, gradOut.dtype(), gradIn.shape())) {
                avgPool2dBackward(dev, gradOut, kH, kW, p, countIncludePad, t.array);
                CudaElementwise.copy(dev, t.array, gradIn);
            }
            return;
        }
        long total = gradIn.numel();
        if (total == 0) return;
        long stream = dev.enter();
        KernelArgs a = KernelArgs.start();
        pack(a.struct(GEOM_BYTES), gradIn.shape(), gradOut.shape()[2], gradOut.shape()[3], kH, kW, p, gradOut.strides(), countIncludePad);
        a.ptr(gradOut.address()).ptr(gradIn.address())
                .launch(dev.gpu.function(AVG_BACK[gradIn.dtype().ordinal()]), dev.grid(total, 256), 256, stream);
    }
}
