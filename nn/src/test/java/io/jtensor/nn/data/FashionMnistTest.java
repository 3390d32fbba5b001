package io.jtensor.nn.data;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir Path dir;

    /** n images whose pixel (y, x) of image i is (i * 7 + y * 3 + x) % 256, and the given labels. */
    private static void writeSplit(Path dir, String prefix, int n, byte[] labels, boolean gzip) throws IOException {
        byte[] px = new byte[n * 28 * 28];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) px[(i * 28 + y) * 28 + x] = (byte) ((i * 7 + y * 3 + x) % 256);
            }
        }
        String ext = gzip ? ".gz" : "";
        IdxFiles.write(dir.resolve(prefix + "-images-idx3-ubyte" + ext), IdxFiles.idx(0x803, new int[] {n, 28, 28}, px), gzip);
        IdxFiles.write(dir.resolve(prefix + "-labels-idx1-ubyte" + ext), IdxFiles.idx(0x801, new int[] {labels.length}, labels), gzip);
    }

    @Test
    void loadsImagesScaledToUnitRangeAndLabelsAsI64() throws IOException {
        writeSplit(dir, "train", 3, new byte[] {0, 9, 5}, true);
        writeSplit(dir, "t10k", 2, new byte[] {4, 1}, false); // uncompressed files are found as well
        try (TensorDataset train = FashionMnist.train(dir); TensorDataset test = FashionMnist.test(dir)) {
            assertEquals(3, train.size());
            assertEquals(2, test.size());
            NDArray images = train.arrays().get(0), labels = train.arrays().get(1);
            assertEquals(DType.F32, images.dtype());
            assertArrayEquals(new long[] {3, 1, 28, 28}, images.shape());
            assertEquals(DType.I64, labels.dtype());
            assertArrayEquals(new long[] {0, 9, 5}, labels.toLongArray());
            assertArrayEquals(new long[] {4, 1}, test.arrays().get(1).toLongArray());
            // image 2, pixel (5, 11): (14 + 15 + 11) = 40 -> 40/255
            assertEquals(40 / 255.0, images.getDouble(2, 0, 5, 11), 1e-7);
            // image 1, pixel (27, 27): 7 + 81 + 27 = 115
            assertEquals(115 / 255.0, images.getDouble(1, 0, 27, 27), 1e-7);
            try (Example e = train.get(1)) {
                assertArrayEquals(new long[] {1, 28, 28}, e.get(0).shape());
                assertEquals(9, e.get(1).item());
            }
        }
    }

    @Test
    void findsTheKnownSubdirectories() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("FashionMNIST").resolve("raw"));
        writeSplit(sub, "train", 1, new byte[] {3}, true);
        writeSplit(sub, "t10k", 1, new byte[] {2}, true);
        assertEquals(sub, FashionMnist.locate(dir));
        Path other = Files.createDirectories(dir.resolve("x").resolve("fashion-mnist"));
        writeSplit(other, "train", 1, new byte[] {3}, true);
        writeSplit(other, "t10k", 1, new byte[] {2}, true);
        assertEquals(other, FashionMnist.locate(dir.resolve("x")));
    }

    @Test
    void missingFilesSayHowToGetThem() throws IOException {
        writeSplit(dir, "train", 1, new byte[] {3}, true); // test split missing
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class, () -> FashionMnist.train(dir));
        String m = e.getMessage();
        assertTrue(m.contains("sudo apt-get install dataset-fashion-mnist"), m);
        assertTrue(m.contains("--data DIR"), m);
        assertTrue(m.contains(dir.toString()), m);
        assertTrue(m.contains("lacks [t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz]"), m);
    }

    @Test
    void rejectsMismatchedCountsWrongSizesAndBadLabels() throws IOException {
        writeSplit(dir, "t10k", 1, new byte[] {0}, true);
        writeSplit(dir, "train", 3, new byte[] {0, 1}, true);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.train(dir));
        assertTrue(e.getMessage().contains("holds 2 labels but") && e.getMessage().contains("holds 3 images"), e.getMessage());

        writeSplit(dir, "train", 2, new byte[] {0, 10}, true);
        e = assertThrows(IdxFormatException.class, () -> FashionMnist.train(dir));
        assertTrue(e.getMessage().contains("label 10 at index 1 is not a class in [0, 10)"), e.getMessage());

        IdxFiles.write(dir.resolve("train-images-idx3-ubyte.gz"), IdxFiles.idx(0x803, new int[] {1, 2, 2}, new byte[4]), true);
        e = assertThrows(IdxFormatException.class, () -> FashionMnist.train(dir));
        assertTrue(e.getMessage().contains("expected 28x28 images, got [1, 2, 2]"), e.getMessage());
    }

    @Test
    void readsTheInstalledTestSplitWhenPresent() throws IOException {
        assumeTrue(Files.isRegularFile(FashionMnist.SYSTEM_DIR.resolve("t10k-images-idx3-ubyte.gz")),
                "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        try (TensorDataset test = FashionMnist.test(null)) {
            NDArray images = test.arrays().get(0), labels = test.arrays().get(1);
            assertArrayEquals(new long[] {10000, 1, 28, 28}, images.shape());
            long[] counts = new long[10];
            for (long l : labels.toLongArray()) counts[(int) l]++;
            for (long c : counts) assertEquals(1000, c, "the test split has 1000 images of each class");
            try (NDArray mn = images.min(); NDArray mx = images.max()) {
                assertEquals(0.0, mn.item());
                assertEquals(1.0, mx.item());
            }
        }
    }
}
