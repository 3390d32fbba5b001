package io.jtensor;

/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the counter-based
 * generator both backends use, so that a (seed, offset) pair names the same numbers on every device.
 *
 * <p>The stream: element {@code i} of a draw at {@code offset} takes lane {@code i % 4} of the block for the
 * 128-bit counter {@code (offset + i / 4, 0)} (low 64 bits first) under the 64-bit key {@code seed}.
 * A uniform in [0, 1) is {@code (bits >>> 8) * 2^-24}. A normal uses Box-Muller over the lane pairs (0,1) and
 * (2,3): {@code u1 = ((bits[2k] >>> 8) + 1) * 2^-24}, {@code u2 = (bits[2k+1] >>> 8) * 2^-24},
 * {@code r = sqrt(-2 ln u1)}, the even lane takes {@code r cos(2 pi u2)} and the odd lane {@code r sin(2 pi u2)},
 * computed in double. A draw of n elements advances the offset by {@code ceil(n / 4)}.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    public static final double TWO_POW_M24 = 1.0 / (1 << 24);

    private Philox() {}

    /** The four 32-bit outputs for a counter and key, written into out[0..3]. */
    public static void block(long counter, long seed, int[] out) { block(counter, 0, seed, out); }

    /**
     * The block for the full 128-bit counter (counterLo, counterHi). Every documented draw uses counterHi 0; randint's
     * retries (see {@link RandomIntegers}) use counterHi >= 1, so they never reuse another draw's numbers.
     */
    public static void block(long counterLo, long counterHi, long seed, int[] out) {
        int c0 = (int) counterLo, c1 = (int) (counterLo >>> 32), c2 = (int) counterHi, c3 = (int) (counterHi >>> 32);
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0;
            int n1 = lo1;
            int n2 = hi0 ^ c3 ^ k1;
            int n3 = lo0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
    }

    public static double uniform(int bits) { return (bits >>> 8) * TWO_POW_M24; }

    /** The normal for lane {@code lane} given the block it belongs to. */
    public static double normal(int[] block, int lane) {
        int pair = lane & 2;
        double u1 = ((block[pair] >>> 8) + 1) * TWO_POW_M24;
        double u2 = (block[pair + 1] >>> 8) * TWO_POW_M24;
        double r = Math.sqrt(-2.0 * Math.log(u1));
        double theta = 2.0 * Math.PI * u2;
        return (lane & 1) == 0 ? r * Math.cos(theta) : r * Math.sin(theta);
    }

    /** How far a draw of n elements moves the offset. */
    public static long blocksFor(long n) { return (n + 3) / 4; }
}
