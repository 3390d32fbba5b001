package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.NDArray;
import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.data.TensorDataset;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code --val-split} and {@code --early-stop}: the held-out part is a seeded, disjoint share of the training set
 * (the test set is never touched), bad combinations are usage errors, and a real run reports what early stopping
 * did. Catches validation rows leaking into training, a split that changes between runs of one seed, and
 * --early-stop silently doing nothing without a validation set.
 */
class ValidationSplitTest {
    private static long[] ids(TensorDataset d) { return d.arrays().get(1).toLongArray(); }

    private static ValidationSplit split(long seed) {
        long[] y = LongStream.range(0, 10).toArray();
        return ValidationSplit.of(new TensorDataset(NDArray.of(y, 10).to(io.jtensor.DType.F32), NDArray.of(y, 10)), new ValidationSplit.Options(0.3, 0), seed);
    }

    @Test
    void heldOutPartIsASeededDisjointShare() {
        try (ValidationSplit a = split(7); ValidationSplit b = split(7); ValidationSplit c = split(8)) {
            long[] train = ids(a.train()), val = ids(a.validation());
            assertEquals(7, train.length);
            assertEquals(3, val.length);
            long[] all = LongStream.concat(Arrays.stream(train), Arrays.stream(val)).sorted().toArray();
            assertTrue(Arrays.equals(LongStream.range(0, 10).toArray(), all), "every example in exactly one part: " + Arrays.toString(all));
            assertTrue(Arrays.equals(val, ids(b.validation())), "same seed, same split");
            assertNotEquals(Arrays.toString(val), Arrays.toString(ids(c.validation())), "another seed, another split");
        }
    }

    @Test
    void badCombinationsAreUsageErrors() {
        MainTest.Result r = MainTest.run("train", "--early-stop", "2");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--early-stop: needs --val-split F"), r.err());
        MainTest.Result r2 = MainTest.run("train", "--val-split", "0");
        assertEquals(2, r2.code());
        assertTrue(r2.err().contains("--val-split: expected a fraction strictly between 0 and 1"), r2.err());
    }

    @Test
    void aRunWithEarlyStoppingSaysWhatItKept() {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        MainTest.Result r = MainTest.run("train", "--model", "mlp", "--limit", "300", "--epochs", "3", "--device", "cpu", "--workers", "1",
                "--val-split", "0.2", "--early-stop", "1");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).startsWith("train: mlp on fashion-mnist (240 training images)"), lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.matches("early stop: (stopped after epoch [1-3]|ran every epoch); best validation loss \\d+\\.\\d{4} at epoch [1-3], whose weights are kept")),
                r.out());
        assertTrue(lines.get(lines.size() - 1).startsWith("test accuracy: "), lines.get(lines.size() - 1));
    }

    /** --ensemble: each member's line, then the ensemble's; its accuracy is in [0, 1] and the members' seeds differ. */
    @Test
    void anEnsembleReportsEveryMemberAndTheAverage() {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        MainTest.Result r = MainTest.run("train", "--model", "mlp", "--limit", "200", "--epochs", "1", "--device", "cpu", "--workers", "1",
                "--ensemble", "2", "--seed", "5");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("member 1 \\(seed 5\\): test accuracy 0\\.\\d{4}")), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("member 2 \\(seed 6\\): test accuracy 0\\.\\d{4}")), r.out());
        assertTrue(lines.get(lines.size() - 1).matches("ensemble of 2: test accuracy 0\\.\\d{4} \\(mlp, mean of the members' probabilities, cpu\\)"),
                lines.get(lines.size() - 1));
        MainTest.Result bad = MainTest.run("train", "--ensemble", "1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--ensemble"), bad.err());
    }
}
