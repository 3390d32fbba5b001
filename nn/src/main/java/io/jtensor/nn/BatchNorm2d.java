package io.jtensor.nn;

/** Batch normalisation of [N, C, H, W] inputs, per feature map C (statistics over N, H and W). */
public class BatchNorm2d extends BatchNorm {
    public BatchNorm2d(long numFeatures) { this(numFeatures, 1e-5, 0.1, true, true); }

    public BatchNorm2d(long numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override protected boolean acceptsRank(int rank) { return rank == 4; }
    @Override protected String expectedInput() { return "[N, C, H, W]"; }
}
