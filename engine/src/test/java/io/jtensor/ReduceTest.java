package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Reductions against a reference that groups the input values by output position with plain index arithmetic. */
class ReduceTest {

    /** For each output position (row-major over the kept dims) the reduced values, in row-major order of the reduced dims. */
    static double[][] groups(double[] v, long[] shape, int... dims) {
        boolean[] red = new boolean[shape.length];
        for (int d : dims) red[d] = true;
        long outN = 1, redN = 1;
        for (int d = 0; d < shape.length; d++) {
            if (red[d]) redN *= shape[d];
            else outN *= shape[d];
        }
        double[][] g = new double[(int) outN][(int) redN];
        int[] fill = new int[(int) outN];
        long[] idx = new long[shape.length];
        for (int i = 0; i < v.length; i++) {
            long o = 0, r = 0;
            for (int d = 0; d < shape.length; d++) {
                if (red[d]) r = r * shape[d] + idx[d];
                else o = o * shape[d] + idx[d];
            }
            g[(int) o][(int) r] = v[i];
            fill[(int) o]++;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return g;
    }

    static double[] each(double[][] g, ToDoubleFunction<double[]> f) {
        return Arrays.stream(g).mapToDouble(f).toArray();
    }

    static double sum(double[] a) {
        double s = 0;
        for (double x : a) s += x;
        return s;
    }

    /** Index of the first maximum, or of the first NaN. */
    static int argExtreme(double[] a, boolean max) {
        int best = 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(a[i])) return i;
            if (max ? a[i] > a[best] : a[i] < a[best]) best = i;
        }
        return best;
    }

    /**
     * Sums checked against the standard error bound of floating-point summation: a few units of the format's
     * precision times the sum of magnitudes (the result may cancel far below the terms).
     */
    static void assertSums(String what, double[][] groups, NDArray actual, DType dt) {
        double[] got = actual.toDoubleArray();
        for (int i = 0; i < groups.length; i++) {
            double want = sum(groups[i]), magnitude = Arrays.stream(groups[i]).map(Math::abs).sum();
            double t = dt.isFloating() ? tol(dt) * 4 * magnitude : 0;
            assertEquals(want, got[i], t, what + "[" + i + "]");
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void sumOverSeveralDimsOfAPermutedArray(Device d) {
        double[] v = randomValues(1, 3 * 4 * 5 * 6, -2, 2);
        for (DType dt : List.of(DType.F32, DType.F64, DType.F16, DType.BF16, DType.I32, DType.I64)) {
            double[] stored = Arrays.stream(v).map(x -> roundTo(dt, x * 10)).toArray();
            // x = base.permute(2, 0, 3, 1): shape [5, 3, 6, 4]
            long[] shape = {5, 3, 6, 4};
            double[] xv = viewValues(stored, shape, new long[] {6, 120, 1, 30}, 0);
            try (NDArray base = on(d, dt, Arrays.stream(v).map(x -> x * 10).toArray(), 3, 4, 5, 6); NDArray x = base.permute(2, 0, 3, 1)) {
                for (int[] dims : new int[][] {{0}, {1, 3}, {0, 2}, {3}, {0, 1, 2, 3}, {-1, -2}}) {
                    int[] nd = Arrays.stream(dims).map(k -> k < 0 ? k + 4 : k).sorted().toArray();
                    double[] want = each(groups(xv, shape, nd), ReduceTest::sum);
                    try (NDArray keep = x.sum(dims, true); NDArray flat = x.sum(dims, false)) {
                        long[] kept = shape.clone();
                        for (int k : nd) kept[k] = 1;
                        assertShape(keep, kept);
                        assertEquals(4 - nd.length, flat.dim());
                        DType outType = dt.isFloating() ? dt : DType.I64;
                        assertEquals(outType, keep.dtype());
                        double[] rounded = Arrays.stream(want).map(w -> roundTo(outType, w)).toArray();
                        double t = dt.isFloating() ? tol(dt) * 4 : 0;
                        assertClose("sum " + Arrays.toString(dims) + " " + dt, rounded, keep, t, t);
                        assertClose("sum flat " + Arrays.toString(dims) + " " + dt, rounded, flat, t, t);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void largeSumsAccumulateAccurately(Device d) {
        int n = 1_000_003;
        double[] v = randomValues(7, n, 0, 1);
        double want = 0;
        for (double x : v) want += (float) x;
        try (NDArray x = on(d, DType.F32, v, n); NDArray s = x.sum(); NDArray m = x.view(1, n); NDArray s2 = m.sum(1, false)) {
            assertEquals(want, s.item(), want * 1e-6, "F32 sum of 1M values");
            assertEquals(want, s2.item(), want * 1e-6);
        }
        // Many ones in BF16: a BF16 accumulator would stall at 256.
        try (NDArray ones = NDArray.ones(DType.BF16, d, 4096); NDArray s = ones.sum()) {
            assertEquals(4096, s.item());
        }
        try (NDArray big = on(d, DType.I32, new double[] {2e9, 2e9, 2e9}, 3); NDArray s = big.sum()) {
            assertEquals(DType.I64, s.dtype(), "integer sums widen to I64");
            assertEquals(6_000_000_000L, s.toLongArray()[0]);
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void columnAndRowLayouts(Device d) {
        // [200, 37] summed over dim 0 (kept elements contiguous) and dim 1, and the transposed view
        int r = 200, c = 37;
        double[] v = randomValues(3, r * c, -1, 1);
        for (DType dt : List.of(DType.F32, DType.F64, DType.I64)) {
            double[] stored = Arrays.stream(v).map(x -> roundTo(dt, x * 100)).toArray();
            try (NDArray x = on(d, dt, Arrays.stream(v).map(q -> q * 100).toArray(), r, c); NDArray xt = x.t()) {
                for (int dim = 0; dim < 2; dim++) {
                    double[][] g = groups(stored, new long[] {r, c}, dim);
                    double[][] gt = groups(viewValues(stored, new long[] {c, r}, new long[] {1, c}, 0), new long[] {c, r}, dim);
                    double t = dt.isFloating() ? tol(dt) * 10 : 0;
                    try (NDArray s = x.sum(dim, false); NDArray st = xt.sum(dim, false)) {
                        assertSums("sum dim " + dim + " " + dt, g, s, dt);
                        assertSums("sum transposed dim " + dim + " " + dt, gt, st, dt);
                    }
                    for (boolean isMax : new boolean[] {true, false}) {
                        try (NDArray.ValuesIndices vi = isMax ? x.max(dim, false) : x.min(dim, false);
                             NDArray.ValuesIndices vt = isMax ? xt.max(dim, true) : xt.min(dim, true)) {
                            double[] wantIdx = Arrays.stream(g).mapToDouble(a -> argExtreme(a, isMax)).toArray();
                            double[] wantVal = Arrays.stream(g).mapToDouble(a -> a[argExtreme(a, isMax)]).toArray();
                            assertArrayEquals(wantVal, vi.values().toDoubleArray(), (isMax ? "max " : "min ") + dim + " " + dt);
                            assertArrayEquals(wantIdx, vi.indices().toDoubleArray(), (isMax ? "argmax " : "argmin ") + dim + " " + dt);
                            double[] wantIdxT = Arrays.stream(gt).mapToDouble(a -> argExtreme(a, isMax)).toArray();
                            assertArrayEquals(wantIdxT, vt.indices().toDoubleArray(), "transposed index " + dim + " " + dt);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void maxMinTiesAndNaN(Device d) {
        double nan = Double.NaN;
        try (NDArray x = on(d, DType.F32, new double[] {1, 3, 3, 0, 2, nan, 5, nan, -1, -1, 4, -1}, 3, 4);
             NDArray.ValuesIndices mx = x.max(1, false); NDArray.ValuesIndices mn = x.min(1, true);
             NDArray am = x.argmax(1, false); NDArray an = x.argmin(0, false); NDArray all = x.max(); NDArray amax = x.amax(new int[] {0}, false)) {
            assertClose("max", new double[] {3, nan, 4}, mx.values(), 0, 0);
            assertArrayEquals(new long[] {1, 1, 2}, mx.indices().toLongArray(), "first maximum, and first NaN");
            assertShape(mn.values(), 3, 1);
            assertClose("min", new double[] {0, nan, -1}, mn.values(), 0, 0);
            assertArrayEquals(new long[] {3, 1, 0}, mn.indices().toLongArray());
            assertArrayEquals(new long[] {1, 1, 2}, am.toLongArray());
            assertArrayEquals(new long[] {2, 1, 0, 1}, an.toLongArray());
            assertTrue(Double.isNaN(all.item()), "max over all propagates NaN");
            assertClose("amax", new double[] {2, nan, 5, nan}, amax, 0, 0);
        }
        // a NaN beyond the SIMD-width part of a long row
        double[] row = new double[1000];
        Arrays.fill(row, 1);
        row[997] = nan;
        try (NDArray x = on(d, DType.F32, row, 1000); NDArray m = x.max(); NDArray n = x.min()) {
            assertTrue(Double.isNaN(m.item()));
            assertTrue(Double.isNaN(n.item()));
        }
        try (NDArray e = NDArray.zeros(DType.F32, d, 0, 3)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e::max);
            assertTrue(ex.getMessage().contains("max") && ex.getMessage().contains("empty"), ex.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void prodAnyAllAndEmptyReductions(Device d) {
        try (NDArray x = on(d, DType.F64, new double[] {1, 2, 3, 4, 0.5, -1}, 2, 3); NDArray p = x.prod(1, false); NDArray p0 = x.prod(0, true);
             NDArray b = on(d, DType.BOOL, new double[] {0, 0, 1, 0}, 4); NDArray any = b.any(); NDArray all = b.all();
             NDArray f = on(d, DType.F32, new double[] {Double.NaN, 1, 2}, 3); NDArray fAll = f.all();
             NDArray i = on(d, DType.I64, new double[] {3, -2, 5}, 3); NDArray ip = i.prod(0, false)) {
            assertArrayEquals(new double[] {6, -2}, p.toDoubleArray());
            assertArrayEquals(new double[] {4, 1, -3}, p0.toDoubleArray());
            assertTrue(any.toBooleanArray()[0]);
            assertFalse(all.toBooleanArray()[0]);
            assertEquals(DType.BOOL, any.dtype());
            assertTrue(fAll.toBooleanArray()[0], "NaN counts as true");
            assertEquals(-30, ip.toLongArray()[0]);
        }
        try (NDArray e = NDArray.zeros(DType.F32, d, 0, 3); NDArray s = e.sum(0, false); NDArray p = e.prod(0, false);
             NDArray l = e.logsumexp(0, false); NDArray a = e.any(); NDArray al = e.all()) {
            assertArrayEquals(new double[] {0, 0, 0}, s.toDoubleArray());
            assertArrayEquals(new double[] {1, 1, 1}, p.toDoubleArray());
            assertClose("logsumexp of nothing", new double[] {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY}, l, 0, 0);
            assertFalse(a.toBooleanArray()[0]);
            assertTrue(al.toBooleanArray()[0]);
        }
        try (NDArray s = NDArray.scalar(2.5, DType.F32, d); NDArray t = s.sum(); NDArray m = s.max()) {
            assertEquals(0, t.dim());
            assertEquals(2.5, t.item());
            assertEquals(2.5, m.item());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void meanVarStdNormLogsumexp(Device d) {
        double[] v = randomValues(9, 4 * 6, -3, 3);
        long[] shape = {4, 6};
        for (DType dt : List.of(DType.F32, DType.F64)) {
            double[] s = Arrays.stream(v).map(x -> roundTo(dt, x)).toArray();
            double t = tol(dt) * 10;
            try (NDArray x = on(d, dt, v, 4, 6)) {
                double[][] g1 = groups(s, shape, 1), gAll = groups(s, shape, 0, 1);
                double[] mean = each(g1, a -> sum(a) / a.length);
                double[] var = each(g1, a -> {
                    double m = sum(a) / a.length, q = 0;
                    for (double e : a) q += (e - m) * (e - m);
                    return q / (a.length - 1);
                });
                try (NDArray m = x.mean(1, false); NDArray vr = x.var(1, false); NDArray sd = x.std(1, true); NDArray mAll = x.mean();
                     NDArray vBiased = x.var(new int[] {0, 1}, false, 0)) {
                    assertClose("mean " + dt, mean, m, t, t);
                    assertClose("var " + dt, var, vr, t, t);
                    assertShape(sd, 4, 1);
                    assertClose("std " + dt, Arrays.stream(var).map(Math::sqrt).toArray(), sd, t, t);
                    assertEquals(sum(s) / s.length, mAll.item(), t);
                    double m0 = sum(s) / s.length, q = 0;
                    for (double e : s) q += (e - m0) * (e - m0);
                    assertEquals(q / s.length, vBiased.item(), t * 10);
                }
                try (NDArray n2 = x.norm(); NDArray n1 = x.norm(1, new int[] {1}, false); NDArray nInf = x.norm(Double.POSITIVE_INFINITY, new int[] {0}, true);
                     NDArray n3 = x.norm(3, new int[] {0, 1}, false)) {
                    assertEquals(Math.sqrt(each(gAll, a -> Arrays.stream(a).map(e -> e * e).sum())[0]), n2.item(), t * 10);
                    assertClose("norm1 " + dt, each(g1, a -> Arrays.stream(a).map(Math::abs).sum()), n1, t, t);
                    assertClose("normInf " + dt, each(groups(s, shape, 0), a -> Arrays.stream(a).map(Math::abs).max().getAsDouble()), nInf, 0, 0);
                    assertEquals(Math.cbrt(Arrays.stream(s).map(e -> Math.pow(Math.abs(e), 3)).sum()), n3.item(), t * 100);
                }
                try (NDArray lse = x.logsumexp(1, false); NDArray lse01 = x.logsumexp(new int[] {0, 1}, true)) {
                    assertClose("logsumexp " + dt, each(g1, a -> Math.log(Arrays.stream(a).map(Math::exp).sum())), lse, t, t);
                    assertShape(lse01, 1, 1);
                    assertEquals(Math.log(Arrays.stream(s).map(Math::exp).sum()), lse01.item(), t * 10);
                }
            }
        }
        // stability: exp(1000) overflows, logsumexp must not; -inf rows give -inf; +inf gives +inf
        double inf = Double.POSITIVE_INFINITY;
        try (NDArray x = on(d, DType.F32, new double[] {1000, 1000, -inf, -inf, 1, inf}, 3, 2); NDArray l = x.logsumexp(1, false)) {
            assertClose("stable logsumexp", new double[] {1000 + Math.log(2), -inf, inf}, l, 1e-6, 0);
        }
        // integer input is computed in float
        try (NDArray x = on(d, DType.I64, new double[] {0, 0}, 2); NDArray l = x.logsumexp(0, false)) {
            assertEquals(DType.F32, l.dtype());
            assertEquals(Math.log(2), l.item(), 1e-6);
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void largeColumnLogsumexpAndArgmax(Device d) {
        // [300, 40] over dim 0 takes the column walk with many rows; values big enough to overflow a naive exp
        int r = 300, c = 40;
        double[] v = randomValues(21, r * c, 80, 120);
        try (NDArray x = on(d, DType.F64, v, r, c); NDArray l = x.logsumexp(0, false); NDArray am = x.argmax(0, false)) {
            double[][] g = groups(v, new long[] {r, c}, 0);
            double[] want = each(g, a -> {
                double m = Arrays.stream(a).max().getAsDouble();
                return m + Math.log(Arrays.stream(a).map(e -> Math.exp(e - m)).sum());
            });
            assertClose("column logsumexp", want, l, 1e-12, 0);
            assertArrayEquals(Arrays.stream(g).mapToDouble(a -> argExtreme(a, true)).toArray(), am.toDoubleArray());
        }
        // F32 takes the SIMD column walk for MAX: logsumexp must not stop after its max pass
        double[] small = randomValues(22, r * c, -3, 3);
        try (NDArray x = on(d, DType.F32, small, r, c); NDArray l = x.logsumexp(0, false)) {
            double[] s = Arrays.stream(small).map(e -> roundTo(DType.F32, e)).toArray();
            double[] want = each(groups(s, new long[] {r, c}, 0), a -> Math.log(Arrays.stream(a).map(Math::exp).sum()));
            assertClose("column logsumexp F32", want, l, 1e-5, 1e-5);
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void badDims(Device d) {
        try (NDArray x = NDArray.zeros(DType.F32, d, 2, 3)) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> x.sum(2, false));
            assertTrue(e.getMessage().contains("sum") && e.getMessage().contains("2"), e.getMessage());
            IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> x.sum(new int[] {1, -1}, false));
            assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> x.argmax(-3, false));
        }
    }
}
