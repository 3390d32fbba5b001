package io.jtensor.nn;

import static io.jtensor.nn.NnTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Recurrent layers against a plain-Java reference of PyTorch's gate equations. */
class RecurrentTest {
    enum Kind { RNN, LSTM, GRU }

    private static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    /** W [rows, cols] times v [cols] plus b. */
    private static double[] affine(double[] w, double[] b, double[] v, int rows) {
        int cols = v.length;
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = b == null ? 0 : b[r];
            for (int c = 0; c < cols; c++) s += w[r * cols + c] * v[c];
            out[r] = s;
        }
        return out;
    }

    /** One step for one sample; returns {h', c'} (c' null except for LSTM). */
    private static double[][] step(Kind kind, int hidden, double[] x, double[] h, double[] c,
                                   double[] wih, double[] whh, double[] bih, double[] bhh) {
        int g = kind == Kind.LSTM ? 4 : kind == Kind.GRU ? 3 : 1;
        double[] xi = affine(wih, bih, x, g * hidden), hh = affine(whh, bhh, h, g * hidden);
        double[] hn = new double[hidden], cn = kind == Kind.LSTM ? new double[hidden] : null;
        for (int j = 0; j < hidden; j++) {
            switch (kind) {
                case RNN -> hn[j] = Math.tanh(xi[j] + hh[j]);
                case LSTM -> {
                    double i = sigmoid(xi[j] + hh[j]);
                    double f = sigmoid(xi[hidden + j] + hh[hidden + j]);
                    double gg = Math.tanh(xi[2 * hidden + j] + hh[2 * hidden + j]);
                    double o = sigmoid(xi[3 * hidden + j] + hh[3 * hidden + j]);
                    cn[j] = f * c[j] + i * gg;
                    hn[j] = o * Math.tanh(cn[j]);
                }
                case GRU -> {
                    double r = sigmoid(xi[j] + hh[j]);
                    double z = sigmoid(xi[hidden + j] + hh[hidden + j]);
                    double n = Math.tanh(xi[2 * hidden + j] + r * hh[2 * hidden + j]);
                    hn[j] = (1 - z) * n + z * h[j];
                }
            }
        }
        return new double[][] {hn, cn};
    }

    /**
     * The whole stacked, bidirectional recurrence over x [B][T][F] from h0/c0 [L*D][B][H]; returns
     * {output [B][T][D*H] flattened, hN flattened, cN flattened}.
     */
    private static double[][] reference(Kind kind, Map<String, Tensor> p, int layers, boolean bidir, int hidden,
                                        double[][][] x, double[][][] h0, double[][][] c0) {
        int dirs = bidir ? 2 : 1, batch = x.length, steps = x[0].length;
        double[][][] input = x;
        double[][][] hN = new double[layers * dirs][batch][], cN = new double[layers * dirs][batch][];
        for (int l = 0; l < layers; l++) {
            double[][][] out = new double[batch][steps][dirs * hidden];
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                double[] wih = p.get("weight_ih" + sfx).toDoubleArray(), whh = p.get("weight_hh" + sfx).toDoubleArray();
                double[] bih = p.get("bias_ih" + sfx).toDoubleArray(), bhh = p.get("bias_hh" + sfx).toDoubleArray();
                for (int b = 0; b < batch; b++) {
                    double[] h = h0[l * dirs + d][b], c = c0 == null ? null : c0[l * dirs + d][b];
                    for (int s = 0; s < steps; s++) {
                        int t = d == 0 ? s : steps - 1 - s;
                        double[][] hc = step(kind, hidden, input[b][t], h, c, wih, whh, bih, bhh);
                        h = hc[0];
                        c = hc[1];
                        System.arraycopy(h, 0, out[b][t], d * hidden, hidden);
                    }
                    hN[l * dirs + d][b] = h;
                    cN[l * dirs + d][b] = c;
                }
            }
            input = out;
        }
        return new double[][] {flat3(input), flat3(hN), kind == Kind.LSTM ? flat3(cN) : null};
    }

    private static double[] flat3(double[][][] a) {
        List<Double> out = new ArrayList<>();
        for (double[][] m : a) for (double[] r : m) for (double v : r) out.add(v);
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[][][] shape3(double[] v, int a, int b, int c) {
        double[][][] out = new double[a][b][c];
        for (int i = 0; i < a; i++) for (int j = 0; j < b; j++) for (int k = 0; k < c; k++) out[i][j][k] = v[(i * b + j) * c + k];
        return out;
    }

    private static RecurrentOutput run(RecurrentBase m, Tensor x, Tensor h0, Tensor c0) {
        if (m instanceof LSTM l) return l.forward(x, h0, c0);
        if (m instanceof GRU g) return g.forward(x, h0);
        return ((RNN) m).forward(x, h0);
    }

    private static RecurrentBase make(Kind kind, RecurrentConfig c) {
        return switch (kind) {
            case RNN -> new RNN(c);
            case LSTM -> new LSTM(c);
            case GRU -> new GRU(c);
        };
    }

    private void checkAgainstReference(Kind kind, int layers, boolean bidir, boolean batchFirst, int steps) {
        int batch = 2, in = 3, hidden = 2, dirs = bidir ? 2 : 1;
        RecurrentBase m = make(kind, RecurrentConfig.of(in, hidden).numLayers(layers).bidirectional(bidir).batchFirst(batchFirst)
                .generator(new Generator(kind.ordinal() + 10L * layers)));
        m.to(DType.F64);
        double[] xs = NnTesting.values(1, batch * steps * in); // [B, T, F]
        double[] h0 = NnTesting.values(2, layers * dirs * batch * hidden), c0 = NnTesting.values(3, layers * dirs * batch * hidden);
        Tensor x = Tensor.of(xs, batch, steps, in);
        if (!batchFirst) x = x.transpose(0, 1).contiguous();
        Tensor h0t = Tensor.of(h0, layers * dirs, batch, hidden), c0t = Tensor.of(c0, layers * dirs, batch, hidden);
        RecurrentOutput out = run(m, x, h0t, kind == Kind.LSTM ? c0t : null);

        double[][] ref = reference(kind, m.namedParameters(), layers, bidir, hidden, shape3(xs, batch, steps, in),
                shape3(h0, layers * dirs, batch, hidden), kind == Kind.LSTM ? shape3(c0, layers * dirs, batch, hidden) : null);
        Tensor output = batchFirst ? out.output() : out.output().transpose(0, 1);
        assertArrayEquals(new long[] {batch, steps, dirs * hidden}, output.shape());
        String what = kind + " layers=" + layers + " bidirectional=" + bidir + " batchFirst=" + batchFirst;
        assertClose(ref[0], output.contiguous().toDoubleArray(), 1e-12, what + " output");
        assertArrayEquals(new long[] {layers * dirs, batch, hidden}, out.hN().shape());
        assertClose(ref[1], out.hN(), 1e-12, what + " h_n");
        if (kind == Kind.LSTM) assertClose(ref[2], out.cN(), 1e-12, what + " c_n");
        else assertNull(out.cN());
    }

    @Test void oneStepOfEachCellFollowsTheGateEquations() {
        for (Kind k : Kind.values()) checkAgainstReference(k, 1, false, false, 1);
    }

    @Test void sequencesStackedLayersBothDirectionsAndBatchFirst() {
        for (Kind k : Kind.values()) {
            checkAgainstReference(k, 1, false, true, 4);
            checkAgainstReference(k, 2, true, false, 3);
            checkAgainstReference(k, 2, true, true, 3);
        }
    }

    @Test void parametersHavePyTorchNamesAndShapes() {
        LSTM lstm = new LSTM(RecurrentConfig.of(5, 3).numLayers(2).bidirectional(true));
        Map<String, Tensor> p = lstm.namedParameters();
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"), new ArrayList<>(p.keySet()));
        assertArrayEquals(new long[] {12, 5}, p.get("weight_ih_l0").shape());
        assertArrayEquals(new long[] {12, 6}, p.get("weight_ih_l1").shape());
        assertArrayEquals(new long[] {12, 3}, p.get("weight_hh_l1_reverse").shape());
        double bound = 1 / Math.sqrt(3);
        for (Tensor t : lstm.parameters()) for (double v : t.toDoubleArray()) assertTrue(Math.abs(v) <= bound);
        GRU gru = new GRU(RecurrentConfig.of(4, 2).bias(false));
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0"), new ArrayList<>(gru.namedParameters().keySet()));
        assertEquals(6 * 4 + 6 * 2, gru.parameterCount());
    }

    @Test void zeroInitialStatesByDefault() {
        GRU gru = new GRU(RecurrentConfig.of(3, 2).generator(new Generator(4)));
        Tensor x = NnTesting.f32(5, 4, 2, 3);
        Tensor zeros = Tensor.zeros(1, 2, 2);
        assertClose(gru.forward(x, zeros).output().toDoubleArray(), gru.forward(x), 0, "null h0 is zeros");
    }

    @Test void dropoutBetweenLayersOnlyInTraining() {
        LSTM lstm = new LSTM(RecurrentConfig.of(3, 4).numLayers(2).dropout(0.5).generator(new Generator(6)));
        Tensor x = NnTesting.f32(1, 3, 2, 3);
        double[] a = lstm.forward(x).toDoubleArray(), b = lstm.forward(x).toDoubleArray();
        boolean differ = false;
        for (int i = 0; i < a.length; i++) differ |= a[i] != b[i];
        assertTrue(differ, "fresh dropout masks in training");
        lstm.eval();
        assertClose(lstm.forward(x).toDoubleArray(), lstm.forward(x), 0, "deterministic in eval");
    }

    @Test void gradientsThroughTimeLayersAndDirections() {
        LSTM lstm = new LSTM(RecurrentConfig.of(2, 2).numLayers(2).bidirectional(true).generator(new Generator(1)));
        Tensor h0 = NnTesting.f64(2, 4, 2, 2), c0 = NnTesting.f64(3, 4, 2, 2);
        NnTesting.gradCheckModule(lstm, x -> {
            RecurrentOutput o = lstm.forward(x, h0, c0);
            return Tensor.cat(List.of(o.output().reshape(-1), o.hN().reshape(-1), o.cN().reshape(-1)), 0);
        }, NnTesting.f64(4, 3, 2, 2), () -> {});
        GRU gru = new GRU(RecurrentConfig.of(2, 3).batchFirst(true).generator(new Generator(2)));
        NnTesting.gradCheckModule(gru, x -> gru.forward(x, null).hN(), NnTesting.f64(5, 2, 3, 2), () -> {});
        RNN rnn = new RNN(RecurrentConfig.of(2, 2).generator(new Generator(3)));
        NnTesting.gradCheckModule(rnn, NnTesting.f64(6, 3, 2, 2));
    }

    @Test void gradientsReachTheInitialStates() {
        GRU gru = new GRU(RecurrentConfig.of(2, 2).generator(new Generator(7)));
        gru.to(DType.F64);
        Tensor x = NnTesting.f64(8, 3, 1, 2);
        io.jtensor.autograd.GradCheck.check(in -> gru.forward(x, in.get(0)).output(), List.of(NnTesting.f64(9, 1, 1, 2)));
    }

    @Test void badShapesAreNamed() {
        LSTM lstm = new LSTM(3, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(NnTesting.f32(1, 4, 2, 5)));
        assertTrue(e.getMessage().contains("LSTM") && e.getMessage().contains("[T, B, 3]"), e.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> lstm.forward(NnTesting.f32(1, 4, 2, 3), Tensor.zeros(2, 2, 2), null));
        assertTrue(s.getMessage().contains("h0"), s.getMessage());
    }
}
