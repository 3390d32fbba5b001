package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Max and average pooling and their gradients against hand-computed values and naive loops. */
class PoolTest {
    static NDArray random(DType dt, long seed, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        Random r = new Random(seed);
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() * 2 - 1;
        try (NDArray d = NDArray.of(v, shape)) {
            return d.to(dt);
        }
    }

    static double[] iota(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = i + 1;
        return v;
    }

    // ------------------------------------------------------------------ hand-computed

    @Test void maxPoolByHand() {
        try (var scope = MemoryScope.open()) {
            // 1 2 3 / 4 5 6 / 7 8 9 with a 2x2 window, stride 1: maxima 5 6 8 9 at flat positions 4 5 7 8.
            NDArray x = NDArray.of(iota(9), 1, 1, 3, 3);
            var r = x.maxPool2d(2, 2, ConvParams.of(1, 0));
            assertArrayEquals(new double[] {5, 6, 8, 9}, r.values().toDoubleArray());
            assertArrayEquals(new long[] {4, 5, 7, 8}, r.indices().toLongArray());
            // Stride 2, padding 1: windows {1}, {2,3}, {4,7}, {5,6,8,9}.
            var p = x.maxPool2d(2, 2, ConvParams.of(2, 1));
            assertArrayEquals(new double[] {1, 3, 7, 9}, p.values().toDoubleArray());
            assertArrayEquals(new long[] {0, 2, 6, 8}, p.indices().toLongArray());
        }
    }

