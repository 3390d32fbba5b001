package io.jtensor.nn;

import static io.jtensor.nn.NnTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MultiheadAttention and TransformerEncoderLayer against plain-Java softmax(QK^T/sqrt(d))V. */
class AttentionTest {
    /** rows x [n][in] times W^T [out][in] plus b. */
    private static double[][] linear(double[][] x, double[] w, double[] b, int wOffsetRows, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[wOffsetRows + o];
                for (int k = 0; k < in; k++) s += x[i][k] * w[(wOffsetRows + o) * in + k];
                y[i][o] = s;
            }
        }
        return y;
    }

    /**
     * Reference attention of one sample: q [T][E], kv [S][E]; hidden[t][s] true = masked. Returns {output [T][E],
     * head-averaged weights [T][S]}.
     */
    private static double[][][] attention(MultiheadAttention m, double[][] q, double[][] k, double[][] v, boolean[][] hidden, int heads) {
        int e = q[0].length, d = e / heads, t = q.length, s = k.length;
        double[] w = m.inProjWeight().toDoubleArray(), b = m.inProjBias().toDoubleArray();
        double[][] qp = linear(q, w, b, 0, e), kp = linear(k, w, b, e, e), vp = linear(v, w, b, 2 * e, e);
        double[][] merged = new double[t][e], avg = new double[t][s];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < t; i++) {
                double[] score = new double[s];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) dot += qp[i][h * d + c] * kp[j][h * d + c];
                    score[j] = hidden != null && hidden[i][j] ? Double.NEGATIVE_INFINITY : dot / Math.sqrt(d);
                    max = Math.max(max, score[j]);
                }
                double z = 0;
                for (int j = 0; j < s; j++) z += Math.exp(score[j] - max);
                for (int j = 0; j < s; j++) {
                    double p = Math.exp(score[j] - max) / z;
                    avg[i][j] += p / heads;
                    for (int c = 0; c < d; c++) merged[i][h * d + c] += p * vp[j][h * d + c];
                }
            }
        }
        double[][] out = linear(merged, m.outProj().weight().toDoubleArray(), m.outProj().bias().toDoubleArray(), 0, e);
        return new double[][][] {out, avg};
    }

    private static double[][] sample(double[] flat, int b, int len, int e) {
        double[][] out = new double[len][e];
        for (int i = 0; i < len; i++) System.arraycopy(flat, (b * len + i) * e, out[i], 0, e);
        return out;
    }

    private static double[] flatten(List<double[][]> rows) {
        List<Double> out = new ArrayList<>();
        for (double[][] m : rows) for (double[] r : m) for (double v : r) out.add(v);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static MultiheadAttention mha(long seed) {
        MultiheadAttention m = new MultiheadAttention(4, 2, 0, true, true, new Generator(seed));
        m.to(DType.F64);
        // Non-zero biases, so that the test sees them used (they start at zero).
        NnTesting.set(m.inProjBias(), NnTesting.values(seed + 100, 12));
        NnTesting.set(m.outProj().bias(), NnTesting.values(seed + 200, 4));
        return m;
    }

    @Test void selfAttentionMatchesTheDefinition() {
        MultiheadAttention m = mha(1);
        int b = 2, t = 3, e = 4;
        double[] x = NnTesting.values(2, b * t * e);
        Tensor xt = Tensor.of(x, b, t, e);
        MultiheadAttention.Output out = m.forward(xt, xt, xt, null, true, false);
        List<double[][]> outs = new ArrayList<>(), weights = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            double[][][] r = attention(m, sample(x, i, t, e), sample(x, i, t, e), sample(x, i, t, e), null, 2);
            outs.add(r[0]);
            weights.add(r[1]);
        }
        assertClose(flatten(outs), out.output(), 1e-12, "output");
        assertArrayEquals(new long[] {b, t, t}, out.weights().shape());
        assertClose(flatten(weights), out.weights(), 1e-12, "head-averaged weights");
    }

    @Test void crossAttentionWithKeyPaddingAndCausalMasks() {
        MultiheadAttention m = mha(3);
        int b = 2, t = 3, s = 3, e = 4;
        double[] q = NnTesting.values(4, b * t * e), k = NnTesting.values(5, b * s * e), v = NnTesting.values(6, b * s * e);
        boolean[] pad = {false, false, true, false, true, false}; // sample 0 hides key 2; sample 1 hides key 1
        MultiheadAttention.Output out = m.forward(Tensor.of(q, b, t, e), Tensor.of(k, b, s, e), Tensor.of(v, b, s, e),
                Tensor.of(pad, b, s), true, true);
        List<double[][]> outs = new ArrayList<>(), weights = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            boolean[][] hidden = new boolean[t][s];
            for (int r = 0; r < t; r++) for (int c = 0; c < s; c++) hidden[r][c] = pad[i * s + c] || c > r;
            double[][][] r = attention(m, sample(q, i, t, e), sample(k, i, s, e), sample(v, i, s, e), hidden, 2);
            outs.add(r[0]);
            weights.add(r[1]);
        }
        assertClose(flatten(outs), out.output(), 1e-12, "masked output");
        assertClose(flatten(weights), out.weights(), 1e-12, "masked weights");
        // Sample 1, query 1 sees only key 0 (key 1 padded, key 2 in the future).
        assertEquals(1.0, out.weights().data().getDouble(1, 1, 0), 1e-12);
    }

    @Test void gradientsThroughMaskedAttention() {
        MultiheadAttention m = mha(7);
        Tensor pad = Tensor.of(new boolean[] {false, false, false, false, false, true}, 2, 3);
        NnTesting.gradCheckModule(m, x -> m.forward(x, x, x, pad, false, true).output(), NnTesting.f64(8, 2, 3, 4), () -> {});
    }

    @Test void parameterNamesAndInit() {
        MultiheadAttention m = new MultiheadAttention(8, 2, true);
        assertEquals(List.of("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"), new ArrayList<>(m.namedParameters().keySet()));
        for (double v : m.inProjBias().toDoubleArray()) assertEquals(0, v);
        for (double v : m.outProj().bias().toDoubleArray()) assertEquals(0, v);
        double bound = Math.sqrt(6.0 / (24 + 8));
        for (double v : m.inProjWeight().toDoubleArray()) assertTrue(Math.abs(v) <= bound);
        assertThrows(IllegalArgumentException.class, () -> new MultiheadAttention(6, 4));
        assertThrows(IllegalArgumentException.class, () -> m.forward(NnTesting.f32(1, 2, 3, 4)));
    }

    // ------------------------------------------------------------------ encoder layer

    private static double[][] layerNorm(double[][] x, LayerNorm ln) {
        double[] w = ln.weight().toDoubleArray(), b = ln.bias().toDoubleArray();
        double[][] y = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            int n = x[i].length;
            double mean = 0, var = 0;
            for (double v : x[i]) mean += v / n;
            for (double v : x[i]) var += (v - mean) * (v - mean) / n;
            for (int j = 0; j < n; j++) y[i][j] = (x[i][j] - mean) / Math.sqrt(var + 1e-5) * w[j] + b[j];
        }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] c = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) c[i][j] = a[i][j] + b[i][j];
        return c;
    }

    private static double[][] feedForward(TransformerEncoderLayer layer, double[][] x) {
        var mods = layer.namedChildren();
        Linear l1 = (Linear) mods.get("linear1"), l2 = (Linear) mods.get("linear2");
        double[][] h = linear(x, l1.weight().toDoubleArray(), l1.bias().toDoubleArray(), 0, (int) l1.outFeatures());
        for (double[] r : h) for (int j = 0; j < r.length; j++) r[j] = Math.max(0, r[j]);
        return linear(h, l2.weight().toDoubleArray(), l2.bias().toDoubleArray(), 0, (int) l2.outFeatures());
    }

    private void checkEncoderLayer(boolean normFirst) {
        TransformerEncoderLayer layer = new TransformerEncoderLayer(4, 2, 6, 0.0, TransformerEncoderLayer.Activation.RELU, 1e-5,
                true, normFirst, new Generator(11));
        layer.to(DType.F64);
        LayerNorm n1 = (LayerNorm) layer.namedChildren().get("norm1"), n2 = (LayerNorm) layer.namedChildren().get("norm2");
        NnTesting.set(n1.weight(), 1.2, 0.8, 1.0, 0.5);
        NnTesting.set(n2.bias(), 0.1, -0.1, 0.2, 0.0);
        int b = 2, t = 3, e = 4;
        double[] x = NnTesting.values(12, b * t * e);
        Tensor y = layer.forward(Tensor.of(x, b, t, e));
        List<double[][]> expected = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            double[][] s = sample(x, i, t, e);
            double[][] r;
            if (normFirst) {
                double[][] a = layerNorm(s, n1);
                r = add(s, attention(layer.selfAttn(), a, a, a, null, 2)[0]);
                r = add(r, feedForward(layer, layerNorm(r, n2)));
            } else {
                r = layerNorm(add(s, attention(layer.selfAttn(), s, s, s, null, 2)[0]), n1);
                r = layerNorm(add(r, feedForward(layer, r)), n2);
            }
            expected.add(r);
        }
        assertClose(flatten(expected), y, 1e-10, normFirst ? "pre-norm layer" : "post-norm layer");
    }

    @Test void encoderLayerPostNormAsPyTorchsDefault() { checkEncoderLayer(false); }

    @Test void encoderLayerPreNorm() { checkEncoderLayer(true); }

    @Test void encoderLayerNamesDropoutAndGradients() {
        TransformerEncoderLayer layer = new TransformerEncoderLayer(4, 2, 8, 0.2, TransformerEncoderLayer.Activation.GELU, 1e-5, true, false,
                new Generator(3));
        assertEquals(List.of("self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"),
                new ArrayList<>(layer.namedParameters().keySet()));
        Tensor x = NnTesting.f32(1, 2, 3, 4);
        double[] a = layer.forward(x).toDoubleArray(), b = layer.forward(x).toDoubleArray();
        boolean differ = false;
        for (int i = 0; i < a.length; i++) differ |= a[i] != b[i];
        assertTrue(differ, "dropout changes the output in training");
        layer.eval();
        assertClose(layer.forward(x).toDoubleArray(), layer.forward(x), 0, "eval is deterministic");
        NnTesting.gradCheckModule(layer, NnTesting.f64(2, 2, 3, 4));
        layer.train();
        Generator g = new Generator(0);
        // In training, with masks redrawn from the same seed for every evaluation.
        TransformerEncoderLayer seeded = new TransformerEncoderLayer(4, 2, 8, 0.2, TransformerEncoderLayer.Activation.GELU, 1e-5, true, true, g);
        NnTesting.gradCheckModule(seeded, seeded::forward, NnTesting.f64(3, 2, 3, 4), () -> g.setSeed(42));
    }
}
