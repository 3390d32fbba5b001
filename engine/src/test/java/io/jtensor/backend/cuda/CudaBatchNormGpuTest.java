package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.FLOATS;
import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.assertRelNorm;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import org.junit.jupiter.api.Test;

/** The CUDA batch norm, composed of the backend's reductions and elementwise kernels or fused, against the CPU's. */
class CudaBatchNormGpuTest {
    /**
     * [N, C, spatial...]: feature maps, 2-D input, long runs, channels of 180600 elements (the fused kernels split
     * each over several blocks, a block's range ending mid-row), a ResNet-sized activation, a few channels of a
     * 2-D input (a run of 1 per row: every step wraps), and an empty batch.
     */
    private static final long[][] SHAPES = {{8, 16, 7, 7}, {64, 120}, {3, 5, 33, 31}, {2, 3, 300, 301}, {128, 64, 8, 8}, {1000, 4}, {0, 6, 3}};

    @Test
    void forwardAndBackwardMatchCpu() {
        CudaBatchNorm.Variant def = CudaBatchNorm.variant();
        try {
            for (CudaBatchNorm.Variant v : CudaBatchNorm.Variant.values()) {
                CudaBatchNorm.setVariant(v);
                forwardAndBackwardMatchCpuUnder(v);
            }
        } finally {
            CudaBatchNorm.setVariant(def);
        }
    }

    private void forwardAndBackwardMatchCpuUnder(CudaBatchNorm.Variant variant) {
        Device g = gpu();
        long seed = 9300;
        for (DType t : FLOATS) {
            for (long[] shape : SHAPES) {
                int c = (int) shape[1];
                for (boolean affine : new boolean[] {false, true}) {
                    try (var scope = MemoryScope.open()) {
                        String what = variant + " batchNorm " + t + " " + java.util.Arrays.toString(shape) + (affine ? " affine" : "");
                        NDArray x = GpuCheck.random(seed++, t, 2, shape).add(3.0);
                        NDArray w = affine ? GpuCheck.random(seed++, t, 1, c) : null, b = affine ? GpuCheck.random(seed++, t, 1, c) : null;
                        NDArray[] ref = x.batchNorm(w, b, 1e-5);
                        NDArray[] got = x.to(g).batchNorm(affine ? w.to(g) : null, affine ? b.to(g) : null, 1e-5);
                        assertEquals(g, got[0].device(), what);
                        assertClose(what, ref[0], got[0].to(Device.cpu()), GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 8);
                        // element by element (an empty batch's statistics are NaN on both)
                        assertClose(what + " mean", ref[1], got[1].to(Device.cpu()), 1e-6, 1e-6);
                        assertClose(what + " var", ref[2], got[2].to(Device.cpu()), t == DType.F64 ? 1e-12 : 1e-5, 1e-6);

                        NDArray dy = GpuCheck.random(seed++, t, 1, shape);
                        NDArray[] gr = NDArray.batchNormBackward(dy, x, ref[1], ref[2], w, 1e-5, true, true, true);
                        NDArray[] gg = NDArray.batchNormBackward(dy.to(g), x.to(g), ref[1].to(g), ref[2].to(g), affine ? w.to(g) : null,
                                1e-5, true, true, true);
                        for (int i = 0; i < 3; i++) {
                            assertRelNorm(what + " gradient " + i, gr[i], gg[i].to(Device.cpu()), GpuCheck.normTol(t) * 4);
                        }
                    }
                }
            }
        }
    }
}
