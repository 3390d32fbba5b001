package io.jtensor.nn.data;

/** 0, 1, ..., n-1, every epoch. */
public final class SequentialSampler implements Sampler {
    private final long n;

    public SequentialSampler(long n) {
        if (n < 0) throw new IllegalArgumentException("SequentialSampler: expected a size >= 0, got " + n);
        this.n = n;
    }

    @Override public long length() { return n; }

    @Override public long[] indices() {
        long[] out = new long[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) out[i] = i;
        return out;
    }
}
