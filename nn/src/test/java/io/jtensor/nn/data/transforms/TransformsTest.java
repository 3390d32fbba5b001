package io.jtensor.nn.data.transforms;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.nn.data.PhiloxRandom;
import io.jtensor.nn.data.Transform;
import io.jtensor.nn.data.transforms.RandomAffine.Interpolation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TransformsTest {
    private final List<NDArray> toClose = new ArrayList<>();

    @AfterEach
    void closeArrays() {
        toClose.forEach(NDArray::close);
    }

    private NDArray t(NDArray a) {
        toClose.add(a);
        return a;
    }

    /** The 1x3x3 image 1..9 row by row. */
    private NDArray nine() { return t(NDArray.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3)); }

    private static void assertPixels(double[] expected, NDArray actual, double tol) {
        double[] got = actual.toDoubleArray();
        assertEquals(expected.length, got.length, "element count");
        for (int i = 0; i < expected.length; i++) {
            final int k = i;
            assertEquals(expected[i], got[i], tol, () -> "pixel " + k + ": expected " + java.util.Arrays.toString(expected) + " got "
                    + java.util.Arrays.toString(got));
        }
    }

    // ------------------------------------------------------------------ Normalize

    @Test
    void normalizeSubtractsMeanAndDividesByStdPerChannel() {
        Normalize n = new Normalize(new double[] {1, 2}, new double[] {2, 4});
        NDArray img = t(NDArray.of(new float[] {1, 3, 2, 6}, 2, 1, 2)); // c0: 1, 3; c1: 2, 6
        NDArray out = t(n.apply(img, null));
        assertEquals(DType.F32, out.dtype());
        assertArrayEquals(new long[] {2, 1, 2}, out.shape());
        assertPixels(new double[] {0, 1, 0, 1}, out, 0);
        // On a batch [2,2,1,2], the same per channel.
        NDArray batch = t(NDArray.of(new double[] {1, 3, 2, 6, 5, -1, 10, 0}, 2, 2, 1, 2));
        NDArray outB = t(n.apply(batch, null));
        assertEquals(DType.F64, outB.dtype());
        assertPixels(new double[] {0, 1, 0, 1, 2, -1, 2, -0.5}, outB, 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new Normalize(new double[] {1, 2, 3}, new double[] {1, 1, 1}).apply(img, null));
        assertThrows(IllegalArgumentException.class, () -> new Normalize(0, 0));
    }

    // ------------------------------------------------------------------ flips

    @Test
    void flipMirrorsColumns() {
        NDArray img = t(NDArray.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3));
        assertPixels(new double[] {3, 2, 1, 6, 5, 4}, t(RandomHorizontalFlip.flip(img)), 0);
        assertPixels(new double[] {3, 2, 1, 6, 5, 4}, t(new RandomHorizontalFlip(1).apply(img, new PhiloxRandom(1))), 0);
        assertPixels(new double[] {1, 2, 3, 4, 5, 6}, t(new RandomHorizontalFlip(0).apply(img, new PhiloxRandom(1))), 0);
    }

    @Test
    void randomFlipDecidesPerImageFromTheGenerator() {
        int n = 16;
        float[] v = new float[n * 2];
        for (int i = 0; i < n; i++) {
            v[2 * i] = i;
            v[2 * i + 1] = 100 + i;
        }
        NDArray batch = t(NDArray.of(v, n, 1, 1, 2));
        NDArray out = t(new RandomHorizontalFlip(0.5).apply(batch, new PhiloxRandom(42)));
        // Replay the decisions with an identically seeded generator: one nextDouble per image.
        RandomGenerator replay = new PhiloxRandom(42);
        double[] expected = new double[n * 2];
        int flipped = 0;
        for (int i = 0; i < n; i++) {
            boolean flip = replay.nextDouble() < 0.5;
            if (flip) flipped++;
            expected[2 * i] = flip ? 100 + i : i;
            expected[2 * i + 1] = flip ? i : 100 + i;
        }
        assertTrue(flipped > 0 && flipped < n, "the seed should flip some images and not others");
        assertPixels(expected, out, 0);
    }

    // ------------------------------------------------------------------ crops

    @Test
    void cropCutsFromTheZeroPaddedImage() {
        RandomCrop crop = new RandomCrop(3, 1);
        assertPixels(new double[] {0, 0, 0, 0, 1, 2, 0, 4, 5}, t(crop.crop(nine(), 0, 0)), 0);
        assertPixels(new double[] {5, 6, 0, 8, 9, 0, 0, 0, 0}, t(crop.crop(nine(), 2, 2)), 0);
        assertPixels(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, t(crop.crop(nine(), 1, 1)), 0);
        assertPixels(new double[] {4, 5, 7, 8}, t(new RandomCrop(2, 0).crop(nine(), 1, 0)), 0);
        assertThrows(IllegalArgumentException.class, () -> crop.crop(nine(), 3, 0));
        assertThrows(IllegalArgumentException.class, () -> new RandomCrop(6, 1).apply(nine(), new PhiloxRandom(0)));
    }

    @Test
    void randomCropVisitsEveryOffsetAndReplaysWithTheSeed() {
        RandomCrop crop = new RandomCrop(3, 1);
        Set<String> seen = new HashSet<>();
        RandomGenerator rng = new PhiloxRandom(3), replay = new PhiloxRandom(3);
        for (int i = 0; i < 60; i++) {
            NDArray out = t(crop.apply(nine(), rng));
            int top = replay.nextInt(3), left = replay.nextInt(3);
            assertPixels(t(crop.crop(nine(), top, left)).toDoubleArray(), out, 0);
            seen.add(top + "," + left);
        }
        assertEquals(9, seen.size(), "all 3x3 offsets should occur in 60 draws");
    }

    // ------------------------------------------------------------------ affine

    @Test
    void affineQuarterTurnAndIntegerShifts() {
        // 90 degrees counter-clockwise as displayed.
        assertPixels(new double[] {3, 6, 9, 2, 5, 8, 1, 4, 7}, t(RandomAffine.affine(nine(), 90, 0, 0, Interpolation.NEAREST)), 0);
        assertPixels(new double[] {3, 6, 9, 2, 5, 8, 1, 4, 7}, t(RandomAffine.affine(nine(), 90, 0, 0, Interpolation.BILINEAR)), 1e-12);
        // -90 degrees: clockwise.
        assertPixels(new double[] {7, 4, 1, 8, 5, 2, 9, 6, 3}, t(RandomAffine.affine(nine(), -90, 0, 0, Interpolation.NEAREST)), 0);
        // Content moves one pixel right; the vacated column is 0.
        assertPixels(new double[] {0, 1, 2, 0, 4, 5, 0, 7, 8}, t(RandomAffine.affine(nine(), 0, 1, 0, Interpolation.NEAREST)), 0);
        // Content moves one pixel up.
        assertPixels(new double[] {4, 5, 6, 7, 8, 9, 0, 0, 0}, t(RandomAffine.affine(nine(), 0, 0, -1, Interpolation.BILINEAR)), 0);
    }

    @Test
    void affineBilinearInterpolatesWithZeroOutside() {
        // Half a pixel right: each output is the mean of its pixel and its left neighbour (0 off the edge).
        assertPixels(new double[] {0.5, 1.5, 2.5, 2, 4.5, 5.5, 3.5, 7.5, 8.5},
                t(RandomAffine.affine(nine(), 0, 0.5, 0, Interpolation.BILINEAR)), 1e-6);
        // 45 degrees: the centre stays; the top-left output samples (1, 1 - sqrt 2), i.e. (2 - sqrt 2) of pixel (0, 1) = 2.
        NDArray r = t(RandomAffine.affine(nine(), 45, 0, 0, Interpolation.BILINEAR));
        assertEquals(5, r.getDouble(0, 1, 1), 1e-6);
        assertEquals(2 * (2 - Math.sqrt(2)), r.getDouble(0, 0, 0), 1e-6);
        // Nearest at 45 degrees: (1, -0.414) rounds to (1, 0), the pixel 2.
        assertEquals(2, t(RandomAffine.affine(nine(), 45, 0, 0, Interpolation.NEAREST)).getDouble(0, 0, 0));
    }

    @Test
    void randomAffineDrawsAngleThenShiftsFromTheGenerator() {
        RandomAffine aff = new RandomAffine(2, 30, Interpolation.BILINEAR);
        NDArray img = t(NDArray.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 1, 4, 4));
        NDArray out = t(aff.apply(img, new PhiloxRandom(8)));
        RandomGenerator replay = new PhiloxRandom(8);
        double angle = (2 * replay.nextDouble() - 1) * 30, tx = (2 * replay.nextDouble() - 1) * 2, ty = (2 * replay.nextDouble() - 1) * 2;
        assertTrue(Math.abs(angle) <= 30 && Math.abs(tx) <= 2 && Math.abs(ty) <= 2);
        assertPixels(t(RandomAffine.affine(img, angle, tx, ty, Interpolation.BILINEAR)).toDoubleArray(), out, 0);
        assertPixels(out.toDoubleArray(), t(aff.apply(img, new PhiloxRandom(8))), 0);
        assertFalse(java.util.Arrays.equals(out.toDoubleArray(), t(aff.apply(img, new PhiloxRandom(9))).toDoubleArray()));
    }

    // ------------------------------------------------------------------ erasing

    @Test
    void eraseSetsTheRectangleInEveryChannel() {
        NDArray img = t(NDArray.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 3));
        assertPixels(new double[] {1, 2, 3, -1, -1, 6, 7, 8, 9, -1, -1, 12}, t(RandomErasing.erase(img, 1, 0, 1, 2, -1)), 0);
        assertThrows(IllegalArgumentException.class, () -> RandomErasing.erase(img, 1, 2, 1, 2, 0));
    }

    @Test
    void randomErasingErasesOneRectangleOfTheRequestedArea() {
        int c = 2, h = 20, w = 20;
        float[] v = new float[c * h * w];
        java.util.Arrays.fill(v, 1f);
        NDArray img = t(NDArray.of(v, c, h, w));
        RandomErasing never = new RandomErasing(0, 0.1, 0.2);
        assertPixels(img.toDoubleArray(), t(never.apply(img, new PhiloxRandom(1))), 0);

        RandomErasing always = new RandomErasing(1, 0.1, 0.2);
        for (int seed = 0; seed < 20; seed++) {
            double[] out = t(always.apply(img, new PhiloxRandom(seed))).toDoubleArray();
            int minY = h, maxY = -1, minX = w, maxX = -1, zeros = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    boolean erased0 = out[y * w + x] == 0, erased1 = out[h * w + y * w + x] == 0;
                    assertEquals(erased0, erased1, "both channels erased alike");
                    if (erased0) {
                        zeros++;
                        minY = Math.min(minY, y);
                        maxY = Math.max(maxY, y);
                        minX = Math.min(minX, x);
                        maxX = Math.max(maxX, x);
                    }
                }
            }
            assertTrue(zeros > 0, "p = 1 always erases (the ratio range makes some draw fit)");
            assertEquals((maxY - minY + 1) * (maxX - minX + 1), zeros, "the erased pixels form one rectangle");
            // Area 10%..20% of 400 = 40..80 pixels, give or take the rounding of h and w.
            assertTrue(zeros >= 25 && zeros <= 100, "area " + zeros);
        }
    }

    // ------------------------------------------------------------------ composition and shapes

    @Test
    void composeRunsLeftToRightAndWorksOnBatches() {
        Transform flipThenNorm = Transform.compose(new RandomHorizontalFlip(1), new Normalize(1, 2));
        NDArray batch = t(NDArray.of(new float[] {1, 3, 5, 7}, 2, 1, 1, 2));
        NDArray out = t(flipThenNorm.apply(batch, new PhiloxRandom(0)));
        assertArrayEquals(new long[] {2, 1, 1, 2}, out.shape());
        assertPixels(new double[] {1, 0, 3, 2}, out, 0);
        assertThrows(IllegalArgumentException.class, () -> new RandomHorizontalFlip(1).apply(t(NDArray.of(new float[] {1, 2}, 2)), new PhiloxRandom(0)));
    }

    @Test
    void transformsKeepTheInputDtype() {
        NDArray u8 = t(NDArray.fromBytes(new byte[] {(byte) 200, 10, 20, 30}, DType.U8, 1, 2, 2));
        NDArray out = t(RandomHorizontalFlip.flip(u8));
        assertEquals(DType.U8, out.dtype());
        assertPixels(new double[] {10, 200, 30, 20}, out, 0);
    }
}
