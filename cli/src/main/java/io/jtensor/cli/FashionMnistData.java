package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.data.Sampler;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.data.Transform;
import io.jtensor.nn.data.transforms.Normalize;
import io.jtensor.nn.data.transforms.RandomCrop;
import io.jtensor.nn.data.transforms.RandomHorizontalFlip;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Fashion-MNIST as the commands use it: normalised with the training set's mean and std, optionally augmented. */
final class FashionMnistData {
    /** Mean and standard deviation of the training images' pixels (in [0, 1]). */
    static final double MEAN = 0.2860, STD = 0.3530;

    /**
     * Test-set batch size. Evaluation keeps every activation of a batch until the batch ends (no graph frees them
     * earlier): at 1000 images ResNet-20's came to ~3 GB, past the CPU allocator's 1 GiB cache, so every batch got
     * fresh pages from the kernel (system time was 40% of the evaluation); at 250 they stay cached.
     */
    static final int EVAL_BATCH = 250;

    private FashionMnistData() {}

    static TensorDataset load(Path dir, FashionMnist.Split split, long limit) {
        try {
            TensorDataset full = FashionMnist.load(dir, split);
            if (limit <= 0 || limit >= full.size()) return full;
            try (full; NDArray x = full.arrays().get(0).narrow(0, 0, limit); NDArray y = full.arrays().get(1).narrow(0, 0, limit)) {
                return new TensorDataset(x, y);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading Fashion-MNIST from " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Shuffled batches for training; with augment, random shifts by up to 2 pixels and horizontal flips. */
    static DataLoader trainLoader(TensorDataset d, int batchSize, boolean augment, long seed, int workers, Device device) {
        return trainLoader(d, batchSize, augment, seed, workers, device, null);
    }

    /** The same, reading the indices {@code sampler} gives (a distributed rank's share) instead of shuffling all. */
    static DataLoader trainLoader(TensorDataset d, int batchSize, boolean augment, long seed, int workers, Device device, Sampler sampler) {
        DataLoader.Builder b = DataLoader.builder(d).batchSize(batchSize).seed(seed).numWorkers(workers).device(device);
        if (sampler != null) b.sampler(sampler);
        else b.shuffle(true);
        if (augment) {
            Transform t = new RandomCrop(FashionMnist.SIDE, 2).andThen(new RandomHorizontalFlip());
            b.transform(0, t);
        }
        return b.batchTransform(0, new Normalize(MEAN, STD)).build();
    }

    static DataLoader testLoader(TensorDataset d, int batchSize, int workers, Device device) { return testLoader(d, batchSize, workers, device, null); }

    static DataLoader testLoader(TensorDataset d, int batchSize, int workers, Device device, Sampler sampler) {
        DataLoader.Builder b = DataLoader.builder(d).batchSize(batchSize).numWorkers(workers).device(device);
        if (sampler != null) b.sampler(sampler);
        return b.batchTransform(0, new Normalize(MEAN, STD)).build();
    }
}
