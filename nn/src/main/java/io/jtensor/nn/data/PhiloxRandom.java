package io.jtensor.nn.data;

import io.jtensor.Generator;
import io.jtensor.Philox;
import java.util.random.RandomGenerator;

/**
 * A {@link RandomGenerator} over the engine's Philox 4x32-10 stream, so that shuffles and augmentations are fixed
 * by a seed and do not depend on the JDK's generator algorithms. Either stands alone on a seed (counters 0, 1, 2,
 * ...) or draws its counters from an {@link io.jtensor.Generator}, advancing that generator's offset.
 *
 * <p>Not thread-safe: give each thread its own (see {@link #derive}).
 */
public final class PhiloxRandom implements RandomGenerator {
    private final Generator source;
    private final long seed;
    private long counter;
    private final int[] block = new int[4];
    private int lane = 4;

    public PhiloxRandom(long seed) {
        this.source = null;
        this.seed = seed;
    }

    private PhiloxRandom(Generator source) {
        this.source = source;
        this.seed = 0;
    }

    /** A generator that takes each block of four 32-bit words from {@code g}'s (seed, offset) stream. */
    public static PhiloxRandom from(Generator g) { return new PhiloxRandom(g); }

    /**
     * An independent stream for a seed and a tuple of keys (epoch, position, ...): the keys are mixed into one
     * 64-bit Philox key with SplitMix64's finaliser, so neighbouring tuples give unrelated streams.
     */
    public static PhiloxRandom derive(long seed, long... keys) {
        long h = mix(seed ^ 0x6A09E667F3BCC909L);
        for (long k : keys) h = mix(h ^ mix(k + 0x9E3779B97F4A7C15L));
        return new PhiloxRandom(h);
    }

    /** SplitMix64's output function: a bijection on 64-bit values with good avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override public int nextInt() {
        if (lane == 4) refill();
        return block[lane++];
    }

    @Override public long nextLong() {
        return ((long) nextInt() << 32) | (nextInt() & 0xFFFFFFFFL);
    }

    private void refill() {
        if (source == null) {
            Philox.block(counter++, seed, block);
        } else {
            long offset;
            long s;
            synchronized (source) { // one (seed, offset) pair, even if another thread reseeds meanwhile
                offset = source.reserve(4);
                s = source.seed();
            }
            Philox.block(offset, s, block);
        }
        lane = 0;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    static long[] permutation(long n, RandomGenerator rng) {
        long[] p = new long[Math.toIntExact(n)];
        for (int i = 0; i < p.length; i++) p[i] = i;
        for (int i = p.length - 1; i > 0; i--) {
            int j = (int) rng.nextLong(i + 1);
            long t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
