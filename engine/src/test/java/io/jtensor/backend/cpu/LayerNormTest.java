package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The CPU layer norm against the composed definition, written out in double loops here. */
class LayerNormTest {
    private static double[] random(long seed, int count, double shift) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[count];
        for (int i = 0; i < count; i++) v[i] = shift + r.nextDouble(-2, 2);
        return v;
    }

    /** {y, mean, rstd} of rows of n by the definition: mean, biased variance, (x - mean) / sqrt(var + eps) * w + b. */
    private static double[][] reference(double[] x, int n, double[] w, double[] b, double eps) {
        int rows = x.length / n;
        double[] y = new double[x.length], mean = new double[rows], rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += x[r * n + i];
            double mu = s / n, q = 0;
            for (int i = 0; i < n; i++) q += (x[r * n + i] - mu) * (x[r * n + i] - mu);
            double rs = 1 / Math.sqrt(q / n + eps);
            mean[r] = mu;
            rstd[r] = rs;
            for (int i = 0; i < n; i++) y[r * n + i] = (x[r * n + i] - mu) * rs * (w == null ? 1 : w[i]) + (b == null ? 0 : b[i]);
        }
        return new double[][] {y, mean, rstd};
    }

    private static void assertAllClose(String what, double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), what + " at " + i);
        }
    }

    @Test
    void forwardMatchesDefinitionForEachDtype() {
        // row lengths: shorter than a vector, not a multiple of one, long; a shifted mean tests the two-pass variance
        int[] sizes = {3, 37, 1000};
        for (DType t : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
            double tol = t == DType.F64 ? 1e-12 : t == DType.F32 ? 2e-5 : t == DType.F16 ? 4e-3 : 2e-2;
            for (int n : sizes) {
                for (boolean affine : new boolean[] {false, true}) {
                    try (var scope = MemoryScope.open()) {
                        double[] x = random(n, 5 * n, t == DType.F32 || t == DType.F64 ? 100 : 3);
                        double[] w = affine ? random(n + 1, n, 0) : null, b = affine ? random(n + 2, n, 1) : null;
                        NDArray xa = NDArray.of(x, 5, n).to(t);
                        // the reference sees the values as rounded to t, so only the kernel's own error is measured
                        double[] xr = xa.toDoubleArray();
                        NDArray wa = affine ? NDArray.of(w, n).to(t) : null, ba = affine ? NDArray.of(b, n).to(t) : null;
                        double[][] ref = reference(xr, n, affine ? wa.toDoubleArray() : null, affine ? ba.toDoubleArray() : null, 1e-5);
                        NDArray[] got = xa.layerNorm(n, wa, ba, 1e-5);
                        String what = t + " rows of " + n + (affine ? " affine" : "");
                        assertEquals(t, got[0].dtype(), what);
                        assertEquals(t == DType.F64 ? DType.F64 : DType.F32, got[1].dtype(), what + " stats dtype");
                        assertAllClose(what + " y", ref[0], got[0].toDoubleArray(), tol);
                        assertAllClose(what + " mean", ref[1], got[1].toDoubleArray(), t == DType.F64 ? 1e-12 : 1e-6);
                        assertAllClose(what + " rstd", ref[2], got[2].toDoubleArray(), t == DType.F64 ? 1e-12 : 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void trailingDimsFormOneRowAndStridedInputIsAccepted() {
        try (var scope = MemoryScope.open()) {
            double[] x = random(7, 2 * 3 * 4, 0);
            NDArray xa = NDArray.of(x, 2, 3, 4);
            double[][] ref = reference(x, 12, null, null, 1e-5);
            assertAllClose("[2,3,4] over 12", ref[0], xa.layerNorm(12, null, null, 1e-5)[0].toDoubleArray(), 1e-12);
            // a transposed input is normalised along its logical rows
            NDArray tr = NDArray.of(x, 4, 6).transpose(0, 1);  // [6, 4]
            double[] logical = tr.contiguous().toDoubleArray();
            assertAllClose("transposed", reference(logical, 4, null, null, 1e-5)[0], tr.layerNorm(4, null, null, 1e-5)[0].toDoubleArray(), 1e-12);
        }
    }

    @Test
    void backwardMatchesHandDerivedGradient() {
        // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w; dw = sum dy * xhat; db = sum dy
        int n = 45, rows = 6;
        try (var scope = MemoryScope.open()) {
            double[] x = random(11, rows * n, 2), dy = random(12, rows * n, 0), w = random(13, n, 1);
            NDArray xa = NDArray.of(x, rows, n), wa = NDArray.of(w, n);
            NDArray[] fwd = xa.layerNorm(n, wa, null, 1e-5);
            double[][] ref = reference(x, n, null, null, 1e-5);
            double[] dx = new double[x.length], dw = new double[n], db = new double[n];
            for (int r = 0; r < rows; r++) {
                double mg = 0, mgx = 0;
                for (int i = 0; i < n; i++) {
                    double xh = ref[0][r * n + i], g = dy[r * n + i] * w[i];
                    mg += g / n;
                    mgx += g * xh / n;
                    dw[i] += dy[r * n + i] * xh;
                    db[i] += dy[r * n + i];
                }
                for (int i = 0; i < n; i++) dx[r * n + i] = ref[2][r] * (dy[r * n + i] * w[i] - mg - ref[0][r * n + i] * mgx);
            }
            NDArray[] g = NDArray.layerNormBackward(NDArray.of(dy, rows, n), xa, fwd[1], fwd[2], wa, n, true, true, true);
            assertAllClose("dx", dx, g[0].toDoubleArray(), 1e-10);
            assertAllClose("dw", dw, g[1].toDoubleArray(), 1e-10);
            assertAllClose("db", db, g[2].toDoubleArray(), 1e-10);
            NDArray[] only = NDArray.layerNormBackward(NDArray.of(dy, rows, n), xa, fwd[1], fwd[2], wa, n, false, false, true);
            assertNull(only[0]);
            assertNull(only[1]);
            assertAllClose("db alone", db, only[2].toDoubleArray(), 1e-10);
        }
    }

    @Test
    void badInputsNameTheOp() {
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.zeros(3, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> x.layerNorm(5, null, null, 1e-5));
            assertEquals(true, e.getMessage().startsWith("layerNorm:"), e.getMessage());
            var w = assertThrows(IllegalArgumentException.class, () -> x.layerNorm(4, NDArray.ones(3), null, 1e-5));
            assertEquals(true, w.getMessage().contains("weight"), w.getMessage());
        }
    }
}
