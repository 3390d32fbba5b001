package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

class BatchNormTest {
    /** Per-channel mean and biased variance of x [N, C, S] (S spatial positions). */
    private static double[][] stats(double[] x, int n, int c, int s) {
        double[] mean = new double[c], var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < n; i++) for (int k = 0; k < s; k++) mean[ch] += x[(i * c + ch) * s + k] / (n * s);
            for (int i = 0; i < n; i++) for (int k = 0; k < s; k++) var[ch] += Math.pow(x[(i * c + ch) * s + k] - mean[ch], 2) / (n * s);
        }
        return new double[][] {mean, var};
    }

    @Test void trainingNormalisesWithBatchStatisticsPerFeatureMapAndUpdatesRunningOnes() {
        int n = 3, c = 2, h = 2, w = 2, s = h * w;
        BatchNorm2d bn = new BatchNorm2d(c);
        NnTesting.set(bn.weight(), 2, 0.5);
        NnTesting.set(bn.bias(), 0.1, -0.3);
        double[] x = NnTesting.values(4, n * c * s);
        double[][] st = stats(x, n, c, s);
        double[] expected = new double[x.length];
        double[] g = {2, 0.5}, b = {0.1, -0.3};
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < s; k++) {
                    int idx = (i * c + ch) * s + k;
                    expected[idx] = (x[idx] - st[0][ch]) / Math.sqrt(st[1][ch] + 1e-5) * g[ch] + b[ch];
                }
            }
        }
        NnTesting.assertClose(expected, bn.forward(Tensor.of(x, n, c, h, w)), 1e-5, "train output");
        // running = 0.9 * start + 0.1 * batch, with the unbiased variance (m = 12 values per channel).
        double m = n * s;
        double[] rm = {0.1 * st[0][0], 0.1 * st[0][1]};
        double[] rv = {0.9 + 0.1 * st[1][0] * m / (m - 1), 0.9 + 0.1 * st[1][1] * m / (m - 1)};
        NnTesting.assertClose(rm, bn.runningMean().toDoubleArray(), 1e-6, "running mean");
        NnTesting.assertClose(rv, bn.runningVar().toDoubleArray(), 1e-6, "running var");
        assertEquals(1, bn.numBatchesTracked());

        // Eval: the running statistics normalise, and nothing moves.
        bn.eval();
        double[] evalExpected = new double[x.length];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < s; k++) {
                    int idx = (i * c + ch) * s + k;
                    evalExpected[idx] = (x[idx] - rm[ch]) / Math.sqrt(rv[ch] + 1e-5) * g[ch] + b[ch];
                }
            }
        }
        NnTesting.assertClose(evalExpected, bn.forward(Tensor.of(x, n, c, h, w)), 1e-5, "eval output");
        NnTesting.assertClose(rm, bn.runningMean().toDoubleArray(), 1e-6, "eval leaves running mean");
        assertEquals(1, bn.numBatchesTracked());
    }

    @Test void batchNorm1dOverFeaturesAndOverSequences() {
        double[] x = NnTesting.values(2, 8); // [4, 2]
        BatchNorm1d bn = new BatchNorm1d(2);
        double[][] st = stats(x, 4, 2, 1);
        double[] expected = new double[8];
        for (int i = 0; i < 8; i++) expected[i] = (x[i] - st[0][i % 2]) / Math.sqrt(st[1][i % 2] + 1e-5);
        NnTesting.assertClose(expected, bn.forward(Tensor.of(x, 4, 2)), 1e-5, "[N, C]");

        double[] y = NnTesting.values(3, 12); // [2, 2, 3]
        BatchNorm1d bn3 = new BatchNorm1d(2);
        double[][] st3 = stats(y, 2, 2, 3);
        double[] expected3 = new double[12];
        for (int i = 0; i < 12; i++) {
            int ch = (i / 3) % 2;
            expected3[i] = (y[i] - st3[0][ch]) / Math.sqrt(st3[1][ch] + 1e-5);
        }
        NnTesting.assertClose(expected3, bn3.forward(Tensor.of(y, 2, 2, 3)), 1e-5, "[N, C, L]");
        assertThrows(IllegalArgumentException.class, () -> bn3.forward(NnTesting.f32(1, 2, 2, 2, 2)));
    }

    @Test void oneValuePerChannelCannotBeNormalisedInTraining() {
        BatchNorm1d bn = new BatchNorm1d(3);
        var e = assertThrows(IllegalArgumentException.class, () -> bn.forward(NnTesting.f32(1, 1, 3)));
        assertTrue(e.getMessage().contains("more than 1 value per channel"), e.getMessage());
        bn.eval();
        assertEquals(3, bn.forward(NnTesting.f32(1, 1, 3)).numel());
    }

    @Test void withoutRunningStatisticsEvalUsesTheBatch() {
        BatchNorm1d bn = new BatchNorm1d(2, 1e-5, 0.1, false, false);
        bn.eval();
        double[] x = {1, 2, 3, 6};
        double[] expected = {-1 / Math.sqrt(1 + 1e-5), -2 / Math.sqrt(4 + 1e-5), 1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(4 + 1e-5)};
        NnTesting.assertClose(expected, bn.forward(Tensor.of(x, 2, 2)), 1e-6, "batch statistics in eval");
        assertEquals(0, bn.parameters().size());
        assertEquals(0, bn.namedBuffers().size());
    }

    @Test void gradientsInTrainingAndInEval() {
        BatchNorm2d bn = new BatchNorm2d(2);
        NnTesting.set(bn.weight(), 1.5, -0.5);
        NnTesting.set(bn.bias(), 0.2, 0.1);
        NnTesting.gradCheckModule(bn, NnTesting.f64(5, 3, 2, 2, 2));
        bn.eval();
        NnTesting.gradCheckModule(bn, NnTesting.f64(6, 3, 2, 2, 2));
        BatchNorm1d bn1 = new BatchNorm1d(3);
        NnTesting.gradCheckModule(bn1, NnTesting.f64(7, 4, 3));
        assertEquals(DType.F64, bn1.runningMean().dtype());
    }
}
