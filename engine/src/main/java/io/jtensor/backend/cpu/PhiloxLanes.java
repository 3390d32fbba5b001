package io.jtensor.backend.cpu;

import io.jtensor.Philox;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Philox 4x32-10 for several consecutive counters at once: each SIMD lane runs one counter's ten rounds, with the
 * 32-bit words held zero-extended in 64-bit lanes so that one 64-bit multiply gives both halves of the 32x32
 * product. The words equal {@link Philox#block}'s for the same counter and key (checked by the tests), and the
 * uniform and Box-Muller transforms follow {@link Philox}'s definitions in double lanes.
 */
final class PhiloxLanes {
    static final VectorSpecies<Long> LS = LongVector.SPECIES_512;
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_512;
    /** Counters per call. */
    static final int BLOCKS = LS.length();

    private static final long MASK = 0xFFFFFFFFL;
    private static final long M0 = 0xD2511F53L, M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /** Scatter maps placing lane b of word w at element 4b + w. */
    private static final int[][] INTERLEAVE = new int[4][BLOCKS];

    static {
        for (int w = 0; w < 4; w++) for (int b = 0; b < BLOCKS; b++) INTERLEAVE[w][b] = 4 * b + w;
    }

    private PhiloxLanes() {}

    /**
     * The four output words for counters first..first+BLOCKS-1, word w of counter first+b at words[w * BLOCKS + b].
     * (Vectors stay in registers inside this method; handing them out in an array would box them.)
     */
    static void blocks(long first, long seed, long[] words) {
        LongVector counters = LongVector.broadcast(LS, first).add(LongVector.zero(LS).addIndex(1));
        LongVector c0 = counters.and(MASK), c1 = counters.lanewise(VectorOperators.LSHR, 32);
        LongVector c2 = LongVector.zero(LS), c3 = c2;
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        for (int round = 0; round < 10; round++) {
            LongVector p0 = c0.mul(M0), p1 = c2.mul(M1);
            LongVector n0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0 & MASK);
            LongVector n2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3).lanewise(VectorOperators.XOR, k1 & MASK);
            c1 = p1.and(MASK);
            c3 = p0.and(MASK);
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        c0.intoArray(words, 0);
        c1.intoArray(words, BLOCKS);
        c2.intoArray(words, 2 * BLOCKS);
        c3.intoArray(words, 3 * BLOCKS);
    }

    private static DoubleVector top24(long[] words, int w) {
        return (DoubleVector) LongVector.fromArray(LS, words, w * BLOCKS).lanewise(VectorOperators.LSHR, 8).convert(VectorOperators.L2D, 0);
    }

    /** Uniforms lo + (hi - lo) * u for BLOCKS counters, written to out[at + 4b + word] (two roundings, as in the scalar form). */
    static void uniform(long first, long seed, double lo, double hi, double[] out, int at, long[] words) {
        blocks(first, seed, words);
        double span = hi - lo;
        for (int k = 0; k < 4; k++) top24(words, k).mul(Philox.TWO_POW_M24).mul(span).add(lo).intoArray(out, at, INTERLEAVE[k], 0);
    }

    /** Normals mean + std * z by Box-Muller over the word pairs (0, 1) and (2, 3). */
    static void normal(long first, long seed, double mean, double std, double[] out, int at, long[] words) {
        blocks(first, seed, words);
        for (int pair = 0; pair < 4; pair += 2) {
            DoubleVector u1 = top24(words, pair).add(1).mul(Philox.TWO_POW_M24);
            DoubleVector u2 = top24(words, pair + 1).mul(Philox.TWO_POW_M24);
            // log, cos and sin lane by lane with Math's, as Philox.normal: a vector LOG/COS/SIN gives other bits once
            // C2 compiles it, and the draws of a seed would depend on the JIT
            double[] a = u1.toArray(), b = u2.toArray();
            double[] even = new double[a.length], odd = new double[a.length];
            for (int l = 0; l < a.length; l++) {
                double r = Math.sqrt(-2.0 * Math.log(a[l])), theta = 2 * Math.PI * b[l];
                even[l] = r * Math.cos(theta) * std + mean;
                odd[l] = r * Math.sin(theta) * std + mean;
            }
            DoubleVector.fromArray(u1.species(), even, 0).intoArray(out, at, INTERLEAVE[pair], 0);
            DoubleVector.fromArray(u1.species(), odd, 0).intoArray(out, at, INTERLEAVE[pair + 1], 0);
        }
    }
}
