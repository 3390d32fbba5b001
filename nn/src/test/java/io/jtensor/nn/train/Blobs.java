package io.jtensor.nn.train;

import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Dropout;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.ReLU;
import io.jtensor.nn.Sequential;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import java.util.Random;

/** Two Gaussian blobs in the plane, class 0 around (-1.5, -1.5) and class 1 around (1.5, 1.5): a task a tiny MLP learns in a few epochs. */
final class Blobs {
    private Blobs() {}

    static TensorDataset dataset(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[2 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = i % 2;
            double centre = c == 0 ? -1.5 : 1.5;
            x[2 * i] = (float) (centre + 0.8 * r.nextGaussian());
            x[2 * i + 1] = (float) (centre + 0.8 * r.nextGaussian());
            y[i] = c;
        }
        try (NDArray xs = NDArray.of(x, n, 2); NDArray ys = NDArray.of(y, n)) {
            return new TensorDataset(xs, ys);
        }
    }

    static DataLoader loader(TensorDataset d, int batch, boolean shuffle) {
        return DataLoader.builder(d).batchSize(batch).shuffle(shuffle).seed(11).build();
    }

    /** 2 -> 16 -> 2 with dropout, initialised from a seeded default generator. */
    static Module mlp(long seed) {
        Generator.manualSeed(seed);
        return new Sequential(new Linear(2, 16), new ReLU(), new Dropout(0.2), new Linear(16, 2));
    }

    static Trainer.LossFunction crossEntropy() {
        CrossEntropyLoss ce = new CrossEntropyLoss();
        return ce::forward;
    }
}
