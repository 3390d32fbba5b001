package io.jtensor.nn;

import static io.jtensor.nn.NnTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;
import org.junit.jupiter.api.Test;

/** Conv2d and the pooling layers against direct loops over their definitions. */
class ConvPoolTest {
    /** Direct cross-correlation with zero padding, stride, dilation and groups. */
    private static double[] conv(double[] x, int n, int c, int h, int w, double[] wt, double[] bias, int o, int kh, int kw,
                                 int stride, int pad, int dil, int groups, int oh, int ow) {
        double[] out = new double[n * o * oh * ow];
        int cg = c / groups, og = o / groups;
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / og;
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double s = bias == null ? 0 : bias[oc];
                        for (int ic = 0; ic < cg; ic++) {
                            for (int a = 0; a < kh; a++) {
                                for (int bb = 0; bb < kw; bb++) {
                                    int y = i * stride - pad + a * dil, z = j * stride - pad + bb * dil;
                                    if (y < 0 || y >= h || z < 0 || z >= w) continue;
                                    s += x[((b * c + g * cg + ic) * h + y) * w + z] * wt[((oc * cg + ic) * kh + a) * kw + bb];
                                }
                            }
                        }
                        out[((b * o + oc) * oh + i) * ow + j] = s;
                    }
                }
            }
        }
        return out;
    }

    private void checkConv(int c, int o, int k, int stride, int pad, int dil, int groups, boolean bias) {
        int n = 2, h = 6, w = 5;
        Conv2d conv = new Conv2d(c, o, k, stride, pad, dil, groups, bias);
        conv.to(DType.F64);
        double[] x = NnTesting.values(3, n * c * h * w);
        Tensor y = conv.forward(Tensor.of(x, n, c, h, w));
        int oh = (h + 2 * pad - dil * (k - 1) - 1) / stride + 1, ow = (w + 2 * pad - dil * (k - 1) - 1) / stride + 1;
        assertArrayEquals(new long[] {n, o, oh, ow}, y.shape());
        double[] expected = conv(x, n, c, h, w, conv.weight().toDoubleArray(), bias ? conv.bias().toDoubleArray() : null, o, k, k,
                stride, pad, dil, groups, oh, ow);
        assertClose(expected, y, 1e-12, "conv c=" + c + " o=" + o + " k=" + k + " s=" + stride + " p=" + pad + " d=" + dil + " g=" + groups);
    }

    @Test void convolutionMatchesTheDefinition() {
        checkConv(2, 3, 3, 1, 0, 1, 1, true);
        checkConv(2, 3, 3, 2, 1, 1, 1, true);
        checkConv(3, 2, 2, 1, 2, 2, 1, false);
        checkConv(4, 6, 3, 1, 1, 1, 2, true);
        checkConv(2, 2, 1, 1, 0, 1, 2, false);
    }

    @Test void convolutionInitAndShapeErrors() {
        Conv2d conv = new Conv2d(3, 4, 5, 1, 2, true);
        double bound = 1 / Math.sqrt(3 * 25);
        for (double v : conv.weight().toDoubleArray()) assertTrue(Math.abs(v) <= bound);
        for (double v : conv.bias().toDoubleArray()) assertTrue(Math.abs(v) <= bound);
        var e = assertThrows(IllegalArgumentException.class, () -> conv.forward(NnTesting.f32(1, 1, 2, 8, 8)));
        assertTrue(e.getMessage().contains("Conv2d"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 4, 3, 1, 0, 1, 2, true));
    }

    @Test void convolutionGradients() {
        Conv2d conv = new Conv2d(2, 4, 3, 2, 1, 1, 2, true);
        NnTesting.gradCheckModule(conv, NnTesting.f64(4, 1, 2, 5, 4));
        Conv2d dilated = new Conv2d(1, 2, 2, 1, 1, 2, 1, false);
        NnTesting.gradCheckModule(dilated, NnTesting.f64(5, 2, 1, 4, 4));
    }

    /** Max or average over windows; average divides by the window size inside the padded input when countPad. */
    private static double[] pool(double[] x, int n, int c, int h, int w, int k, int stride, int pad, boolean max, boolean countPad) {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        double[] out = new double[n * c * oh * ow];
        for (int p = 0; p < n * c; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double best = Double.NEGATIVE_INFINITY, sum = 0;
                    int count = 0;
                    for (int a = 0; a < k; a++) {
                        for (int b = 0; b < k; b++) {
                            int y = i * stride - pad + a, z = j * stride - pad + b;
                            if (y < 0 || y >= h || z < 0 || z >= w) continue;
                            double v = x[(p * h + y) * w + z];
                            best = Math.max(best, v);
                            sum += v;
                            count++;
                        }
                    }
                    int y0 = i * stride - pad, z0 = j * stride - pad;
                    int padded = (Math.min(y0 + k, h + pad) - y0) * (Math.min(z0 + k, w + pad) - z0);
                    out[(p * oh + i) * ow + j] = max ? best : sum / (countPad ? padded : count);
                }
            }
        }
        return out;
    }

    @Test void maxPoolingMatchesTheDefinition() {
        double[] x = NnTesting.values(6, 2 * 3 * 6 * 5);
        Tensor t = Tensor.of(x, 2, 3, 6, 5);
        assertClose(pool(x, 2, 3, 6, 5, 2, 2, 0, true, false), new MaxPool2d(2).forward(t), 0, "max 2/2");
        assertClose(pool(x, 2, 3, 6, 5, 3, 2, 1, true, false), new MaxPool2d(3, 2, 1).forward(t), 0, "max 3/2 pad 1");
        NnTesting.gradCheckModule(new MaxPool2d(2, 1), NnTesting.f64(7, 1, 2, 4, 4));
    }

    @Test void averagePoolingWithAndWithoutPaddingInTheDivisor() {
        double[] x = NnTesting.values(8, 1 * 2 * 5 * 5);
        Tensor t = Tensor.of(x, 1, 2, 5, 5);
        assertClose(pool(x, 1, 2, 5, 5, 2, 2, 0, false, true), new AvgPool2d(2).forward(t), 1e-12, "avg 2/2");
        assertClose(pool(x, 1, 2, 5, 5, 3, 2, 1, false, true), new AvgPool2d(3, 2, 1, true).forward(t), 1e-12, "avg pad counted");
        assertClose(pool(x, 1, 2, 5, 5, 3, 2, 1, false, false), new AvgPool2d(3, 2, 1, false).forward(t), 1e-12, "avg pad not counted");
        NnTesting.gradCheckModule(new AvgPool2d(3, 2, 1, false), NnTesting.f64(9, 1, 2, 5, 5));
    }

    /** Adaptive average pooling by PyTorch's cell bounds floor(i*n/out) .. ceil((i+1)*n/out). */
    private static double[] adaptive(double[] x, int planes, int h, int w, int oh, int ow) {
        double[] out = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                int y0 = (i * h) / oh, y1 = ((i + 1) * h + oh - 1) / oh;
                for (int j = 0; j < ow; j++) {
                    int z0 = (j * w) / ow, z1 = ((j + 1) * w + ow - 1) / ow;
                    double s = 0;
                    for (int y = y0; y < y1; y++) for (int z = z0; z < z1; z++) s += x[(p * h + y) * w + z];
                    out[(p * oh + i) * ow + j] = s / ((y1 - y0) * (z1 - z0));
                }
            }
        }
        return out;
    }

    @Test void adaptiveAveragePoolingForAnyOutputSize() {
        double[] x = NnTesting.values(10, 2 * 2 * 5 * 7);
        Tensor t = Tensor.of(x, 2, 2, 5, 7);
        assertClose(adaptive(x, 4, 5, 7, 2, 3), new AdaptiveAvgPool2d(2, 3).forward(t), 1e-12, "5x7 -> 2x3");
        assertClose(adaptive(x, 4, 5, 7, 1, 1), new AdaptiveAvgPool2d(1).forward(t), 1e-12, "global");
        double[] y = NnTesting.values(11, 1 * 1 * 4 * 6);
        assertClose(adaptive(y, 1, 4, 6, 2, 3), new AdaptiveAvgPool2d(2, 3).forward(Tensor.of(y, 1, 1, 4, 6)), 1e-12, "divisible");
        assertArrayEquals(new long[] {2, 2, 1, 1}, new AdaptiveAvgPool2d(1).forward(t).shape());
        NnTesting.gradCheckModule(new AdaptiveAvgPool2d(2, 3), NnTesting.f64(12, 1, 1, 5, 4));
        NnTesting.gradCheckModule(new AdaptiveAvgPool2d(2), NnTesting.f64(13, 1, 1, 4, 4));
    }

    @Test void convolutionWithExplicitParams() {
        Conv2d conv = new Conv2d(1, 1, 2, 3, new ConvParams(1, 2, 0, 1, 1, 1, 1), false, new Generator(1));
        assertArrayEquals(new long[] {1, 1, 3, 3}, conv.forward(NnTesting.f32(1, 1, 1, 4, 5)).shape());
    }
}
