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

/** The CUDA batch norm (composed of the backend's reductions and elementwise kernels) against the CPU's fused one. */
class CudaBatchNormGpuTest {
    /** [N, C, spatial...]: feature maps, 2-D input, and long runs. */
    private static final long[][] SHAPES = {{8, 16, 7, 7}, {64, 120}, {3, 5, 33, 31}};

    @Test
    void forwardAndBackwardMatchCpu() {
        Device g = gpu();
        long seed = 9300;
        for (DType t : FLOATS) {
            for (long[] shape : SHAPES) {
                int c = (int) shape[1];
                for (boolean affine : new boolean[] {false, true}) {
                    try (var scope = MemoryScope.open()) {
                        String what = "batchNorm " + t + " " + java.util.Arrays.toString(shape) + (affine ? " affine" : "");
                        NDArray x = GpuCheck.random(seed++, t, 2, shape).add(3.0);
                        NDArray w = affine ? GpuCheck.random(seed++, t, 1, c) : null, b = affine ? GpuCheck.random(seed++, t, 1, c) : null;
                        NDArray[] ref = x.batchNorm(w, b, 1e-5);
                        NDArray[] got = x.to(g).batchNorm(affine ? w.to(g) : null, affine ? b.to(g) : null, 1e-5);
                        assertEquals(g, got[0].device(), what);
                        assertClose(what, ref[0], got[0].to(Device.cpu()), GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 8);
                        assertRelNorm(what + " mean", ref[1], got[1].to(Device.cpu()), 1e-6);
                        assertRelNorm(what + " var", ref[2], got[2].to(Device.cpu()), t == DType.F64 ? 1e-12 : 1e-5);

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
