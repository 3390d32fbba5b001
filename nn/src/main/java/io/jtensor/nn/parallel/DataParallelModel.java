package io.jtensor.nn.parallel;

import io.jtensor.Device;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Module;
import java.util.List;

/**
 * {@link DataParallel} without the gather (as in PyTorch-Encoding's {@code DataParallelModel}): {@link #forwardAll}
 * returns each replica's output on its own device, for a {@link DataParallelCriterion} to compute the loss there,
 * so that the outputs (a language model's logits: batch x sequence x vocabulary) never travel and only scalar
 * losses meet on one device. {@link #forward} still gathers, for evaluation and inference.
 */
public class DataParallelModel extends DataParallel {
    public DataParallelModel(Module module, List<Device> devices) { super(module, devices); }

    /**
     * The module's output on each chunk of the batch, output i on device i; fewer outputs than devices for a batch
     * smaller than the device count (see {@link Comm#chunkSizes}). The outputs belong to the caller.
     */
    public List<Tensor> forwardAll(Tensor input) { return forwardReplicas(input); }
}
