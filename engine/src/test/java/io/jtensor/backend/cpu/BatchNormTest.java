package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ComposedBatchNorm;
import io.jtensor.memory.MemoryScope;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The CPU's fused batch norm (training mode), and the composed one other backends use, against the definition
 * written out in double loops here: per channel c of x [N, C, S], mean and biased variance over N and S,
 * y = (x - mean) / sqrt(var + eps) * w + b, and the gradients of that formula.
 */
class BatchNormTest {
    private static final double EPS = 1e-5;

    private static double[] random(long seed, int count, double shift) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = shift + r.nextDouble(-2, 2);
        return v;
    }

    /** {y, mean, var, gradX, gradW, gradB} by the definition, for x [n, c, s] and upstream gradient g. */
    private static double[][] reference(double[] x, double[] g, int n, int c, int s, double[] w, double[] b) {
        double[] y = new double[x.length], mean = new double[c], var = new double[c];
        double[] gx = new double[x.length], gw = new double[c], gb = new double[c];
        int m = n * s;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < s; k++) sum += x[(i * c + ch) * s + k];
            double mu = sum / m, q = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < s; k++) q += Math.pow(x[(i * c + ch) * s + k] - mu, 2);
            double v = q / m, rs = 1 / Math.sqrt(v + EPS), wc = w == null ? 1 : w[ch];
            mean[ch] = mu;
            var[ch] = v;
            double sg = 0, sgx = 0;
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < s; k++) {
                    int at = (i * c + ch) * s + k;
                    double xhat = (x[at] - mu) * rs;
                    y[at] = xhat * wc + (b == null ? 0 : b[ch]);
                    sg += g[at];
                    sgx += g[at] * xhat;
                }
            }
            gb[ch] = sg;
            gw[ch] = sgx;
            // d/dx of the normalised output: w rs (g - mean(g) - xhat mean(g xhat))
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < s; k++) {
                    int at = (i * c + ch) * s + k;
                    double xhat = (x[at] - mu) * rs;
                    gx[at] = wc * rs * (g[at] - sg / m - xhat * sgx / m);
                }
            }
        }
        return new double[][] {y, mean, var, gx, gw, gb};
    }

    private static void assertAllClose(String what, double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), what + " at " + i);
        }
    }

    /** Shapes [n, c, spatial...]: runs shorter than a vector, not a multiple of one, 2-D input (S = 1), long runs. */
    private static final long[][] SHAPES = {{4, 3, 5}, {3, 5, 7, 9}, {16, 6}, {2, 3, 40, 41}};

    @Test
    void fusedAndComposedMatchTheDefinition() {
        for (boolean composed : new boolean[] {false, true}) {
            for (DType t : new DType[] {DType.F32, DType.F64, DType.F16}) {
                double tol = t == DType.F64 ? 1e-10 : t == DType.F32 ? 5e-5 : 2e-2;
                for (long[] shape : SHAPES) {
                    for (boolean affine : new boolean[] {false, true}) {
                        check(composed, t, shape, affine, tol);
                    }
                }
            }
        }
    }

    private static void check(boolean composed, DType t, long[] shape, boolean affine, double tol) {
        int n = (int) shape[0], c = (int) shape[1], count = 1;
        for (long d : shape) count *= (int) d;
        int s = count / (n * c);
        String what = (composed ? "composed " : "fused ") + t + " " + java.util.Arrays.toString(shape) + (affine ? " affine" : "");
        try (var scope = MemoryScope.open()) {
            // a shifted mean checks that the variance is computed from centred values
            NDArray xa = NDArray.of(random(count, count, t == DType.F16 ? 3 : 50), shape).to(t);
            NDArray ga = NDArray.of(random(count + 1, count, 0), shape).to(t);
            double[] x = xa.toDoubleArray(), g = ga.toDoubleArray();
            NDArray wa = affine ? NDArray.of(random(c, c, 1), c).to(t) : null, ba = affine ? NDArray.of(random(c + 1, c, 0), c).to(t) : null;
            double[][] ref = reference(x, g, n, c, s, affine ? wa.toDoubleArray() : null, affine ? ba.toDoubleArray() : null);
            NDArray[] f;
            NDArray[] grads;
            if (composed) {
                DType st = t == DType.F64 ? DType.F64 : DType.F32;
                f = new NDArray[] {NDArray.empty(t, Device.cpu(), shape), NDArray.empty(st, Device.cpu(), c), NDArray.empty(st, Device.cpu(), c)};
                ComposedBatchNorm.forward(xa, wa, ba, EPS, f[0], f[1], f[2]);
                grads = new NDArray[] {NDArray.empty(t, Device.cpu(), shape), NDArray.empty(t, Device.cpu(), c), NDArray.empty(t, Device.cpu(), c)};
                ComposedBatchNorm.backward(ga, xa, f[1], f[2], wa, EPS, grads[0], grads[1], grads[2]);
            } else {
                f = xa.batchNorm(wa, ba, EPS);
                grads = NDArray.batchNormBackward(ga, xa, f[1], f[2], wa, EPS, true, true, true);
            }
            assertAllClose(what + " out", ref[0], f[0].toDoubleArray(), tol);
            assertAllClose(what + " mean", ref[1], f[1].toDoubleArray(), tol);
            assertAllClose(what + " var", ref[2], f[2].toDoubleArray(), tol * 10);
            assertAllClose(what + " gradX", ref[3], grads[0].toDoubleArray(), tol * 10);
            assertAllClose(what + " gradWeight", ref[4], grads[1].toDoubleArray(), tol * 10);
            assertAllClose(what + " gradBias", ref[5], grads[2].toDoubleArray(), tol * 10);
        }
    }

    @Test
    void nonContiguousInputAndOnlyTheNeededGradients() {
        try (var scope = MemoryScope.open()) {
            // x given as the transpose of a [5, 4, 3] array: the op copies it to contiguous first
            NDArray base = NDArray.of(random(7, 60, 2), 5, 4, 3);
            NDArray xa = base.permute(2, 1, 0);
            double[] x = xa.toDoubleArray(), g = random(8, 60, 0);
            NDArray ga = NDArray.of(g, 3, 4, 5);
            double[][] ref = reference(x, g, 3, 4, 5, null, null);
            NDArray[] f = xa.batchNorm(null, null, EPS);
            assertAllClose("out", ref[0], f[0].toDoubleArray(), 5e-5);
            NDArray[] grads = NDArray.batchNormBackward(ga, xa, f[1], f[2], null, EPS, true, false, false);
            assertAllClose("gradX", ref[3], grads[0].toDoubleArray(), 5e-4);
            assertNull(grads[1]);
            assertNull(grads[2]);
        }
    }

    @Test
    void anEmptyBatchHasNaNStatisticsAndZeroParameterGradients() {
        for (boolean composed : new boolean[] {false, true}) {
            try (var scope = MemoryScope.open()) {
                NDArray x = NDArray.zeros(DType.F32, Device.cpu(), 0, 3, 4), w = NDArray.ones(DType.F32, Device.cpu(), 3);
                NDArray out = NDArray.empty(DType.F32, Device.cpu(), 0, 3, 4);
                NDArray mean = NDArray.full(7, DType.F32, Device.cpu(), 3), var = NDArray.full(7, DType.F32, Device.cpu(), 3);
                if (composed) ComposedBatchNorm.forward(x, w, null, EPS, out, mean, var);
                else x.backend().batchNorm(x, w, null, EPS, out, mean, var);
                for (double v : mean.toDoubleArray()) assertTrue(Double.isNaN(v), (composed ? "composed" : "fused") + " mean of nothing");
                for (double v : var.toDoubleArray()) assertTrue(Double.isNaN(v), (composed ? "composed" : "fused") + " var of nothing");
                NDArray gw = NDArray.full(7, DType.F32, Device.cpu(), 3), gb = NDArray.full(7, DType.F32, Device.cpu(), 3);
                if (composed) ComposedBatchNorm.backward(x, x, mean, var, w, EPS, null, gw, gb);
                else x.backend().batchNormBackward(x, x, mean, var, w, EPS, null, gw, gb);
                assertAllClose((composed ? "composed" : "fused") + " gradWeight", new double[3], gw.toDoubleArray(), 0);
                assertAllClose((composed ? "composed" : "fused") + " gradBias", new double[3], gb.toDoubleArray(), 0);
            }
        }
    }

    @Test
    void badInputNamesTheOpAndWhatWasExpected() {
        try (var scope = MemoryScope.open()) {
            var flat = assertThrows(IllegalArgumentException.class, () -> NDArray.of(new double[] {1, 2, 3}, 3).batchNorm(null, null, EPS));
            assertTrue(flat.getMessage().contains("batchNorm") && flat.getMessage().contains("[N, C, ...]"), flat.getMessage());
            NDArray x = NDArray.of(random(1, 24, 0), 2, 3, 4);
            var w = assertThrows(IllegalArgumentException.class, () -> x.batchNorm(NDArray.of(new double[] {1, 2}, 2), null, EPS));
            assertTrue(w.getMessage().contains("weight of 3 elements") && w.getMessage().contains("[2]"), w.getMessage());
            NDArray[] f = x.batchNorm(null, null, EPS);
            var g = assertThrows(IllegalArgumentException.class,
                    () -> NDArray.batchNormBackward(NDArray.of(random(2, 6, 0), 2, 3), x, f[1], f[2], null, EPS, true, true, true));
            assertTrue(g.getMessage().contains("batchNormBackward") && g.getMessage().contains("gradOut"), g.getMessage());
        }
    }
}
