package io.jtensor.nn.data;

/** A permutation of 0..n-1 drawn from (seed, epoch): a new order each epoch, the same order for the same pair. */
public final class RandomSampler implements Sampler {
    private final long n;
    private final long seed;
    private volatile long epoch;

    public RandomSampler(long n, long seed) {
        if (n < 0) throw new IllegalArgumentException("RandomSampler: expected a size >= 0, got " + n);
        this.n = n;
        this.seed = seed;
    }

    @Override public long length() { return n; }

    @Override public long[] indices() { return PhiloxRandom.permutation(n, PhiloxRandom.derive(seed, epoch)); }

    @Override public void setEpoch(long epoch) { this.epoch = epoch; }
}
