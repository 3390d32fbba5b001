package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.Adam;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnsembleTest {
    private static double[][] softmaxRows(double[] logits, int n, int c) {
        double[][] p = new double[n][c];
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < c; j++) max = Math.max(max, logits[i * c + j]);
            for (int j = 0; j < c; j++) sum += Math.exp(logits[i * c + j] - max);
            for (int j = 0; j < c; j++) p[i][j] = Math.exp(logits[i * c + j] - max) / sum;
        }
        return p;
    }

    @Test void averagesTheMembersSoftmaxAndVotesWithIt() {
        try (TensorDataset trainSet = Blobs.dataset(256, 1); TensorDataset valSet = Blobs.dataset(64, 2);
             DataLoader train = Blobs.loader(trainSet, 32, true); DataLoader val = Blobs.loader(valSet, 64, false)) {
            Module a = Blobs.mlp(1), b = Blobs.mlp(2), untrained = Blobs.mlp(3);
            for (Module m : List.of(a, b)) {
                try (Adam opt = new Adam(m.parameters(), 0.05)) {
                    Trainer.builder(m, opt, Blobs.crossEntropy()).trainData(train).epochs(2).build().fit();
                }
            }
            Ensemble ens = new Ensemble(List.of(a, b, untrained));
            NDArray x = valSet.arrays().get(0);
            // By hand: each member's logits in eval mode, softmax in double, mean.
            double[][] expected = new double[64][2];
            for (Module m : List.of(a, b, untrained)) {
                m.eval();
                try (var g = io.jtensor.autograd.GradMode.noGrad(); Tensor out = m.forward(Tensor.wrap(x.share()))) {
                    double[][] p = softmaxRows(out.toDoubleArray(), 64, 2);
                    for (int i = 0; i < 64; i++) for (int j = 0; j < 2; j++) expected[i][j] += p[i][j] / 3;
                }
                m.train();
            }
            try (NDArray proba = ens.predictProba(x); NDArray pred = ens.predict(x)) {
                assertArrayEquals(new long[] {64, 2}, proba.shape());
                double[] got = proba.toDoubleArray();
                long[] labels = pred.toLongArray();
                long[] truth = valSet.arrays().get(1).toLongArray();
                int correct = 0;
                for (int i = 0; i < 64; i++) {
                    assertEquals(expected[i][0], got[2 * i], 1e-6);
                    assertEquals(expected[i][1], got[2 * i + 1], 1e-6);
                    assertEquals(1.0, got[2 * i] + got[2 * i + 1], 1e-6);
                    assertEquals(expected[i][1] > expected[i][0] ? 1 : 0, labels[i]);
                    if (labels[i] == truth[i]) correct++;
                }
                assertEquals(correct / 64.0, ens.accuracy(val), 0);
                assertTrue(correct / 64.0 > 0.9, "two trained members outvote an untrained one: " + correct);
            }
            assertTrue(a.isTraining(), "members keep their mode");
        }
    }

    @Test void needsAtLeastOneMember() {
        assertThrows(IllegalArgumentException.class, () -> new Ensemble(List.of()));
    }
}
