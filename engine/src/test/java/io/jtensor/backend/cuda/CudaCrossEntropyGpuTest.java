package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import org.junit.jupiter.api.Test;

/** The CUDA cross-entropy, composed or fused (CudaCrossEntropy), against the CPU's fused kernel. */
class CudaCrossEntropyGpuTest {
    private static final long IGNORE = -100;

    /**
     * {N, C, d1...}: rows shorter and longer than a warp, a vocabulary-sized row (the fused rows kernel: a warp per
     * row), spatial positions (the fused column kernel, classes inner apart).
     */
    private static final long[][] SHAPES = {{37, 10}, {9, 1000}, {3, 50257}, {4, 7, 9, 11}, {2, 21, 64}};

    @Test
    void everyVariantMatchesTheCpu() {
        Device g = gpu();
        CudaCrossEntropy.Variant def = CudaCrossEntropy.variant();
        long seed = 9700;
        try {
            for (CudaCrossEntropy.Variant v : CudaCrossEntropy.Variant.values()) {
                CudaCrossEntropy.setVariant(v);
                for (DType t : GpuCheck.FLOATS) {
                    for (long[] shape : SHAPES) {
                        for (double e : new double[] {0, 0.1}) {
                            try (var scope = MemoryScope.open()) {
                                String what = v + " crossEntropy " + t + " " + java.util.Arrays.toString(shape) + " smoothing " + e;
                                long[] pos = positions(shape);
                                NDArray x = GpuCheck.random(seed++, t, 3, shape);
                                NDArray tg = targets(seed++, pos, shape[1]);
                                NDArray gl = GpuCheck.random(seed++, t, 1, pos);
                                NDArray[] ref = x.crossEntropyPerPosition(tg, IGNORE, e);
                                NDArray[] got = x.to(g).crossEntropyPerPosition(tg.to(g), IGNORE, e);
                                assertClose(what + " loss", ref[0], got[0].to(Device.cpu()), GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 16);
                                assertClose(what + " lse", ref[1], got[1].to(Device.cpu()), 1e-5, 1e-5);
                                NDArray gr = NDArray.crossEntropyBackward(x, tg, ref[1], gl, IGNORE, e);
                                NDArray gg = NDArray.crossEntropyBackward(x.to(g), tg.to(g), ref[1].to(g), gl.to(g), IGNORE, e);
                                GpuCheck.assertRelNorm(what + " gradient", gr, gg.to(Device.cpu()), GpuCheck.normTol(t) * 4);
                            }
                        }
                    }
                }
                nanRowsAndBadTargets(g, v);
            }
        } finally {
            CudaCrossEntropy.setVariant(def);
        }
    }

    /** Rows with a NaN (its lane sees only -inf otherwise), a +inf, all -inf, a normal one; then a bad target. */
    private static void nanRowsAndBadTargets(Device g, CudaCrossEntropy.Variant v) {
        try (var scope = MemoryScope.open()) {
            int c = 100;
            double[] x = new double[4 * c];
            java.util.Arrays.fill(x, Double.NEGATIVE_INFINITY);
            x[1] = Double.NaN;
            x[c - 1] = 5;
            x[c + 3] = Double.POSITIVE_INFINITY;
            x[c + 4] = 1;
            x[3 * c] = 1;
            x[3 * c + 1] = 2;
            NDArray logits = NDArray.of(x, 4, c);
            NDArray tg = NDArray.of(new long[] {c - 1, 4, 0, 1}, 4);
            NDArray ref = logits.crossEntropyPerPosition(tg, IGNORE, 0)[0];
            NDArray got = logits.to(g).crossEntropyPerPosition(tg.to(g), IGNORE, 0)[0];
            assertClose(v + " NaN/inf rows", ref, got.to(Device.cpu()), 1e-6, 1e-6);
            NDArray bad = NDArray.of(new long[] {0, IGNORE, c, 1}, 4);
            IndexOutOfBoundsException cpu = assertThrows(IndexOutOfBoundsException.class, () -> logits.crossEntropyPerPosition(bad, IGNORE, 0));
            IndexOutOfBoundsException gpu = assertThrows(IndexOutOfBoundsException.class,
                    () -> logits.to(g).crossEntropyPerPosition(bad.to(g), IGNORE, 0));
            assertEquals(cpu.getMessage(), gpu.getMessage(), v + ": the same error as the CPU");
        }
    }

    private static long[] positions(long[] shape) {
        long[] p = new long[shape.length - 1];
        p[0] = shape[0];
        System.arraycopy(shape, 2, p, 1, shape.length - 2);
        return p;
    }

    /** Class indices in [0, classes), every seventh ignored. */
    private static NDArray targets(long seed, long[] shape, long classes) {
        java.util.Random r = new java.util.Random(seed);
        long n = 1;
        for (long s : shape) n *= s;
        long[] t = new long[(int) n];
        for (int i = 0; i < n; i++) t[i] = i % 7 == 2 ? IGNORE : (long) r.nextInt((int) classes);
        return NDArray.of(t, shape);
    }
}
