package io.jtensor.nn.data;

/**
 * One rank's share of a dataset for evaluation over several processes: indices {@code rank, rank + worldSize, ...}
 * below n, in order, with no padding, so that every example is seen exactly once across the ranks and summed metrics
 * are those of the whole dataset. Shares differ in length by at most one, so this is not for training, where every
 * rank must run the same number of steps (use {@link DistributedSampler}).
 */
public final class ShardSampler implements Sampler {
    private final long n;
    private final int rank;
    private final int worldSize;

    public ShardSampler(long n, int rank, int worldSize) {
        if (n < 0) throw new IllegalArgumentException("ShardSampler: expected a dataset size >= 0, got " + n);
        if (worldSize < 1) throw new IllegalArgumentException("ShardSampler: expected worldSize >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("ShardSampler: expected rank in [0, " + worldSize + "), got " + rank);
        this.n = n;
        this.rank = rank;
        this.worldSize = worldSize;
    }

    @Override public long length() { return n > rank ? (n - rank + worldSize - 1) / worldSize : 0; }

    @Override public long[] indices() {
        long[] out = new long[Math.toIntExact(length())];
        for (int j = 0; j < out.length; j++) out[j] = rank + (long) j * worldSize;
        return out;
    }
}
