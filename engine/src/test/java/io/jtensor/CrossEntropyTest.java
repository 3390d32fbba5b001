package io.jtensor;

import static io.jtensor.Checks.assertClose;
import static io.jtensor.Checks.on;
import static io.jtensor.Checks.randomValues;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.backend.ComposedCrossEntropy;
import io.jtensor.memory.MemoryScope;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused cross-entropy primitive (per position, and its gradient) against its definition written out here in
 * double loops: lp = log_softmax over dim 1, loss = -(1 - e) lp[t] - (e / C) sum_c lp[c], 0 where t is ignored;
 * gradient g * (softmax - (1 - e) onehot(t) - e / C). On every device, and for the composed form the CUDA backend
 * falls back on.
 */
class CrossEntropyTest {
    private static final long IGNORE = -100;

    /** {loss per position, lse per position, gradient of sum(g * loss)} of logits [N, C, inner] by the definition. */
    static double[][] reference(double[] x, long[] t, double[] g, int n, int c, int inner, double e) {
        double[] loss = new double[n * inner], lse = new double[n * inner], grad = new double[x.length];
        for (int i = 0; i < n; i++) {
            for (int s = 0; s < inner; s++) {
                int p = i * inner + s;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) max = Math.max(max, x[(i * c + k) * inner + s]);
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.exp(x[(i * c + k) * inner + s] - max);
                lse[p] = max + Math.log(sum);
                if (t[p] == IGNORE) continue;
                double sumLp = 0;
                for (int k = 0; k < c; k++) sumLp += x[(i * c + k) * inner + s] - lse[p];
                loss[p] = -(1 - e) * (x[(i * c + (int) t[p]) * inner + s] - lse[p]) - e / c * sumLp;
                for (int k = 0; k < c; k++) {
                    int at = (i * c + k) * inner + s;
                    grad[at] = g[p] * (Math.exp(x[at] - lse[p]) - (k == t[p] ? 1 - e : 0) - e / c);
                }
            }
        }
        return new double[][] {loss, lse, grad};
    }

    /** Targets in [0, c), every fifth one ignored. */
    private static long[] targets(long seed, int count, int c) {
        java.util.Random r = new java.util.Random(seed);
        long[] t = new long[count];
        for (int i = 0; i < count; i++) t[i] = i % 5 == 3 ? IGNORE : r.nextInt(c);
        return t;
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void lossLseAndGradientFollowTheDefinition(Device d) {
        // {N, C, inner}: rows, rows longer than a warp, and spatial positions (classes inner apart)
        int[][] layouts = {{37, 10, 1}, {3, 1000, 1}, {4, 7, 6}, {2, 3, 33}};
        long seed = 300;
        for (int[] lay : layouts) {
            int n = lay[0], c = lay[1], inner = lay[2];
            long[] shape = inner == 1 ? new long[] {n, c} : new long[] {n, c, 3, inner / 3};
            long[] posShape = inner == 1 ? new long[] {n} : new long[] {n, 3, inner / 3};
            double[] x = randomValues(seed++, n * c * inner, -4, 4), g = randomValues(seed++, n * inner, -1, 1);
            long[] t = targets(seed++, n * inner, c);
            for (double e : new double[] {0, 0.1}) {
                for (DType dt : List.of(DType.F32, DType.F64, DType.F16, DType.BF16)) {
                    double[] xr = java.util.Arrays.stream(x).map(v -> Checks.roundTo(dt, v)).toArray();
                    double[] gr = java.util.Arrays.stream(g).map(v -> Checks.roundTo(dt, v)).toArray();
                    double[][] ref = reference(xr, t, gr, n, c, inner, e);
                    String what = dt + " " + java.util.Arrays.toString(shape) + " smoothing " + e;
                    double tol = Checks.tol(dt);
                    try (var scope = MemoryScope.open()) {
                        NDArray logits = on(d, dt, x, shape), tg = NDArray.of(t, posShape).to(d), gl = on(d, dt, g, posShape);
                        NDArray[] r = logits.crossEntropyPerPosition(tg, IGNORE, e);
                        assertEquals(dt, r[0].dtype(), what + ": loss dtype");
                        assertEquals(dt == DType.F64 ? DType.F64 : DType.F32, r[1].dtype(), what + ": lse dtype");
                        // the loss rounds once into dt, on top of an lse computed in F32 at least (|lse| < 12)
                        assertClose("loss " + what, ref[0], r[0], tol, dt == DType.F64 ? 1e-12 : 12 * Math.ulp(12f) + tol);
                        assertClose("lse " + what, ref[1], r[1], dt == DType.F64 ? 1e-12 : 2e-6, dt == DType.F64 ? 1e-12 : 1e-5);
                        NDArray grad = NDArray.crossEntropyBackward(logits, tg, r[1], gl, IGNORE, e);
                        assertClose("gradient " + what, ref[2], grad, tol, tol);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void theComposedFormGivesTheSame(Device d) {
        double[] x = randomValues(11, 4 * 7 * 6, -4, 4), g = randomValues(12, 24, -1, 1);
        long[] t = targets(13, 24, 7);
        double[][] ref = reference(x, t, g, 4, 7, 6, 0.2);
        try (var scope = MemoryScope.open()) {
            NDArray logits = on(d, DType.F32, x, 4, 7, 2, 3), tg = NDArray.of(t, 4, 2, 3).to(d), gl = on(d, DType.F32, g, 4, 2, 3);
            NDArray loss = NDArray.empty(DType.F32, d, 4, 2, 3), lse = NDArray.empty(DType.F32, d, 4, 2, 3);
            ComposedCrossEntropy.forward(logits, tg, IGNORE, 0.2, loss, lse);
            assertClose("composed loss", ref[0], loss, 2e-6, 1e-5);
            assertClose("composed lse", ref[1], lse, 2e-6, 0);
            NDArray grad = NDArray.empty(DType.F32, d, 4, 7, 2, 3);
            ComposedCrossEntropy.backward(logits, tg, lse, gl, IGNORE, 0.2, grad);
            assertClose("composed gradient", ref[2], grad, 2e-6, 2e-6);
            // and its bad target message is the fused kernels'
            NDArray bad = NDArray.of(new long[] {0, 1, 7, 2, 3, 4}, 1, 2, 3).to(d);
            NDArray one = NDArray.empty(DType.F32, d, 1, 2, 3), oneLse = NDArray.empty(DType.F32, d, 1, 2, 3);
            try (NDArray first = logits.narrow(0, 0, 1); NDArray l1 = first.contiguous()) {
                IndexOutOfBoundsException ex = assertThrows(IndexOutOfBoundsException.class,
                        () -> ComposedCrossEntropy.forward(l1, bad, IGNORE, 0, one, oneLse));
                assertEquals("crossEntropy: expected class indices in [0, 7) or the ignore index -100, got index 7", ex.getMessage());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void nanAndInfinityGiveNaNAsInPyTorchAndBadTargetsFailTheCall(Device d) {
        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
        // PyTorch 1.13: cross_entropy(reduction="none") of these rows against class 1 gives nan, nan, nan, 0.3133
        double[] x = {1, nan, 2, 1, inf, 2, -inf, -inf, -inf, 1, 2, -inf};
        try (var scope = MemoryScope.open()) {
            NDArray logits = on(d, DType.F32, x, 4, 3), tg = NDArray.of(new long[] {1, 1, 1, 1}, 4).to(d);
            double[] loss = logits.crossEntropyPerPosition(tg, IGNORE, 0)[0].toDoubleArray();
            for (int i = 0; i < 3; i++) assertTrue(Double.isNaN(loss[i]), "row " + i + ": " + loss[i]);
            assertEquals(Math.log(1 + Math.exp(-1)), loss[3], 1e-6);
            NDArray bad = NDArray.of(new long[] {0, -1, 3, 2}, 4).to(d);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> logits.crossEntropyPerPosition(bad, IGNORE, 0));
            assertEquals("crossEntropy: expected class indices in [0, 3) or the ignore index -100, got index -1", e.getMessage());
            // every target ignored: the mean over no positions is NaN, as in PyTorch
            NDArray none = NDArray.of(new long[] {IGNORE, IGNORE, IGNORE, IGNORE}, 4).to(d);
            assertTrue(Double.isNaN(logits.crossEntropy(none).item()));
        }
    }
}
