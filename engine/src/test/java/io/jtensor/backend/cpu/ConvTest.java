package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * conv2d and its two gradients against naive double-precision loops written from the definition, over stride,
 * padding, dilation, groups (including depthwise), 1x1 kernels, non-contiguous inputs and every floating dtype;
 * plus the adjoint identity that ties the three together.
 */
class ConvTest {
    /** One convolution problem. */
    record Case(int n, int c, int h, int w, int o, int kh, int kw, ConvParams p) {
        int oh() { return (int) ConvParams.outSize(h, kh, p.strideH(), p.padH(), p.dilationH()); }
        int ow() { return (int) ConvParams.outSize(w, kw, p.strideW(), p.padW(), p.dilationW()); }
        int cg() { return c / p.groups(); }
        int og() { return o / p.groups(); }
        long[] xShape() { return new long[] {n, c, h, w}; }
        long[] wShape() { return new long[] {o, cg(), kh, kw}; }
        long[] outShape() { return new long[] {n, o, oh(), ow()}; }
        @Override public String toString() { return "x[" + n + "," + c + "," + h + "," + w + "] w[" + o + "," + cg() + "," + kh + "," + kw + "] " + p; }
    }

    static Case c(int n, int c, int h, int w, int o, int kh, int kw, int stride, int pad, int dil, int groups) {
        return new Case(n, c, h, w, o, kh, kw, new ConvParams(stride, stride, pad, pad, dil, dil, groups));
    }

    static final Case[] CASES = {
        c(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1),     // same-size 3x3
        c(2, 3, 9, 8, 5, 3, 3, 2, 1, 1, 1),     // stride 2 with padding
        c(1, 2, 11, 10, 3, 3, 2, 1, 2, 2, 1),   // dilation 2, non-square kernel, padding 2
        c(3, 4, 6, 7, 6, 3, 3, 1, 1, 1, 2),     // groups 2
        c(2, 5, 8, 8, 5, 3, 3, 2, 1, 1, 5),     // depthwise
        c(2, 6, 5, 7, 4, 1, 1, 1, 0, 1, 2),     // 1x1 (no unfolding), grouped
        c(2, 3, 6, 5, 4, 1, 1, 2, 0, 1, 1),     // 1x1 with stride: unfolded
        c(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),     // 1x1x1x1
        new Case(2, 3, 9, 10, 2, 3, 5, new ConvParams(2, 1, 0, 2, 1, 2, 1)), // different H and W geometry
        c(3, 1, 28, 28, 6, 5, 5, 1, 2, 1, 1),   // LeNet's first layer: the wide-column forward over a padded image
        c(3, 6, 12, 12, 16, 5, 5, 1, 0, 1, 1),  // LeNet's second layer: wide columns without padding
        new Case(2, 2, 6, 9, 3, 2, 4, new ConvParams(1, 1, 1, 0, 1, 1, 1)), // wide columns, padding in H only
    };

    static double roundoff(DType dt) {
        return switch (dt) {
            case F64 -> 0x1p-53;
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> 0x1p-24;
        };
    }

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

    /** Results of a reference loop: the values and, per element, the sum of the magnitudes of the terms. */
    record Ref(double[] value, double[] abs, int terms) {}

    /** Index of input pixel under tap (i, j) for output (y, x), or -1 in the padding. */
    static int inputPixel(Case k, int y, int x, int i, int j) {
        int ih = y * k.p.strideH() - k.p.padH() + i * k.p.dilationH();
        int iw = x * k.p.strideW() - k.p.padW() + j * k.p.dilationW();
        return ih < 0 || ih >= k.h || iw < 0 || iw >= k.w ? -1 : ih * k.w + iw;
    }

    static Ref forwardRef(Case k, double[] x, double[] w) {
        int oh = k.oh(), ow = k.ow();
        double[] out = new double[k.n * k.o * oh * ow], abs = new double[out.length];
        for (int n = 0; n < k.n; n++) for (int o = 0; o < k.o; o++) for (int y = 0; y < oh; y++) for (int xo = 0; xo < ow; xo++) {
            int g = o / k.og(), idx = ((n * k.o + o) * oh + y) * ow + xo;
            for (int ci = 0; ci < k.cg(); ci++) for (int i = 0; i < k.kh; i++) for (int j = 0; j < k.kw; j++) {
                int pix = inputPixel(k, y, xo, i, j);
                if (pix < 0) continue;
                double t = x[(n * k.c + g * k.cg() + ci) * k.h * k.w + pix] * w[((o * k.cg() + ci) * k.kh + i) * k.kw + j];
                out[idx] += t;
                abs[idx] += Math.abs(t);
            }
        }
        return new Ref(out, abs, k.cg() * k.kh * k.kw);
    }

