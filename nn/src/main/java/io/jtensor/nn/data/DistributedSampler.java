package io.jtensor.nn.data;

/**
 * The share of one rank out of {@code worldSize} in data-parallel training. Every rank computes the same global
 * order (a permutation drawn from (seed, epoch) when shuffling, else 0..n-1) and takes every worldSize-th index
 * starting at its rank, so the ranks' shares are disjoint and together cover the dataset.
 *
 * <p>So that all ranks run the same number of steps, each gets {@code ceil(n / worldSize)} indices, the global
 * order being padded by wrapping around to its start (a few examples are seen twice per epoch); with
 * {@code dropLast} each gets {@code floor(n / worldSize)} and the tail of the order is dropped instead.
 * Call {@link #setEpoch} before each epoch (the {@link DataLoader} does) or every epoch repeats one order.
 */
public final class DistributedSampler implements Sampler {
    private final long n;
    private final int rank;
    private final int worldSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final long perRank;
    private volatile long epoch;

    /** Shuffled with seed 0, padded. */
    public DistributedSampler(long n, int rank, int worldSize) { this(n, rank, worldSize, true, 0, false); }

    public DistributedSampler(long n, int rank, int worldSize, boolean shuffle, long seed, boolean dropLast) {
        if (n < 0) throw new IllegalArgumentException("DistributedSampler: expected a dataset size >= 0, got " + n);
        if (worldSize < 1) throw new IllegalArgumentException("DistributedSampler: expected worldSize >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("DistributedSampler: expected rank in [0, " + worldSize + "), got " + rank);
        }
        this.n = n;
        this.rank = rank;
        this.worldSize = worldSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
        this.perRank = dropLast ? n / worldSize : (n + worldSize - 1) / worldSize;
    }

    @Override public long length() { return perRank; }

    public int rank() { return rank; }
    public int worldSize() { return worldSize; }
    public long epoch() { return epoch; }

    @Override public void setEpoch(long epoch) { this.epoch = epoch; }

    @Override public long[] indices() {
        long[] order;
        if (shuffle) {
            order = PhiloxRandom.permutation(n, PhiloxRandom.derive(seed, epoch));
        } else {
            order = new long[Math.toIntExact(n)];
            for (int i = 0; i < order.length; i++) order[i] = i;
        }
        long[] out = new long[Math.toIntExact(perRank)];
        for (int j = 0; j < out.length; j++) {
            long global = rank + (long) j * worldSize; // position in the padded (or truncated) global order
            out[j] = order[(int) (global % n)];
        }
        return out;
    }
}
