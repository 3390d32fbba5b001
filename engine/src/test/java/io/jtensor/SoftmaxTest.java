package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SoftmaxTest {

    /** Softmax (or log-softmax) of each group of a dim, computed naively in double with a max shift. */
    static double[] reference(double[] v, long[] shape, int dim, boolean log) { return reference(v, shape, dim, log, null); }

    /**
     * As above; when lseScale is not null, each element also receives |max| + log(sum of exp(x - max)) + 1 of its
     * group: the magnitude of the terms log-softmax subtracts (see logSoftmaxAbsTolerance).
     */
    static double[] reference(double[] v, long[] shape, int dim, boolean log, double[] lseScale) {
        double[] out = new double[v.length];
        long inner = 1;
        for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
        long n = shape.length == 0 ? 1 : shape[dim];
        long outer = v.length / Math.max(n * inner, 1);
        for (long o = 0; o < outer; o++) {
            for (long i = 0; i < inner; i++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (long k = 0; k < n; k++) max = Math.max(max, v[(int) ((o * n + k) * inner + i)]);
                for (long k = 0; k < n; k++) sum += Math.exp(v[(int) ((o * n + k) * inner + i)] - max);
                for (long k = 0; k < n; k++) {
                    int at = (int) ((o * n + k) * inner + i);
                    out[at] = log ? v[at] - max - Math.log(sum) : Math.exp(v[at] - max) / sum;
                    if (lseScale != null) lseScale[at] = Math.abs(max) + Math.log(sum) + 1;
                }
            }
        }
        return out;
    }

    /**
     * The absolute error log-softmax may have beyond the rounding of its result. It computes x - max - log(sum) (or
     * x - logsumexp) in the working precision (F32 for the 16-bit floats, which round once on store), so its error
     * is set by the terms it subtracts, not by the result: a result near 0 (x the group's max) is a difference of
     * quantities of size |max| + log(sum). x - max, the subtraction and log itself each round at that scale (a few
     * units), and log(sum) inherits the relative error of the sum of at most 5 exps here (about n + 2 units; sum >= 1,
     * so that error is absolute), hence 8 units of roundoff times lseScale = |max| + log(sum) + 1.
     */
    static double logSoftmaxAbsTolerance(DType dt, double lseScale) {
        double unitRoundoff = dt == DType.F64 ? 0x1p-53 : 0x1p-24;
        return 8 * unitRoundoff * lseScale;
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void everyDimOfAPermutedArray(Device d) {
        double[] v = randomValues(5, 3 * 4 * 5, -4, 4);
        long[] shape = {4, 5, 3}; // base [3, 4, 5] permuted (1, 2, 0)
        for (DType dt : List.of(DType.F32, DType.F64, DType.F16, DType.BF16)) {
            double[] stored = Arrays.stream(v).map(x -> roundTo(dt, x)).toArray();
            double[] xv = viewValues(stored, shape, new long[] {5, 1, 20}, 0);
            try (NDArray base = on(d, dt, v, 3, 4, 5); NDArray x = base.permute(1, 2, 0)) {
                for (int dim = -3; dim < 3; dim++) {
                    int nd = dim < 0 ? dim + 3 : dim;
                    for (boolean log : new boolean[] {false, true}) {
                        try (NDArray y = log ? x.logSoftmax(dim) : x.softmax(dim)) {
                            assertEquals(dt, y.dtype());
                            double[] scale = new double[xv.length];
                            double[] want = Arrays.stream(reference(xv, shape, nd, log, scale)).map(w -> roundTo(dt, w)).toArray();
                            double abs = tol(dt) * 1e-2;
                            if (log) {
                                assertClose("logSoftmax " + dim + " " + dt, want, y.toDoubleArray(), tol(dt) * 2,
                                        i -> abs + logSoftmaxAbsTolerance(dt, scale[i]));
                            } else {
                                assertClose("softmax " + dim + " " + dt, want, y, tol(dt) * 2, abs);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void longRowsAndChannelLayouts(Device d) {
        // rows of 1003 (SIMD body plus tail), 70 rows (parallel), and [2, 30, 40] over dim 1 (adjacent rows contiguous)
        for (long[] shape : new long[][] {{70, 1003}, {2, 30, 40}}) {
            int n = (int) Shapes.numel(shape);
            int dim = shape.length == 2 ? 1 : 1;
            double[] v = randomValues(n, n, -20, 20);
            for (DType dt : List.of(DType.F32, DType.F64)) {
            double[] stored = Arrays.stream(v).map(x -> roundTo(dt, x)).toArray();
            try (NDArray x = on(d, dt, v, shape)) {
                for (boolean log : new boolean[] {false, true}) {
                    try (NDArray y = log ? x.logSoftmax(dim) : x.softmax(dim)) {
                        double[] want = reference(stored, shape, dim, log);
                        double rel = dt == DType.F32 ? 1e-5 : 1e-12;
                        assertClose(Arrays.toString(shape) + (log ? " log " : " ") + dt, want, y, rel, rel * 1e-2);
                    }
                }
                try (NDArray y = x.softmax(dim); NDArray s = y.sum(dim, false)) {
                    for (double e : s.toDoubleArray()) assertEquals(1, e, 1e-5, "rows sum to 1");
                }
            }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void largeTransposedInputs(Device d) {
        // [80, 70] viewed transposed as [70, 80]: big enough to be repacked into the output's layout first
        double[] v = randomValues(77, 80 * 70, -10, 10);
        long[] shape = {70, 80};
        for (DType dt : List.of(DType.F32, DType.BF16)) {
            double[] stored = Arrays.stream(v).map(q -> roundTo(dt, q)).toArray();
            double[] xv = viewValues(stored, shape, new long[] {1, 70}, 0);
            try (NDArray base = on(d, dt, v, 80, 70); NDArray x = base.t()) {
                for (int dim = 0; dim < 2; dim++) {
                    for (boolean log : new boolean[] {false, true}) {
                        try (NDArray y = log ? x.logSoftmax(dim) : x.softmax(dim)) {
                            double[] want = Arrays.stream(reference(xv, shape, dim, log)).map(w -> roundTo(dt, w)).toArray();
                            double rel = dt == DType.F32 ? 1e-5 : tol(dt) * 2;
                            assertClose("transposed " + dim + (log ? " log " : " ") + dt, want, y, rel, rel * 1e-2);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void stabilityIntegersAndScalars(Device d) {
        try (NDArray x = on(d, DType.F32, new double[] {1000, 1001, 1002, -1000}, 4); NDArray y = x.softmax(0); NDArray l = x.logSoftmax(-1)) {
            double[] want = reference(new double[] {1000, 1001, 1002, -1000}, new long[] {4}, 0, false);
            assertClose("softmax of large values", want, y, 1e-6, 1e-9);
            // log-softmax subtracts the log-sum-exp (~1002.4) from each input: in F32 that difference carries up to an
            // ulp of 1002 (6.1e-5) of rounding, whichever device computes it.
            assertClose("logSoftmax of large values", reference(new double[] {1000, 1001, 1002, -1000}, new long[] {4}, 0, true), l, 1e-6,
                    2 * Math.ulp(1002f));
        }
        try (NDArray x = on(d, DType.I64, new double[] {1, 2}, 2); NDArray y = x.softmax(0)) {
            assertEquals(DType.F32, y.dtype(), "integers are computed in F32");
            assertClose("int softmax", new double[] {1 / (1 + Math.E), Math.E / (1 + Math.E)}, y, 1e-6, 0);
        }
        try (NDArray s = NDArray.scalar(3, DType.F64, d); NDArray y = s.softmax(0); NDArray l = s.logSoftmax(-1)) {
            assertEquals(1, y.item());
            assertEquals(0, l.item());
        }
        try (NDArray x = NDArray.zeros(DType.F32, d, 2, 3)) {
            assertThrows(IndexOutOfBoundsException.class, () -> x.softmax(2));
        }
    }

    /**
     * What PyTorch gives (torch.softmax, log_softmax, logsumexp; checked with 1.13): a NaN anywhere, or a +inf, makes
     * the whole row NaN, -inf elements included; a row of -inf is NaN (its logsumexp -inf; with a +inf, +inf). Rows
     * of 4, and of 1024 and 16384 mostly -inf: on a GPU a long row is split over threads, and the thread holding
     * the NaN sees nothing else but -inf, a state a (max, sum) merge drops unless the NaN is carried where the merge
     * keeps it. Along the last dim (row kernels) and along the first (column kernels).
     */
    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void aNaNOrPlusInfinityMakesTheRowNaNAsInPyTorch(Device d) {
        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY, e = Math.E;
        for (int len : new int[] {4, 1024, 16384}) {
            double[] v = new double[4 * len];
            Arrays.fill(v, -inf);
            v[1] = nan;                                       // row 0: a NaN and a 5 among -inf
            v[len - 1] = 5;
                                                              // row 1: all -inf
            v[2 * len] = 1;                                   // row 2: a 1 and a +inf among -inf
            v[2 * len + len / 2] = inf;
            v[3 * len] = 1;                                   // row 3: a 1 and a 2 among -inf
            v[3 * len + 1] = 2;
            double[] soft = new double[4 * len], logSoft = new double[4 * len];
            Arrays.fill(soft, 0, 3 * len, nan);
            Arrays.fill(logSoft, 0, 3 * len, nan);
            Arrays.fill(logSoft, 3 * len, 4 * len, -inf);
            soft[3 * len] = 1 / (1 + e);
            soft[3 * len + 1] = e / (1 + e);
            logSoft[3 * len] = -Math.log(1 + e);
            logSoft[3 * len + 1] = 1 - Math.log(1 + e);
            double[] lse = {nan, -inf, inf, 1 + Math.log(1 + e)};
            for (DType dt : List.of(DType.F32, DType.F64, DType.F16, DType.BF16)) {
                double rel = dt == DType.F64 ? 1e-12 : dt == DType.F32 ? 1e-6 : 1e-2;
                String what = dt + " rows of " + len;
                try (NDArray x = on(d, dt, v, 4, len); NDArray xt = x.transpose(0, 1).contiguous()) {
                    assertClose("softmax " + what, soft, x.softmax(1), rel, 0);
                    assertClose("logSoftmax " + what, logSoft, x.logSoftmax(1), rel, 0);
                    assertClose("logsumexp " + what, lse, x.logsumexp(1, false), rel, 0);
                    assertClose("softmax over dim 0, " + what, soft, xt.softmax(0).transpose(0, 1).contiguous(), rel, 0);
                    assertClose("logSoftmax over dim 0, " + what, logSoft, xt.logSoftmax(0).transpose(0, 1).contiguous(), rel, 0);
                    assertClose("logsumexp over dim 0, " + what, lse, xt.logsumexp(0, false), rel, 0);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void backwardMatchesTheJacobian(Device d) {
        long[] shape = {3, 5};
        double[] v = randomValues(8, 15, -2, 2), g = randomValues(9, 15, -1, 1);
        for (int dim = 0; dim < 2; dim++) {
            for (boolean log : new boolean[] {false, true}) {
                double[] sm = reference(v, shape, dim, false);
                double[] want = new double[15];
                // gx_i = sum_j gy_j * dy_j/dx_i over the elements j sharing i's group
                for (int i = 0; i < 15; i++) {
                    int ri = i / 5, ci = i % 5;
                    for (int j = 0; j < 15; j++) {
                        int rj = j / 5, cj = j % 5;
                        boolean sameGroup = dim == 1 ? ri == rj : ci == cj;
                        if (!sameGroup) continue;
                        double delta = i == j ? 1 : 0;
                        double dyjdxi = log ? delta - sm[i] : sm[j] * (delta - sm[i]);
                        want[i] += g[j] * dyjdxi;
                    }
                }
                for (DType dt : List.of(DType.F64, DType.F32)) {
                    try (NDArray x = on(d, dt, v, shape); NDArray y = log ? x.logSoftmax(dim) : x.softmax(dim);
                         NDArray gBase = on(d, dt, g, 5, 3); NDArray gt = gBase.t(); NDArray gyC = gt.contiguous();
                         NDArray gy = on(d, dt, g, shape); NDArray gx = NDArray.softmaxBackward(y, gy, dim, log)) {
                        assertClose("softmaxBackward dim " + dim + (log ? " log " : " ") + dt, want, gx, tol(dt) * 10, tol(dt) * 10);
                        assertNotNull(gyC);
                    }
                }
            }
        }
    }
}