    static Ref backwardInputRef(Case k, double[] gOut, double[] w) {
        int oh = k.oh(), ow = k.ow();
        double[] gi = new double[k.n * k.c * k.h * k.w], abs = new double[gi.length];
        for (int n = 0; n < k.n; n++) for (int o = 0; o < k.o; o++) for (int y = 0; y < oh; y++) for (int xo = 0; xo < ow; xo++) {
            int g = o / k.og();
            double go = gOut[((n * k.o + o) * oh + y) * ow + xo];
            for (int ci = 0; ci < k.cg(); ci++) for (int i = 0; i < k.kh; i++) for (int j = 0; j < k.kw; j++) {
                int pix = inputPixel(k, y, xo, i, j);
                if (pix < 0) continue;
                int idx = (n * k.c + g * k.cg() + ci) * k.h * k.w + pix;
                double t = go * w[((o * k.cg() + ci) * k.kh + i) * k.kw + j];
                gi[idx] += t;
                abs[idx] += Math.abs(t);
            }
        }
        return new Ref(gi, abs, k.og() * k.kh * k.kw);
    }

    static Ref backwardWeightRef(Case k, double[] x, double[] gOut) {
        int oh = k.oh(), ow = k.ow();
        double[] gw = new double[k.o * k.cg() * k.kh * k.kw], abs = new double[gw.length];
        for (int n = 0; n < k.n; n++) for (int o = 0; o < k.o; o++) for (int y = 0; y < oh; y++) for (int xo = 0; xo < ow; xo++) {
            int g = o / k.og();
            double go = gOut[((n * k.o + o) * oh + y) * ow + xo];
            for (int ci = 0; ci < k.cg(); ci++) for (int i = 0; i < k.kh; i++) for (int j = 0; j < k.kw; j++) {
                int pix = inputPixel(k, y, xo, i, j);
                if (pix < 0) continue;
                int idx = ((o * k.cg() + ci) * k.kh + i) * k.kw + j;
                double t = go * x[(n * k.c + g * k.cg() + ci) * k.h * k.w + pix];
                gw[idx] += t;
                abs[idx] += Math.abs(t);
            }
        }
        return new Ref(gw, abs, k.n * oh * ow);
    }

    /**
     * got within the error of an F32 (or F64) sum of the terms, then rounded to dt. The bound grows with the
     * square root of the number of terms (random rounding errors; the blocked sums never chain more than a few
     * hundred of them), capped by the worst case (terms + 2) * u, which is far too loose for the weight
     * gradient's tens of thousands of terms.
     */
    static void assertClose(String what, DType dt, Ref ref, double[] got) {
        assertEquals(ref.value().length, got.length, what + ": element count");
        double accU = dt == DType.F64 ? 0x1p-53 : 0x1p-24, outU = roundoff(dt);
        for (int i = 0; i < got.length; i++) {
            double acc = Math.min(ref.terms() + 2, 8 * Math.sqrt(ref.terms()) + 16) * accU * ref.abs()[i];
            double tol = acc + outU * (Math.abs(ref.value()[i]) + acc) * 1.001 + Double.MIN_NORMAL;
            if (!(Math.abs(got[i] - ref.value()[i]) <= tol)) {
                throw new AssertionError(what + " " + dt + " at " + i + ": got " + got[i] + ", expected " + ref.value()[i] + " +- " + tol);
            }
        }
    }

    static void checkAll(Case k, DType dt, NDArray x, NDArray w, NDArray gOut) {
        double[] xv = x.toDoubleArray(), wv = w.toDoubleArray(), gv = gOut.toDoubleArray();
        try (NDArray y = NDArray.conv2d(x, w, null, k.p());
             NDArray gi = NDArray.conv2dBackwardInput(gOut, w, k.xShape(), k.p());
             NDArray gw = NDArray.conv2dBackwardWeight(x, gOut, k.wShape(), k.p())) {
            assertClose("conv2d " + k, dt, forwardRef(k, xv, wv), y.toDoubleArray());
            assertClose("conv2dBackwardInput " + k, dt, backwardInputRef(k, gv, wv), gi.toDoubleArray());
            assertClose("conv2dBackwardWeight " + k, dt, backwardWeightRef(k, xv, gv), gw.toDoubleArray());
        }
    }

