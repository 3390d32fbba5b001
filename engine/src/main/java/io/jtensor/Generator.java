package io.jtensor;

/**
 * A seed and a running offset into the Philox stream ({@link Philox}). Each draw takes the next
 * {@code ceil(n/4)} counters, so a seeded sequence of draws gives the same numbers on every device.
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(0x5EEDL);

    private long seed;
    private long offset;

    public Generator(long seed) { this.seed = seed; }

    /** The process-wide generator the factory methods use when none is given. */
    public static Generator defaultGenerator() { return DEFAULT; }

    /** Reseeds the default generator, like {@code torch.manual_seed}. */
    public static void manualSeed(long seed) { DEFAULT.setSeed(seed); }

    public synchronized void setSeed(long seed) {
        this.seed = seed;
        this.offset = 0;
    }

    public synchronized long seed() { return seed; }
    public synchronized long offset() { return offset; }
    public synchronized void setOffset(long offset) { this.offset = offset; }

    /** Reserves the counters for n elements and returns the offset the draw starts at. */
    public synchronized long reserve(long n) {
        long start = offset;
        offset += Philox.blocksFor(n);
        return start;
    }
}
