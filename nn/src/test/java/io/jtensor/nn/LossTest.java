package io.jtensor.nn;

import static io.jtensor.nn.NnTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.NDArray;
import io.jtensor.autograd.GradCheck;
import io.jtensor.autograd.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class LossTest {
    // Logits [3, 4] and their targets; the last row is ignored where a test sets ignoreIndex = 2.
    private static final double[] LOGITS = {0.2, -1.0, 2.0, 0.5, 1.5, 0.3, -0.7, 0.0, -0.2, 0.9, 0.4, -1.3};
    private static final long[] TARGETS = {2, 0, 2};

    private static double[] logSoftmaxRow(double[] x, int row, int c) {
        double max = Double.NEGATIVE_INFINITY, z = 0;
        for (int j = 0; j < c; j++) max = Math.max(max, x[row * c + j]);
        for (int j = 0; j < c; j++) z += Math.exp(x[row * c + j] - max);
        double[] out = new double[c];
        for (int j = 0; j < c; j++) out[j] = x[row * c + j] - max - Math.log(z);
        return out;
    }

    /** Per-row loss -(1-s) lp[t] - s/C sum lp, 0 for ignored rows. */
    private static double[] crossEntropyRows(double smoothing, long ignore) {
        double[] out = new double[3];
        for (int r = 0; r < 3; r++) {
            if (TARGETS[r] == ignore) continue;
            double[] lp = logSoftmaxRow(LOGITS, r, 4);
            double all = 0;
            for (double v : lp) all += v;
            out[r] = -(1 - smoothing) * lp[(int) TARGETS[r]] - smoothing / 4 * all;
        }
        return out;
    }

    private static Tensor logits() { return Tensor.of(LOGITS, 3, 4); }
    private static Tensor targets() { return Tensor.of(TARGETS, 3); }

    @Test void crossEntropyReductions() {
        double[] rows = crossEntropyRows(0, -100);
        double sum = rows[0] + rows[1] + rows[2];
        assertClose(rows, new CrossEntropyLoss(Reduction.NONE, -100, 0).forward(logits(), targets()), 1e-12, "none");
        assertEquals(sum, new CrossEntropyLoss(Reduction.SUM, -100, 0).forward(logits(), targets()).item(), 1e-12);
        assertEquals(sum / 3, new CrossEntropyLoss().forward(logits(), targets()).item(), 1e-12);
    }

    @Test void crossEntropyIgnoreIndexAndLabelSmoothing() {
        // Target 2 ignored: rows 0 and 2 drop out of the sum and of the count.
        double[] rows = crossEntropyRows(0.1, 2);
        assertEquals(0, rows[0]);
        assertClose(rows, new CrossEntropyLoss(Reduction.NONE, 2, 0.1).forward(logits(), targets()), 1e-12, "none");
        assertEquals(rows[1], new CrossEntropyLoss(Reduction.MEAN, 2, 0.1).forward(logits(), targets()).item(), 1e-12);
        assertEquals(rows[1], new CrossEntropyLoss(Reduction.SUM, 2, 0.1).forward(logits(), targets()).item(), 1e-12);
    }

    @Test void crossEntropyOverSpatialPositions() {
        // [N=1, C=2, L=2] against [1, 2]: each position is a row of its own.
        Tensor x = Tensor.of(new double[] {1, 3, 2, 0}, 1, 2, 2);
        Tensor t = Tensor.of(new long[] {1, 0}, 1, 2);
        double p0 = -Math.log(Math.exp(2) / (Math.exp(1) + Math.exp(2)));
        double p1 = -Math.log(Math.exp(3) / (Math.exp(3) + Math.exp(0)));
        assertClose(new double[] {p0, p1}, new CrossEntropyLoss(Reduction.NONE, -100, 0).forward(x, t), 1e-12, "positions");
        assertEquals((p0 + p1) / 2, new CrossEntropyLoss().forward(x, t).item(), 1e-12);
    }

    @Test void crossEntropyGradients() {
        for (Reduction r : Reduction.values()) {
            CrossEntropyLoss loss = new CrossEntropyLoss(r, 2, 0.2);
            GradCheck.check(in -> loss.forward(in.get(0), in.get(1)), List.of(logits(), targets()));
        }
    }

    @Test void nllLossPicksTheTargetLogProbability() {
        Tensor lp = logits().logSoftmax(1);
        double[] rows = crossEntropyRows(0, -100);
        assertClose(rows, new NLLLoss(Reduction.NONE, -100).forward(lp, targets()), 1e-12, "nll none");
        assertEquals((rows[0] + rows[1] + rows[2]) / 3, new NLLLoss().forward(lp, targets()).item(), 1e-12);
        assertEquals(rows[1], new NLLLoss(Reduction.MEAN, 2).forward(lp, targets()).item(), 1e-12);
        var e = assertThrows(IllegalArgumentException.class, () -> new NLLLoss().forward(lp, Tensor.of(new long[] {1, 2}, 2)));
        assertTrue(e.getMessage().contains("nllLoss"), e.getMessage());
    }

    @Test void mseAndL1() {
        double[] x = {1, -2, 0.5, 3}, y = {0, -1, 0.5, 1};
        assertClose(new double[] {1, 1, 0, 4}, new MSELoss(Reduction.NONE).forward(Tensor.of(x, 2, 2), Tensor.of(y, 2, 2)), 0, "mse none");
        assertEquals(1.5, new MSELoss().forward(Tensor.of(x, 4), Tensor.of(y, 4)).item(), 1e-12);
        assertEquals(4.0, new L1Loss(Reduction.SUM).forward(Tensor.of(x, 4), Tensor.of(y, 4)).item(), 1e-12);
        assertEquals(1.0, new L1Loss().forward(Tensor.of(x, 4), Tensor.of(y, 4)).item(), 1e-12);
        GradCheck.check(in -> new MSELoss().forward(in.get(0), in.get(1)), List.of(NnTesting.f64(1, 3, 2), NnTesting.f64(2, 3, 2)));
        GradCheck.check(in -> new L1Loss().forward(in.get(0), in.get(1)), List.of(NnTesting.f64(1, 3, 2), NnTesting.f64(2, 3, 2)));
        assertThrows(IllegalArgumentException.class, () -> new MSELoss().forward(Tensor.of(x, 4), Tensor.of(y, 2, 2)));
    }

    @Test void smoothL1IsQuadraticBelowBetaAndLinearAbove() {
        double beta = 0.5;
        double[] d = {0.1, -0.3, 0.5, 2.0, -1.2, 0};
        double[] expected = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            double a = Math.abs(d[i]);
            expected[i] = a < beta ? 0.5 * a * a / beta : a - 0.5 * beta;
        }
        Tensor zero = Tensor.of(new double[d.length], d.length);
        assertClose(expected, new SmoothL1Loss(Reduction.NONE, beta).forward(Tensor.of(d, d.length), zero), 1e-12, "smooth l1");
        // beta = 0 is the L1 loss.
        assertEquals(4.1 / 6, new SmoothL1Loss(Reduction.MEAN, 0).forward(Tensor.of(d, d.length), zero).item(), 1e-12);
        GradCheck.check(in -> new SmoothL1Loss(Reduction.MEAN, 0.7).forward(in.get(0), in.get(1)),
                List.of(Tensor.of(new double[] {0.1, -0.4, 1.5, -2.2}, 4), Tensor.of(new double[] {0.3, 0.2, 0.1, 0.0}, 4)));
    }

    @Test void bceWithLogitsMatchesTheDefinitionAndStaysFiniteForLargeLogits() {
        double[] x = {0.3, -1.2, 2.5, 0.0, 50, -60};
        double[] y = {1, 0, 0.3, 1, 0, 1};
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            // -[y log s + (1 - y) log(1 - s)], with log s = -log1p(exp(-x)), log(1 - s) = -x - log1p(exp(-x)).
            double logS = x[i] >= 0 ? -Math.log1p(Math.exp(-x[i])) : x[i] - Math.log1p(Math.exp(x[i]));
            double log1mS = logS - x[i];
            expected[i] = -(y[i] * logS + (1 - y[i]) * log1mS);
        }
        Tensor out = new BCEWithLogitsLoss(Reduction.NONE, null).forward(Tensor.of(x, 6), Tensor.of(y, 6));
        assertClose(expected, out, 1e-12, "bce");
        assertEquals(50, out.toDoubleArray()[4], 1e-9);
        assertEquals(60, out.toDoubleArray()[5], 1e-9);
    }

    @Test void bceWithLogitsPositiveWeightPerClass() {
        double[] x = {0.3, -1.2, 2.5, 0.7}, y = {1, 0, 0.5, 1}; // [2, 2]
        double[] pw = {3, 0.5};
        double[] expected = new double[4];
        for (int i = 0; i < 4; i++) {
            double s = 1 / (1 + Math.exp(-x[i]));
            expected[i] = -(pw[i % 2] * y[i] * Math.log(s) + (1 - y[i]) * Math.log(1 - s));
        }
        BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.NONE, NDArray.of(pw, 2));
        assertClose(expected, loss.forward(Tensor.of(x, 2, 2), Tensor.of(y, 2, 2)), 1e-12, "pos weight");
        BCEWithLogitsLoss mean = new BCEWithLogitsLoss(Reduction.MEAN, NDArray.of(pw, 2));
        GradCheck.check(in -> mean.forward(in.get(0), in.get(1)), List.of(Tensor.of(x, 2, 2), Tensor.of(y, 2, 2)));
        assertArrayEquals(new long[] {2}, mean.namedBuffers().get("pos_weight").shape());
    }
}
