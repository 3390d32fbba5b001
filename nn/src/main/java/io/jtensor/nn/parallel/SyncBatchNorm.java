package io.jtensor.nn.parallel;

import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.BatchNorm;
import io.jtensor.nn.Module;

/**
 * Batch normalisation whose training statistics are those of the whole global batch, PyTorch's
 * {@code SyncBatchNorm}: every rank's per-channel sums are all-reduced over {@code group}, so each rank normalises
 * with the mean and variance of all ranks' samples together, and the backward all-reduces the gradients of those
 * sums in turn ({@link GroupBatchNorm}). With DDP, training on W shards then equals training with plain batch norm
 * on the whole batch. In eval, or on a group of one, it is plain batch norm. Accepts any input [N, C, ...].
 *
 * <p>{@link #convert} turns the batch-norm layers of an existing model into synchronised ones. PyTorch replaces
 * each layer in the module tree; a Java model that holds its layers in final fields would keep calling the old
 * objects, so here each {@link BatchNorm} is switched in place (its math replaced through
 * {@link BatchNorm#normalizer}): parameters, buffers, names and state dict stay exactly as they were.
 */
public class SyncBatchNorm extends BatchNorm {
    public SyncBatchNorm(long numFeatures, ProcessGroup group) { this(numFeatures, 1e-5, 0.1, true, true, group); }

    public SyncBatchNorm(long numFeatures, double eps, double momentum, boolean affine, boolean trackRunningStats, ProcessGroup group) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
        if (group == null) throw new IllegalArgumentException("SyncBatchNorm: group is null");
        normalizer(new GroupBatchNorm(group));
    }

    @Override protected boolean acceptsRank(int rank) { return rank >= 2; }
    @Override protected String expectedInput() { return "[N, C, ...]"; }

    /**
     * Makes every batch-norm layer of {@code module} (itself included) take its training statistics over
     * {@code group}; returns {@code module}. Layers already synchronised are left as they are.
     */
    public static <M extends Module> M convert(M module, ProcessGroup group) {
        if (group == null) throw new IllegalArgumentException("SyncBatchNorm.convert: group is null");
        for (Module m : module.namedModules().values()) {
            if (m instanceof BatchNorm bn && !(bn.normalizer() instanceof GroupBatchNorm)) bn.normalizer(new GroupBatchNorm(group));
        }
        return module;
    }

    /** Whether {@code bn} takes its statistics over a group (it was made a SyncBatchNorm or converted). */
    public static boolean isSynchronized(BatchNorm bn) { return bn.normalizer() instanceof GroupBatchNorm; }
}
