package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.FLOATS;
import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.assertRelNorm;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import org.junit.jupiter.api.Test;

/** The CUDA layer norm (every kernel variant) and its gradient against the CPU backend. */
class CudaLayerNormGpuTest {
    /**
     * {rows, n}: odd n (the "any" kernel), a warp per row with 1, 2 and 4 packs, a block per row, rows too long for
     * registers (the "any" kernel again), and more rows than one block of warps holds.
     */
    private static final long[][] SHAPES = {{5, 37}, {33, 64}, {9, 256}, {3, 1000}, {4, 4096}, {2, 40000}, {20, 16}};

    @Test
    void forwardAndBackwardMatchCpu() {
        Device g = gpu();
        long seed = 9100;
        for (DType t : FLOATS) {
            for (long[] shape : SHAPES) {
                int n = (int) shape[1];
                for (boolean affine : new boolean[] {false, true}) {
                    try (var scope = MemoryScope.open()) {
                        String what = "layerNorm " + t + " " + java.util.Arrays.toString(shape) + (affine ? " affine" : "");
                        // a mean far from zero checks that the variance does not cancel
                        NDArray x = GpuCheck.random(seed++, t, 2, shape).add(3.0);
                        NDArray w = affine ? GpuCheck.random(seed++, t, 1, n) : null, b = affine ? GpuCheck.random(seed++, t, 1, n) : null;
                        NDArray[] ref = x.layerNorm(n, w, b, 1e-5);
                        NDArray[] got = x.to(g).layerNorm(n, affine ? w.to(g) : null, affine ? b.to(g) : null, 1e-5);
                        assertEquals(g, got[0].device(), what);
                        assertClose(what, ref[0], got[0].to(Device.cpu()), GpuCheck.rtol(t) * 2, GpuCheck.atol(t) * 4);
                        assertRelNorm(what + " mean", ref[1], got[1].to(Device.cpu()), 1e-6);
                        assertRelNorm(what + " rstd", ref[2], got[2].to(Device.cpu()), t == DType.F64 ? 1e-12 : 1e-5);

                        NDArray dy = GpuCheck.random(seed++, t, 1, shape);
                        NDArray[] gr = NDArray.layerNormBackward(dy, x, ref[1], ref[2], w, n, true, affine, affine);
                        NDArray[] gg = NDArray.layerNormBackward(dy.to(g), x.to(g), ref[1].to(g), ref[2].to(g), affine ? w.to(g) : null,
                                n, true, affine, affine);
                        assertRelNorm(what + " dx", gr[0], gg[0].to(Device.cpu()), GpuCheck.normTol(t) * 4);
                        if (affine) {
                            assertRelNorm(what + " dw", gr[1], gg[1].to(Device.cpu()), GpuCheck.normTol(t) * 4);
                            assertRelNorm(what + " db", gr[2], gg[2].to(Device.cpu()), GpuCheck.normTol(t) * 4);
                        } else {
                            assertNull(gg[1], what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void misalignedRowsTakeTheGeneralKernel() {
        Device g = gpu();
        try (var scope = MemoryScope.open()) {
            // a view starting one element in: contiguous, but not 16-byte aligned
            NDArray base = GpuCheck.random(9200, DType.F32, 1, 4 * 64 + 1);
            NDArray x = base.narrow(0, 1, 4 * 64).reshape(4, 64);
            NDArray xg = base.to(g).narrow(0, 1, 4 * 64).reshape(4, 64);
            NDArray[] ref = x.layerNorm(64, null, null, 1e-5), got = xg.layerNorm(64, null, null, 1e-5);
            assertClose("misaligned", ref[0], got[0].to(Device.cpu()), 2e-5, 4e-6);
        }
    }

    @Test
    void emptyInputGivesZeroParameterGradients() {
        Device g = gpu();
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.zeros(DType.F32, g, 0, 8), w = NDArray.ones(DType.F32, g, 8);
            NDArray[] f = x.layerNorm(8, w, null, 1e-5);
            assertArrayEquals(new long[] {0, 8}, f[0].shape());
            NDArray[] gr = NDArray.layerNormBackward(x, x, f[1], f[2], w, 8, true, true, true);
            assertArrayEquals(new double[8], gr[1].to(Device.cpu()).toDoubleArray());
        }
    }
}