    @Test void allGeometriesInF32AndF64() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            int seed = 0;
            for (Case k : CASES) {
                try (var scope = MemoryScope.open()) {
                    checkAll(k, dt, random(dt, ++seed, k.xShape()), random(dt, ++seed, k.wShape()), random(dt, ++seed, k.outShape()));
                }
            }
        }
    }

    @Test void halfPrecisionComputesInF32AndRoundsOnce() {
        for (DType dt : new DType[] {DType.F16, DType.BF16}) {
            for (Case k : new Case[] {CASES[1], CASES[3], CASES[5]}) {
                try (var scope = MemoryScope.open()) {
                    checkAll(k, dt, random(dt, 7, k.xShape()), random(dt, 8, k.wShape()), random(dt, 9, k.outShape()));
                }
            }
        }
    }

    @Test void nonContiguousInputsAndBroadcastGradient() {
        for (Case k : new Case[] {CASES[0], CASES[3], CASES[5]}) {
            try (var scope = MemoryScope.open()) {
                // x stored channels-last and permuted to NCHW; w stored [kh, kw, cg, o]; gradOut broadcast over the batch.
                NDArray xNhwc = random(DType.F32, 21, k.n, k.h, k.w, k.c);
                NDArray x = xNhwc.permute(0, 3, 1, 2);
                NDArray wStored = random(DType.F32, 22, k.kh, k.kw, k.cg(), k.o);
                NDArray w = wStored.permute(3, 2, 0, 1);
                NDArray g1 = random(DType.F32, 23, 1, k.o, k.oh(), k.ow());
                NDArray gOut = g1.expand(k.outShape());
                assertTrue(!x.isContiguous() && !w.isContiguous() && gOut.strides()[0] == 0);
                checkAll(k, DType.F32, x, w, gOut);
            }
        }
    }

    /**
     * An infinite pixel makes exactly the weight-gradient entries whose taps read it infinite. The wide-column path
     * would also multiply it by the zero gradient of its extra columns (0 * inf = NaN) in entries that never read
     * it, so an image that is not finite must take the ordinary path.
     */
    @Test void weightGradientOfAnInfiniteImageHasInfinityOnlyWhereTapsReadIt() {
        Case k = c(2, 2, 6, 7, 3, 3, 3, 1, 0, 1, 1);
        try (var scope = MemoryScope.open()) {
            double[] xv = random(DType.F64, 31, k.xShape()).toDoubleArray();
            xv[k.w] = Double.POSITIVE_INFINITY; // image 0, channel 0, pixel (1, 0): the first pixel a wrapped extra column reads
            double[] gv = random(DType.F64, 32, k.outShape()).toDoubleArray();
            Ref ref = backwardWeightRef(k, xv, gv);
            try (NDArray x = NDArray.of(xv, k.xShape()).to(DType.F32); NDArray g = NDArray.of(gv, k.outShape()).to(DType.F32);
                 NDArray gw = NDArray.conv2dBackwardWeight(x, g, k.wShape(), k.p())) {
                double[] got = gw.toDoubleArray();
                int infinite = 0;
                for (int i = 0; i < got.length; i++) {
                    if (Double.isFinite(ref.value()[i])) {
                        assertEquals(ref.value()[i], got[i], 1e-5 * (ref.abs()[i] + 1), "gradW at " + i);
                    } else {
                        infinite++;
                        assertEquals(ref.value()[i], got[i], "gradW at " + i);
                    }
                }
                assertEquals(2 * k.o, infinite, "taps (0,0) and (1,0) of channel 0 read pixel (1,0), for every output channel");
            }
        }
    }

    /** Likewise the input gradient of an infinite weight: the wide path's extra columns would be 0 * inf = NaN. */
    @Test void inputGradientOfAnInfiniteWeightHasInfinityOnlyWhereTapsReadIt() {
        Case k = c(2, 2, 6, 7, 3, 3, 3, 1, 1, 1, 1);
        try (var scope = MemoryScope.open()) {
            double[] wv = random(DType.F64, 33, k.wShape()).toDoubleArray();
            wv[0] = Double.NEGATIVE_INFINITY; // output 0, channel 0, tap (0, 0)
            double[] gv = random(DType.F64, 34, k.outShape()).toDoubleArray();
            Ref ref = backwardInputRef(k, gv, wv);
            try (NDArray w = NDArray.of(wv, k.wShape()).to(DType.F32); NDArray g = NDArray.of(gv, k.outShape()).to(DType.F32);
                 NDArray gi = NDArray.conv2dBackwardInput(g, w, k.xShape(), k.p())) {
                double[] got = gi.toDoubleArray();
                int finite = 0;
                for (int i = 0; i < got.length; i++) {
                    if (Double.isFinite(ref.value()[i])) {
                        finite++;
                        assertEquals(ref.value()[i], got[i], 1e-5 * (ref.abs()[i] + 1), "gradIn at " + i);
                    } else {
                        assertEquals(ref.value()[i], got[i], "gradIn at " + i);
                    }
                }
                // Channel 1 never meets the infinite tap; in channel 0 only the last row and column escape it.
                assertEquals(k.n * (k.h * k.w + k.h + k.w - 1), finite, "finite input-gradient entries");
            }
        }
    }

    @Test void leNetSizedLayers() {
        Case conv1 = c(16, 1, 28, 28, 6, 5, 5, 1, 0, 1, 1), conv2 = c(16, 6, 12, 12, 16, 5, 5, 1, 0, 1, 1);
        for (Case k : new Case[] {conv1, conv2}) {
            try (var scope = MemoryScope.open()) {
                checkAll(k, DType.F32, random(DType.F32, 31, k.xShape()), random(DType.F32, 32, k.wShape()), random(DType.F32, 33, k.outShape()));
            }
        }
    }

    /**
     * Layers larger than the GEMM's blocks (K = 270 > KC = 256 rows of columns, 50 x 52 = 2600 > NC = 2048 wide
     * output columns, 14 output channels: a 12-row and a 2-row panel), packed straight from the padded image; one
     * image alone takes the path that splits a single product over the threads.
     */
    @Test void layersLargerThanTheGemmBlocks() {
        Case batch = c(2, 30, 50, 50, 14, 3, 3, 1, 1, 1, 1), single = c(1, 30, 50, 50, 14, 3, 3, 1, 1, 1, 1);
        for (Case k : new Case[] {batch, single}) {
            try (var scope = MemoryScope.open()) {
                checkAll(k, DType.F32, random(DType.F32, 41, k.xShape()), random(DType.F32, 42, k.wShape()), random(DType.F32, 43, k.outShape()));
            }
        }
    }

    /** <conv(x, w), g> = <x, convBackInput(g, w)> = <w, convBackWeight(x, g)>, in F64 to 1e-12. */
    @Test void adjointIdentity() {
        int seed = 100;
        for (Case k : CASES) {
            try (var scope = MemoryScope.open()) {
                NDArray x = random(DType.F64, ++seed, k.xShape()), w = random(DType.F64, ++seed, k.wShape());
                NDArray g = random(DType.F64, ++seed, k.outShape());
                double lhs = dot(NDArray.conv2d(x, w, null, k.p()), g);
                double viaInput = dot(x, NDArray.conv2dBackwardInput(g, w, k.xShape(), k.p()));
                double viaWeight = dot(w, NDArray.conv2dBackwardWeight(x, g, k.wShape(), k.p()));
                double scale = Math.max(1, Math.abs(lhs));
                assertEquals(lhs, viaInput, 1e-12 * scale, "<conv(x,w),g> vs <x,backInput> for " + k);
                assertEquals(lhs, viaWeight, 1e-12 * scale, "<conv(x,w),g> vs <w,backWeight> for " + k);
            }
        }
    }

    static double dot(NDArray a, NDArray b) {
        double[] av = a.toDoubleArray(), bv = b.toDoubleArray();
        assertEquals(av.length, bv.length);
        double s = 0;
        for (int i = 0; i < av.length; i++) s += av[i] * bv[i];
        return s;
    }

    @Test void gradientsOverwriteWhateverTheOutputHeld() {
        Case k = CASES[1];
        try (var scope = MemoryScope.open()) {
            NDArray x = random(DType.F32, 41, k.xShape()), w = random(DType.F32, 42, k.wShape()), g = random(DType.F32, 43, k.outShape());
            NDArray gi = NDArray.full(5, DType.F32, x.device(), k.xShape()), gw = NDArray.full(5, DType.F32, x.device(), k.wShape());
            x.backend().conv2dBackwardInput(g, w, gi, k.p());
            x.backend().conv2dBackwardWeight(x, g, gw, k.p());
            assertClose("backInput", DType.F32, backwardInputRef(k, g.toDoubleArray(), w.toDoubleArray()), gi.toDoubleArray());
            assertClose("backWeight", DType.F32, backwardWeightRef(k, x.toDoubleArray(), g.toDoubleArray()), gw.toDoubleArray());
        }
    }

    @Test void mismatchedShapesNameTheOp() {
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.empty(DType.F32, 1, 4, 5, 5), w = NDArray.empty(DType.F32, 2, 3, 3, 3), out = NDArray.empty(DType.F32, 1, 2, 3, 3);
            var e = assertThrows(IllegalArgumentException.class, () -> CpuConv.conv2d(x, w, out, ConvParams.of(1, 0)));
            assertTrue(e.getMessage().startsWith("conv2d:"), e.getMessage());
            NDArray w2 = NDArray.empty(DType.F32, 2, 4, 3, 3), badOut = NDArray.empty(DType.F32, 1, 2, 4, 4);
            var e2 = assertThrows(IllegalArgumentException.class, () -> CpuConv.conv2d(x, w2, badOut, ConvParams.of(1, 0)));
            assertTrue(e2.getMessage().contains("[1, 2, 3, 3]"), e2.getMessage());
        }
    }
}
