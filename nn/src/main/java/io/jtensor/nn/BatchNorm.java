package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * Batch normalisation per channel (dim 1), PyTorch's {@code _BatchNorm}: in training, the batch mean and biased
 * variance normalise and the running statistics move by {@code momentum} towards the batch mean and unbiased
 * variance; in eval, the running statistics normalise. Parameters "weight" (ones) and "bias" (zeros) when affine;
 * buffers "running_mean" (zeros), "running_var" (ones) and "num_batches_tracked" when tracking running statistics; a
 * state dict without num_batches_tracked loads, setting it to 0, as in PyTorch.
 */
public abstract class BatchNorm extends Module {
    private final long numFeatures;
    private final double eps;
    /** null: the cumulative average (PyTorch's momentum=None), each batch weighing 1 / num_batches_tracked. */
    private final Double momentum;
    private final boolean affine;
    private final boolean trackRunningStats;
    private final Tensor weight;
    private final Tensor bias;
    private Normalizer normalizer = Functional::batchNorm;

    /**
     * The batch-norm math this layer applies, {@link Functional#batchNorm} unless replaced: SyncBatchNorm swaps in one
     * that takes training statistics over a process group. Same contract as {@link Functional#batchNorm}.
     */
    @FunctionalInterface
    public interface Normalizer {
        Tensor apply(Tensor x, NDArray runningMean, NDArray runningVar, Tensor weight, Tensor bias, boolean training, double momentum,
                     double eps);
    }

    /** {@code momentum} null averages every batch equally, as PyTorch's momentum=None. */
    protected BatchNorm(long numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        if (numFeatures < 1) throw new IllegalArgumentException(getClass().getSimpleName() + ": numFeatures must be >= 1, got " + numFeatures);
        if (momentum != null && !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": momentum must be in [0, 1] or null (cumulative average), got " + momentum);
        }
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.trackRunningStats = trackRunningStats;
        weight = affine ? registerParameter("weight", NDArray.ones(DType.F32, Device.cpu(), numFeatures)) : null;
        bias = affine ? registerParameter("bias", NDArray.zeros(DType.F32, Device.cpu(), numFeatures)) : null;
        if (trackRunningStats) {
            registerBuffer("running_mean", NDArray.zeros(DType.F32, Device.cpu(), numFeatures));
            registerBuffer("running_var", NDArray.ones(DType.F32, Device.cpu(), numFeatures));
            registerBuffer("num_batches_tracked", NDArray.zeros(DType.I64, Device.cpu()));
        }
    }

    /** The input ranks this variant accepts (e.g. 2 or 3 for BatchNorm1d). */
    protected abstract boolean acceptsRank(int rank);

    protected abstract String expectedInput();

    @Override public Tensor forward(Tensor x) {
        if (!acceptsRank(x.dim()) || x.size(1) != numFeatures) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": expected input " + expectedInput() + " with C = "
                    + numFeatures + ", got " + Arrays.toString(x.shape()));
        }
        NDArray mean = trackRunningStats ? buffer("running_mean") : null;
        NDArray var = trackRunningStats ? buffer("running_var") : null;
        if (isTraining() && trackRunningStats) buffer("num_batches_tracked").addInPlace(1);
        double factor = momentum != null ? momentum : isTraining() && trackRunningStats ? 1.0 / numBatchesTracked() : 0.0;
        // Without running statistics, eval also normalises with the batch's own (Functional sees null buffers).
        return normalizer.apply(x, mean, var, weight, bias, isTraining(), factor, eps);
    }

    /**
     * PyTorch fills in a checkpoint's missing num_batches_tracked with 0 (checkpoints from before PyTorch 0.4.1 and
     * exporters that drop integer buffers), so a strict load accepts it too.
     */
    @Override protected NDArray missingStateDefault(String name) {
        return trackRunningStats && name.equals("num_batches_tracked") ? NDArray.zeros(DType.I64, Device.cpu()) : null;
    }

    /** Replaces the math of this layer (see {@link Normalizer}); returns this. */
    public BatchNorm normalizer(Normalizer n) {
        if (n == null) throw new IllegalArgumentException(getClass().getSimpleName() + ".normalizer: null");
        this.normalizer = n;
        return this;
    }

    public Normalizer normalizer() { return normalizer; }

    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }
    public NDArray runningMean() { return trackRunningStats ? buffer("running_mean") : null; }
    public NDArray runningVar() { return trackRunningStats ? buffer("running_var") : null; }
    public long numBatchesTracked() { return trackRunningStats ? (long) buffer("num_batches_tracked").item() : 0; }

    @Override protected String extraRepr() {
        return numFeatures + ", eps=" + py(eps) + ", momentum=" + (momentum == null ? "None" : py(momentum)) + ", affine=" + py(affine) + ", track_running_stats=" + py(trackRunningStats);
    }
}
