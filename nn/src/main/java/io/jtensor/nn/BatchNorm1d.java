package io.jtensor.nn;

/** Batch normalisation of [N, C] or [N, C, L] inputs, per feature C. */
public class BatchNorm1d extends BatchNorm {
    public BatchNorm1d(long numFeatures) { this(numFeatures, 1e-5, 0.1, true, true); }

    public BatchNorm1d(long numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override protected boolean acceptsRank(int rank) { return rank == 2 || rank == 3; }
    @Override protected String expectedInput() { return "[N, C] or [N, C, L]"; }
}