    @Test void avgPoolByHandWithAndWithoutPadding() {
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.of(iota(9), 1, 1, 3, 3);
            assertArrayEquals(new double[] {3, 4, 6, 7}, x.avgPool2d(2, 2, ConvParams.of(1, 0), true).toDoubleArray(), 1e-6);
            // k2 s2 p1 windows hold {1}, {2,3}, {4,7}, {5,6,8,9}: divided by 4 with padding counted, else by their size.
            assertArrayEquals(new double[] {0.25, 1.25, 2.75, 7}, x.avgPool2d(2, 2, ConvParams.of(2, 1), true).toDoubleArray(), 1e-6);
            assertArrayEquals(new double[] {1, 2.5, 5.5, 7}, x.avgPool2d(2, 2, ConvParams.of(2, 1), false).toDoubleArray(), 1e-6);
        }
    }

    @Test void maxPoolPropagatesNaNAndPointsAtIt() {
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.of(new double[] {1, Double.NaN, 3, 0}, 1, 1, 2, 2);
            var r = x.maxPool2d(2, 2, ConvParams.of(2, 0));
            assertTrue(Double.isNaN(r.values().toDoubleArray()[0]));
            assertEquals(1, r.indices().toLongArray()[0]);
        }
    }

    /**
     * The vectorised F32 2x2 path (whole vectors of windows and a scalar tail) against a naive scan, on planes full
     * of ties and NaNs: the first maximum in window order wins a tie, and the last NaN wins over everything.
     */
    @Test void maxPool2x2InFloatsKeepsFirstMaximumAndLastNaN() {
        try (var scope = MemoryScope.open()) {
            int n = 2, c = 3, h = 12, w = 10, oh = 6, ow = 5;
            Random r = new Random(5);
            double[] v = new double[n * c * h * w];
            for (int i = 0; i < v.length; i++) v[i] = r.nextInt(10) == 0 ? Double.NaN : r.nextInt(3);
            NDArray x = NDArray.of(v, n, c, h, w).to(DType.F32);
            var res = x.maxPool2d(2, 2, ConvParams.of(2, 0));
            double[] got = res.values().toDoubleArray();
            long[] at = res.indices().toLongArray();
            for (int plane = 0; plane < n * c; plane++) {
                for (int y = 0; y < oh; y++) {
                    for (int xo = 0; xo < ow; xo++) {
                        int k = (plane * oh + y) * ow + xo, bestAt = -1;
                        double best = Double.NEGATIVE_INFINITY;
                        for (int i = 0; i < 2; i++) {
                            for (int j = 0; j < 2; j++) {
                                int pos = (2 * y + i) * w + 2 * xo + j;
                                double e = v[plane * h * w + pos];
                                if (bestAt < 0 || e > best || Double.isNaN(e)) { best = e; bestAt = pos; }
                            }
                        }
                        assertEquals(bestAt, at[k], "index of window " + k);
                        assertEquals(best, got[k], "value of window " + k);
                    }
                }
            }
        }
    }

    @Test void maxPoolBackwardAddsWhereWindowsShareAMaximum() {
        try (var scope = MemoryScope.open()) {
            // 3x3 with the maximum in the centre: all four 2x2 windows pick position 4, whose gradient sums them.
            NDArray x = NDArray.of(new double[] {0, 0, 0, 0, 9, 0, 0, 0, 0}, 1, 1, 3, 3);
            var r = x.maxPool2d(2, 2, ConvParams.of(1, 0));
            NDArray g = NDArray.of(new double[] {1, 2, 3, 4}, 1, 1, 2, 2);
            NDArray gi = NDArray.maxPool2dBackward(g, r.indices(), x.shape());
            assertArrayEquals(new double[] {0, 0, 0, 0, 10, 0, 0, 0, 0}, gi.toDoubleArray());
        }
    }

    // ------------------------------------------------------------------ against naive loops

    record Pool(int n, int c, int h, int w, int kh, int kw, ConvParams p) {
        int oh(int dil) { return (int) ConvParams.outSize(h, kh, p.strideH(), p.padH(), dil); }
        int ow(int dil) { return (int) ConvParams.outSize(w, kw, p.strideW(), p.padW(), dil); }
    }

    static final Pool[] POOLS = {
        new Pool(2, 3, 8, 8, 2, 2, ConvParams.of(2, 0)),
        new Pool(2, 2, 9, 7, 3, 3, ConvParams.of(2, 1)),
        new Pool(1, 3, 10, 9, 3, 2, new ConvParams(1, 2, 1, 1, 2, 2, 1)),  // dilation 2, uneven strides
        new Pool(3, 2, 5, 6, 3, 3, ConvParams.of(1, 1)),                   // overlapping windows
        new Pool(1, 1, 1, 1, 1, 1, ConvParams.of(1, 0)),
    };

    @Test void maxPoolForwardAndBackwardInEveryDtype() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
            long seed = 0;
            for (Pool q : POOLS) {
                try (var scope = MemoryScope.open()) {
                    NDArray x = random(dt, ++seed, q.n, q.c, q.h, q.w);
                    var r = x.maxPool2d(q.kh, q.kw, q.p);
                    double[] xv = x.toDoubleArray(), got = r.values().toDoubleArray();
                    long[] idx = r.indices().toLongArray();
                    int oh = q.oh(q.p.dilationH()), ow = q.ow(q.p.dilationW());
                    NDArray g = random(dt, ++seed, q.n, q.c, oh, ow);
                    double[] gv = g.toDoubleArray(), refGrad = new double[xv.length];
                    int k = 0;
                    for (int plane = 0; plane < q.n * q.c; plane++) {
                        for (int y = 0; y < oh; y++) for (int xo = 0; xo < ow; xo++, k++) {
                            double best = Double.NEGATIVE_INFINITY;
                            int at = -1;
                            for (int i = 0; i < q.kh; i++) for (int j = 0; j < q.kw; j++) {
                                int ih = y * q.p.strideH() - q.p.padH() + i * q.p.dilationH();
                                int iw = xo * q.p.strideW() - q.p.padW() + j * q.p.dilationW();
                                if (ih < 0 || ih >= q.h || iw < 0 || iw >= q.w) continue;
                                double v = xv[plane * q.h * q.w + ih * q.w + iw];
                                if (at < 0 || v > best) { best = v; at = ih * q.w + iw; }
                            }
                            assertEquals(best, got[k], 0.0, dt + " " + q + " value " + k);
                            assertEquals(at, idx[k], dt + " " + q + " index " + k);
                            refGrad[plane * q.h * q.w + at] += gv[k];
                        }
                    }
                    NDArray gi = NDArray.maxPool2dBackward(g, r.indices(), x.shape());
                    assertArrayEquals(roundTo(dt, refGrad), gi.toDoubleArray(), 0.0, dt + " " + q + " backward");
                }
            }
        }
    }

    @Test void avgPoolForwardAndBackwardInEveryDtype() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
            for (boolean includePad : new boolean[] {true, false}) {
                long seed = 50;
                for (Pool q : POOLS) {
                    try (var scope = MemoryScope.open()) {
                        NDArray x = random(dt, ++seed, q.n, q.c, q.h, q.w);
                        double[] xv = x.toDoubleArray(), got = x.avgPool2d(q.kh, q.kw, q.p, includePad).toDoubleArray();
                        int oh = q.oh(1), ow = q.ow(1);
                        NDArray g = random(dt, ++seed, q.n, q.c, oh, ow);
                        double[] gv = g.toDoubleArray(), ref = new double[got.length], refGrad = new double[xv.length];
                        int k = 0;
                        for (int plane = 0; plane < q.n * q.c; plane++) {
                            for (int y = 0; y < oh; y++) for (int xo = 0; xo < ow; xo++, k++) {
                                double sum = 0;
                                int inside = 0, padded = 0;
                                for (int i = 0; i < q.kh; i++) for (int j = 0; j < q.kw; j++) {
                                    int ih = y * q.p.strideH() - q.p.padH() + i, iw = xo * q.p.strideW() - q.p.padW() + j;
                                    // PyTorch's divisor with padding counts taps inside the padded input only.
                                    if (ih < q.h + q.p.padH() && iw < q.w + q.p.padW()) padded++;
                                    if (ih < 0 || ih >= q.h || iw < 0 || iw >= q.w) continue;
                                    sum += xv[plane * q.h * q.w + ih * q.w + iw];
                                    inside++;
                                }
                                int div = includePad ? padded : inside;
                                ref[k] = sum / div;
                                for (int i = 0; i < q.kh; i++) for (int j = 0; j < q.kw; j++) {
                                    int ih = y * q.p.strideH() - q.p.padH() + i, iw = xo * q.p.strideW() - q.p.padW() + j;
                                    if (ih < 0 || ih >= q.h || iw < 0 || iw >= q.w) continue;
                                    refGrad[plane * q.h * q.w + ih * q.w + iw] += gv[k] / div;
                                }
                            }
                        }
                        double tol = dt == DType.F64 ? 1e-14 : dt == DType.F32 ? 1e-6 : dt == DType.F16 ? 2e-3 : 1.6e-2;
                        assertArrayEquals(ref, got, tol, dt + " " + q + " includePad=" + includePad);
                        NDArray gi = NDArray.avgPool2dBackward(g, q.kh, q.kw, q.p, includePad, x.shape());
                        assertArrayEquals(refGrad, gi.toDoubleArray(), tol * 4, dt + " " + q + " backward includePad=" + includePad);
                    }
                }
            }
        }
    }

    /** Values rounded to dt (the accumulation is exact in double; only the final store rounds). */
    static double[] roundTo(DType dt, double[] v) {
        try (NDArray a = NDArray.of(v, v.length); NDArray r = a.to(dt)) {
            return r.toDoubleArray();
        }
    }

    @Test void stridedInputIsReadThroughItsStrides() {
        try (var scope = MemoryScope.open()) {
            NDArray nhwc = random(DType.F32, 77, 2, 6, 6, 3);
            NDArray x = nhwc.permute(0, 3, 1, 2);
            NDArray xc = x.contiguous();
            assertArrayEquals(xc.maxPool2d(2, 2, ConvParams.of(2, 0)).values().toDoubleArray(),
                    x.maxPool2d(2, 2, ConvParams.of(2, 0)).values().toDoubleArray(), 0.0);
            assertArrayEquals(xc.avgPool2d(3, 3, ConvParams.of(1, 1), false).toDoubleArray(),
                    x.avgPool2d(3, 3, ConvParams.of(1, 1), false).toDoubleArray(), 0.0);
        }
    }

    @Test void badIndicesAreReported() {
        try (var scope = MemoryScope.open()) {
            NDArray g = NDArray.ones(1, 1, 1, 1);
            NDArray idx = NDArray.of(new long[] {9}, 1, 1, 1, 1);
            NDArray gi = NDArray.empty(DType.F32, 1, 1, 2, 2);
            var e = assertThrows(IndexOutOfBoundsException.class, () -> CpuConv.maxPool2dBackward(g, idx, gi));
            assertTrue(e.getMessage().startsWith("maxPool2dBackward:"), e.getMessage());
        }
    }
}
