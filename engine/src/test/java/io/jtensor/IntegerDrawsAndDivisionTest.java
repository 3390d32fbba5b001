package io.jtensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * randint in integer arithmetic over the whole long range, and scalar division correctly rounded; both against
 * definitions written here independently of the engine's code (BigInteger arithmetic on the documented Philox stream;
 * Java's float division, which is IEEE correctly rounded, as PyTorch's x / 255 in float32 is).
 */
class IntegerDrawsAndDivisionTest {
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    /** The documented stream of {@code RandomIntegers}, in BigInteger arithmetic. */
    private static long[] reference(long seed, long offset, long lo, long hi, int n) {
        BigInteger range = BigInteger.valueOf(hi).subtract(BigInteger.valueOf(lo));
        BigInteger threshold = TWO_64.subtract(range).mod(range);
        long[] out = new long[n];
        int[] block = new int[4];
        for (int i = 0; i < n; i++) {
            for (long attempt = 0; ; attempt++) {
                Philox.block(offset + i / 2, attempt, seed, block);
                int j = (i % 2) * 2;
                BigInteger x = BigInteger.valueOf(Integer.toUnsignedLong(block[j + 1])).shiftLeft(32).or(BigInteger.valueOf(Integer.toUnsignedLong(block[j])));
                BigInteger[] m = x.multiply(range).divideAndRemainder(TWO_64);
                if (m[1].compareTo(threshold) >= 0) {
                    out[i] = BigInteger.valueOf(lo).add(m[0]).longValueExact();
                    break;
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void randintFollowsItsDocumentedStreamOnEveryDeviceOverTheWholeLongRange(Device d) {
        long[][] ranges = {{Long.MAX_VALUE - 10, Long.MAX_VALUE}, {-(1L << 62), 1L << 62}, {1L << 53, (1L << 53) + 2},
                {Long.MIN_VALUE, Long.MAX_VALUE}, {-3, 4}, {0, 1}, {Long.MIN_VALUE, Long.MIN_VALUE + 3}, {0, Long.MAX_VALUE / 3 * 2}};
        for (long[] r : ranges) {
            Generator g = new Generator(1234);
            g.reserve(8); // a draw that does not start at offset 0
            long offset = 2;
            try (NDArray a = NDArray.randint(g, r[0], r[1], d, 1001); NDArray host = a.to(Device.cpu())) {
                assertEquals(DType.I64, a.dtype());
                long[] got = host.toLongArray();
                assertArrayEquals(reference(1234, offset, r[0], r[1], 1001), got, "range [" + r[0] + ", " + r[1] + ")");
                for (long v : got) assertTrue(v >= r[0] && v < r[1], v + " outside [" + r[0] + ", " + r[1] + ")");
            }
        }
    }

    @Test
    void randintReachesEveryValueOfANarrowRangeNearTheBoundsEqually() {
        Generator g = new Generator(7);
        long lo = Long.MAX_VALUE - 10;
        long[] counts = new long[10];
        try (NDArray a = NDArray.randint(g, lo, Long.MAX_VALUE, Device.cpu(), 100_000)) {
            for (long v : a.toLongArray()) counts[(int) (v - lo)]++;
        }
        chiSquareBelow(counts, 27.9); // 9 degrees of freedom, p = 0.001
        long[] two = new long[2];
        try (NDArray a = NDArray.randint(g, 1L << 53, (1L << 53) + 2, Device.cpu(), 100_000)) {
            for (long v : a.toLongArray()) two[(int) (v - (1L << 53))]++;
        }
        chiSquareBelow(two, 10.8);
        // a range of 3 * 2^61 is where a modulo of 64-bit words would be biased most (values below 2^62 twice as often)
        long[] thirds = new long[3];
        long big = 3L << 61;
        try (NDArray a = NDArray.randint(g, Long.MIN_VALUE, Long.MIN_VALUE + big, Device.cpu(), 60_000)) {
            for (long v : a.toLongArray()) thirds[(int) Long.divideUnsigned(v - Long.MIN_VALUE, 1L << 61)]++;
        }
        chiSquareBelow(thirds, 13.8);
    }

    @Test
    void aDrawAdvancesTheGeneratorByHalfABlockPerInteger() {
        Generator g = new Generator(3);
        NDArray.randint(g, 0, 10, Device.cpu(), 7).close();
        assertEquals(4, g.reserve(0));
    }

    private static void chiSquareBelow(long[] counts, double limit) {
        long total = 0;
        for (long c : counts) total += c;
        double expected = (double) total / counts.length, chi = 0;
        for (long c : counts) chi += (c - expected) * (c - expected) / expected;
        assertTrue(chi < limit, "chi-square " + chi + " for counts " + java.util.Arrays.toString(counts));
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void scalarDivisionIsCorrectlyRoundedAsPyTorchsTrueDivision(Device d) {
        float[] bytes = new float[256];
        int[] ints = new int[256];
        for (int b = 0; b < 256; b++) {
            bytes[b] = b;
            ints[b] = b;
        }
        int differsFromReciprocal = 0;
        for (double s : new double[] {255, 3, 7, 10, 0.1, 1e-3, -6}) {
            try (NDArray x = NDArray.of(bytes, 256); NDArray xd = x.to(d); NDArray q = xd.div(s);
                 NDArray xi = NDArray.of(ints, 256); NDArray xid = xi.to(d); NDArray qi = xid.div(s)) {
                assertEquals(DType.F32, q.dtype());
                assertEquals(DType.F32, qi.dtype(), "an integer array divides into F32, as PyTorch's true division");
                float[] got = q.toFloatArray(), gotInt = qi.toFloatArray();
                for (int b = 0; b < 256; b++) {
                    float want = (float) b / (float) s; // IEEE division of the two F32 operands, correctly rounded
                    assertEquals(want, got[b], 0, "x / " + s + " at " + b);
                    assertEquals(want, gotInt[b], 0, "integer x / " + s + " at " + b);
                    if (s == 255) {
                        assertEquals((float) (b / 255.0), got[b], 0, "b / 255 at " + b);
                        if (got[b] != b * (1.0f / 255f)) differsFromReciprocal++;
                    }
                }
            }
        }
        assertTrue(differsFromReciprocal > 50, "the check would not see a multiplication by the reciprocal: " + differsFromReciprocal);
        try (NDArray x = NDArray.of(new double[] {1, 2, 3}, 3); NDArray xd = x.to(d); NDArray q = xd.div(3)) {
            assertEquals(DType.F64, q.dtype());
            assertArrayEquals(new double[] {1 / 3.0, 2 / 3.0, 1.0}, q.toDoubleArray(), 0);
        }
    }
}
