package io.jtensor.nn.parallel;

import io.jtensor.Device;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Loss;
import io.jtensor.nn.Module;
import io.jtensor.nn.Reduction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The parallel criterion (PyTorch-Encoding's {@code DataParallelCriterion}): given the per-device outputs of a
 * {@link DataParallelModel}, it scatters the targets to the outputs' devices (chunk i as long as output i), runs
 * the loss on every device concurrently, and returns their combination on the first output's device through a
 * differentiable {@link Comm#reduceAdd}, so backward starts on every device at once and only scalars travel.
 *
 * <p>The combination equals the loss of the whole batch on one device: for a mean-reduced loss each device's loss
 * is weighted by its share of the batch (n_i / n: the plain mean of the per-device losses when the chunks are
 * even), for a sum-reduced loss the losses are added. A mean that does not count every item (cross-entropy with an
 * ignore index, whose mean is over the targets that are not ignored) is then weighted by items, not by counted
 * targets, as PyTorch-Encoding's mean does; the single-device figure differs when the chunks hold different shares
 * of ignored targets. Losses without a reduction are refused (their per-item results would stay scattered).
 */
public class DataParallelCriterion extends Module implements ModuleWrapper {
    private final Loss loss;
    private final List<Device> devices;

    public DataParallelCriterion(Loss loss, List<Device> devices) {
        this.devices = DeviceList.check("DataParallelCriterion", devices);
        if (loss == null) throw new IllegalArgumentException("DataParallelCriterion: the loss is null");
        if (loss.reduction() == Reduction.NONE) {
            throw new IllegalArgumentException("DataParallelCriterion: expected a loss reduced by mean or sum, got "
                    + loss.getClass().getSimpleName() + " with reduction none");
        }
        DataParallel.checkOnFirstDevice("DataParallelCriterion", loss, this.devices.get(0));
        this.loss = registerModule("loss", loss);
    }

    /** The loss this criterion runs on every device. */
    public Loss loss() { return loss; }

    @Override public Module module() { return loss; }

    public List<Device> devices() { return devices; }

    /**
     * The loss of the whole batch: output i must be on device i (as {@link DataParallelModel#forwardAll} gives
     * them), and {@code targets} (on any device of the same kind) must hold as many items along dim 0 as the
     * outputs together.
     */
    public Tensor forward(List<Tensor> outputs, Tensor targets) {
        List<Device> used = checkOutputs(outputs, targets);
        int k = used.size();
        long[] sizes = new long[k];
        long total = 0;
        for (int i = 0; i < k; i++) {
            sizes[i] = outputs.get(i).size(0);
            total += sizes[i];
        }
        if (targets.dim() == 0 || targets.size(0) != total) {
            throw new IllegalArgumentException("DataParallelCriterion: expected targets with " + total + " items along dim 0 (the outputs' "
                    + Arrays.toString(sizes) + "), got shape " + Arrays.toString(targets.shape()));
        }
        if (k == 1) return loss.forward(outputs.get(0), targets.device().equals(used.get(0)) ? targets : targets.to(used.get(0)));
        boolean mean = loss.reduction() == Reduction.MEAN;
        double n = total;
        List<Tensor> chunks = Comm.scatter(targets, used, sizes, 0);
        List<Tensor> losses = null;
        Replicas replicas = Replicas.of(loss, used);
        try {
            losses = ReplicaThreads.apply("DataParallelCriterion", used, i -> {
                Tensor l = ((Loss) replicas.module(i)).forward(outputs.get(i), chunks.get(i));
                if (l.numel() != 1) {
                    throw new IllegalStateException("DataParallelCriterion: the loss on " + used.get(i) + " gave shape "
                            + Arrays.toString(l.shape()) + ", expected one value");
                }
                return mean ? l.mul(sizes[i] / n) : l;
            });
            return Comm.reduceAdd(losses, used.get(0));
        } finally {
            replicas.close(losses);
            for (Tensor c : chunks) c.close();
            if (losses != null) for (Tensor l : losses) l.close(); // the reduce-add keeps nothing of them
        }
    }

    private List<Device> checkOutputs(List<Tensor> outputs, Tensor targets) {
        if (outputs == null || outputs.isEmpty()) throw new IllegalArgumentException("DataParallelCriterion: expected at least one output");
        if (outputs.size() > devices.size()) {
            throw new IllegalArgumentException("DataParallelCriterion: expected at most " + devices.size() + " outputs (one per device of "
                    + devices + "), got " + outputs.size());
        }
        if (targets == null) throw new IllegalArgumentException("DataParallelCriterion: the targets are null");
        if (targets.isClosed()) throw new IllegalArgumentException("DataParallelCriterion: the targets were closed");
        for (int i = 0; i < outputs.size(); i++) {
            Tensor o = outputs.get(i);
            if (o == null || o.isClosed()) throw new IllegalArgumentException("DataParallelCriterion: output " + i + " is " + (o == null ? "null" : "closed"));
            if (!o.device().equals(devices.get(i))) {
                throw new IllegalArgumentException("DataParallelCriterion: expected output " + i + " on " + devices.get(i) + " (device " + i
                        + " of " + devices + "), got one on " + o.device());
            }
            if (o.dim() == 0) throw new IllegalArgumentException("DataParallelCriterion: expected outputs batched along dim 0, output " + i + " is a scalar");
        }
        if (targets.device().type() != devices.get(0).type()) {
            throw new IllegalArgumentException("DataParallelCriterion: expected the targets on a " + devices.get(0).type().name().toLowerCase()
                    + " device like the outputs, got them on " + targets.device());
        }
        return new ArrayList<>(devices.subList(0, outputs.size()));
    }
}
