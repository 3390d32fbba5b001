package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

class InitTest {
    private static Tensor empty(long... shape) { return Tensor.zeros(DType.F32, Device.cpu(), shape); }

    private static double[] meanStdMaxAbs(Tensor t) {
        double[] v = t.toDoubleArray();
        double mean = 0, sq = 0, max = 0;
        for (double x : v) mean += x / v.length;
        for (double x : v) {
            sq += (x - mean) * (x - mean) / v.length;
            max = Math.max(max, Math.abs(x));
        }
        return new double[] {mean, Math.sqrt(sq), max};
    }

    @Test void gainsAndFansFollowPyTorch() {
        assertEquals(1, Init.gain("linear", 0));
        assertEquals(5.0 / 3, Init.gain("tanh", 0));
        assertEquals(Math.sqrt(2), Init.gain("relu", 0));
        assertEquals(Math.sqrt(2.0 / (1 + 5)), Init.gain("leaky_relu", Math.sqrt(5)), 1e-15);
        assertArrayEquals(new long[] {3 * 25, 8 * 25}, Init.fans(new long[] {8, 3, 5, 5}));
        assertThrows(IllegalArgumentException.class, () -> Init.fans(new long[] {4}));
        assertThrows(IllegalArgumentException.class, () -> Init.gain("swish", 0));
    }

    @Test void xavierUniformBoundAndXavierNormalSpread() {
        Tensor w = Init.xavierUniform(empty(200, 100), 1, new Generator(1));
        double bound = Math.sqrt(6.0 / 300);
        double[] s = meanStdMaxAbs(w);
        assertTrue(s[2] <= bound && s[2] > 0.99 * bound, "max " + s[2] + " vs bound " + bound);
        assertEquals(bound / Math.sqrt(3), s[1], 0.02 * bound); // std of U(-b, b) is b / sqrt(3)
        Tensor n = Init.xavierNormal(empty(200, 100), 2, new Generator(2));
        assertEquals(2 * Math.sqrt(2.0 / 300), meanStdMaxAbs(n)[1], 0.02 * 2 * Math.sqrt(2.0 / 300));
    }

    @Test void kaimingScalesWithTheChosenFan() {
        Tensor w = Init.kaimingNormal(empty(64, 32, 3, 3), 0, Init.FanMode.FAN_IN, "relu", new Generator(3));
        double expected = Math.sqrt(2) / Math.sqrt(32 * 9);
        assertEquals(expected, meanStdMaxAbs(w)[1], 0.03 * expected);
        Tensor u = Init.kaimingUniform(empty(64, 32, 3, 3), 0, Init.FanMode.FAN_OUT, "relu", new Generator(4));
        double bound = Math.sqrt(3) * Math.sqrt(2) / Math.sqrt(64 * 9);
        double[] s = meanStdMaxAbs(u);
        assertTrue(s[2] <= bound && s[2] > 0.98 * bound, "max " + s[2] + " vs bound " + bound);
    }

    @Test void orthogonalGivesOrthonormalRowsOrColumns() {
        for (long[] shape : new long[][] {{5, 3}, {3, 5}, {4, 2, 2}}) {
            Tensor w = Init.orthogonal(empty(shape), 1.5, new Generator(5));
            int rows = (int) shape[0], cols = (int) (w.numel() / rows);
            double[] v = w.toDoubleArray();
            boolean tall = rows >= cols;
            int n = tall ? cols : rows, m = tall ? rows : cols;
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    double dot = 0;
                    for (int i = 0; i < m; i++) {
                        dot += tall ? v[i * cols + a] * v[i * cols + b] : v[a * cols + i] * v[b * cols + i];
                    }
                    assertEquals(a == b ? 2.25 : 0, dot, 1e-5, "Q^T Q for " + java.util.Arrays.toString(shape));
                }
            }
        }
    }

    @Test void uniformNormalConstantAndSeeds() {
        Tensor a = Init.uniform(empty(1000), -0.5, 2, new Generator(9));
        double[] v = a.toDoubleArray();
        for (double x : v) assertTrue(x >= -0.5 && x < 2);
        assertEquals(0.75, meanStdMaxAbs(a)[0], 0.08);
        Tensor b = Init.uniform(empty(1000), -0.5, 2, new Generator(9));
        NnTesting.assertClose(v, b.toDoubleArray(), 0, "same seed, same values");
        Tensor n = Init.normal(empty(4000), 3, 0.5, new Generator(1));
        assertEquals(3, meanStdMaxAbs(n)[0], 0.03);
        assertEquals(0.5, meanStdMaxAbs(n)[1], 0.02);
        NnTesting.assertClose(new double[] {1, 1, 1}, Init.ones(empty(3)), 0, "ones");
        NnTesting.assertClose(new double[] {0, 0}, Init.zeros(Tensor.ones(2)), 0, "zeros");
        NnTesting.assertClose(new double[] {7, 7}, Init.constant(empty(2), 7), 0, "constant");
    }
}
