package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.Generator;
import org.junit.jupiter.api.Test;

class LossIndexGradTest {

    // ------------------------------------------------------------------ softmax

    @Test void softmaxRows() { gradcheck(in -> in.get(0).softmax(1), randn(1, 3, 5)); }
    @Test void softmaxColumns() { gradcheck(in -> in.get(0).softmax(0), randn(2, 3, 5)); }
    @Test void logSoftmaxLastDim() { gradcheck(in -> in.get(0).logSoftmax(-1), randn(3, 2, 3, 4)); }
    @Test void logSoftmaxOfTransposed() { gradcheck(in -> in.get(0).t().logSoftmax(1), randn(4, 5, 3)); }

    // ------------------------------------------------------------------ losses

    /** Mean over kept rows of -[(1-e) lp[t] + e/C sum_c lp[c]], written out in double loops. */
    private static double referenceCrossEntropy(double[] logits, int n, int c, long[] targets, long ignore, double eps) {
        double total = 0;
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (targets[i] == ignore) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) max = Math.max(max, logits[i * c + j]);
            double z = 0;
            for (int j = 0; j < c; j++) z += Math.exp(logits[i * c + j] - max);
            double logZ = max + Math.log(z);
            double sumLp = 0;
            for (int j = 0; j < c; j++) sumLp += logits[i * c + j] - logZ;
            double lpT = logits[i * c + (int) targets[i]] - logZ;
            total += -((1 - eps) * lpT + eps / c * sumLp);
            kept++;
        }
        return total / kept;
    }

    @Test void crossEntropyValueAndGradient() {
        Tensor logits = randn(10, 4, 5);
        Tensor targets = Tensor.of(new long[] {1, 0, 4, 2}, 4);
        double expected = referenceCrossEntropy(logits.toDoubleArray(), 4, 5, new long[] {1, 0, 4, 2}, -100, 0);
        assertEquals(expected, logits.crossEntropy(targets).item(), 1e-9);
        gradcheck(in -> in.get(0).crossEntropy(in.get(1)), logits, targets);
    }

    @Test void crossEntropyIgnoresTargets() {
        Tensor logits = randn(11, 4, 3).requiresGrad(true);
        long[] t = {2, -100, 0, 1};
        Tensor targets = Tensor.of(t, 4);
        Tensor loss = logits.crossEntropy(targets, -100, 0);
        assertEquals(referenceCrossEntropy(logits.toDoubleArray(), 4, 3, t, -100, 0), loss.item(), 1e-9);
        loss.backward();
        double[] g = logits.grad().toDoubleArray();
        for (int j = 0; j < 3; j++) assertEquals(0.0, g[3 + j], 0.0, "ignored row gets no gradient");
        gradcheck(in -> in.get(0).crossEntropy(in.get(1), -100, 0), randn(11, 4, 3), targets);
    }

    @Test void crossEntropyWithLabelSmoothing() {
        Tensor logits = randn(12, 3, 4);
        long[] t = {3, 1, 0};
        Tensor targets = Tensor.of(t, 3);
        assertEquals(referenceCrossEntropy(logits.toDoubleArray(), 3, 4, t, -100, 0.1),
                logits.crossEntropy(targets, -100, 0.1).item(), 1e-9);
        gradcheck(in -> in.get(0).crossEntropy(in.get(1), -100, 0.1), logits, targets);
    }

    @Test void crossEntropyWithIgnoreAndSmoothing() {
        Tensor logits = randn(13, 4, 3);
        long[] t = {1, 7, 2, 7};
        Tensor targets = Tensor.of(t, 4);
        assertEquals(referenceCrossEntropy(logits.toDoubleArray(), 4, 3, t, 7, 0.2),
                logits.crossEntropy(targets, 7, 0.2).item(), 1e-9);
        gradcheck(in -> in.get(0).crossEntropy(in.get(1), 7, 0.2), logits, targets);
    }

    @Test void crossEntropyOverSpatialPositions() {
        gradcheck(in -> in.get(0).crossEntropy(in.get(1)), randn(14, 2, 3, 2), Tensor.of(new long[] {0, 2, 1, 1}, 2, 2));
    }

    @Test void nllLossOfLogSoftmax() {
        gradcheck(in -> in.get(0).logSoftmax(1).nllLoss(in.get(1)), randn(15, 3, 4), Tensor.of(new long[] {0, 3, 2}, 3));
    }

    @Test void nllLossPicksTheTargetEntries() {
        Tensor lp = Tensor.of(new double[] {-1, -2, -3, -4}, 2, 2);
        assertEquals((2 + 3) / 2.0, lp.nllLoss(Tensor.of(new long[] {1, 0}, 2)).item(), 1e-12);
    }

    // ------------------------------------------------------------------ indexing

    @Test void gatherWithRepeatedIndices() {
        Tensor index = Tensor.of(new long[] {0, 3, 1, 1, 2, 0}, 3, 2);
        gradcheck(in -> in.get(0).gather(1, in.get(1)), randn(20, 3, 4), index);
    }

    @Test void gatherAccumulatesRepeats() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4}, 1, 4).requiresGrad(true);
        Tensor y = x.gather(1, Tensor.of(new long[] {2, 2, 0}, 1, 3));
        assertArrayEquals(new double[] {3, 3, 1}, y.toDoubleArray());
        y.sum().backward();
        assertArrayEquals(new double[] {1, 0, 2, 0}, x.grad().toDoubleArray());
    }

    @Test void indexSelectRows() { gradcheck(in -> in.get(0).indexSelect(0, in.get(1)), randn(21, 4, 3), Tensor.of(new long[] {3, 0, 3}, 3)); }
    @Test void indexSelectColumns() { gradcheck(in -> in.get(0).indexSelect(1, in.get(1)), randn(22, 2, 5), Tensor.of(new long[] {4, 1, 1, 0}, 4)); }

    @Test void embedding() {
        Tensor ids = Tensor.of(new long[] {0, 2, 2, 4}, 2, 2);
        gradcheck(in -> Tensor.embedding(in.get(0), in.get(1)), randn(23, 5, 3), ids);
    }

    @Test void embeddingGradientCountsUses() {
        Tensor w = Tensor.zeros(4, 2).to(io.jtensor.DType.F64).detach().requiresGrad(true);
        Tensor out = Tensor.embedding(w, Tensor.of(new long[] {1, 3, 1}, 3));
        assertArrayEquals(new long[] {3, 2}, out.shape());
        out.sum().backward();
        assertArrayEquals(new double[] {0, 0, 2, 2, 0, 0, 1, 1}, w.grad().toDoubleArray());
    }

    // ------------------------------------------------------------------ dropout

    @Test void dropoutGradientIsTheMask() {
        Tensor x = Tensor.ones(io.jtensor.DType.F64, io.jtensor.Device.cpu(), 200).requiresGrad(true);
        Tensor y = x.dropout(0.25, true, new Generator(99));
        y.sum().backward();
        double[] g = x.grad().toDoubleArray(), out = y.toDoubleArray();
        int zeros = 0;
        for (int i = 0; i < g.length; i++) {
            assertTrue(g[i] == 0 || Math.abs(g[i] - 1 / 0.75) < 1e-12, "mask value " + g[i]);
            assertEquals(out[i], g[i], 1e-12, "gradient equals the mask the output was scaled by");
            if (g[i] == 0) zeros++;
        }
        assertTrue(zeros > 20 && zeros < 80, "about a quarter dropped, got " + zeros);
    }

    @Test void dropoutInEvalModeIsIdentity() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor y = x.dropout(0.5, false);
        assertArrayEquals(new double[] {1, 2}, y.toDoubleArray());
        y.sum().backward();
        assertArrayEquals(new double[] {1, 1}, x.grad().toDoubleArray());
    }
}
