package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/**
 * Cross-entropy of logits [N, C] (or [N, C, d...]) against class indices [N] (or [N, d...]), or against class
 * probabilities of the logits' shape (PyTorch tells them apart the same way); targets equal to {@code ignoreIndex}
 * (-100 by default) neither contribute nor count, {@code labelSmoothing} mixes the target with the uniform
 * distribution, and a class {@code weight} [C] rescales each class's terms (the mean then divides by the targets'
 * summed weights). See {@link Functional#crossEntropy(Tensor, Tensor, Tensor, long, double, Reduction)}.
 */
public class CrossEntropyLoss extends Loss {
    private final long ignoreIndex;
    private final double labelSmoothing;

    public CrossEntropyLoss() { this(Reduction.MEAN, -100, 0); }

    public CrossEntropyLoss(Reduction reduction, long ignoreIndex, double labelSmoothing) { this(null, reduction, ignoreIndex, labelSmoothing); }

    /** PyTorch's {@code CrossEntropyLoss(weight)}: weight [C], one per class. */
    public CrossEntropyLoss(Tensor weight) { this(weight, Reduction.MEAN, -100, 0); }

    /** {@code weight} [C] (or null) is kept as the buffer "weight", as in PyTorch, so it moves and saves with the module. */
    public CrossEntropyLoss(Tensor weight, Reduction reduction, long ignoreIndex, double labelSmoothing) {
        super(reduction);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropyLoss: labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
        this.ignoreIndex = ignoreIndex;
        this.labelSmoothing = labelSmoothing;
        if (weight != null) {
            WeightedLosses.checkWeight("CrossEntropyLoss", weight, weight.dim() == 1 ? weight.size(0) : -1);
            registerBuffer("weight", weight.data().copy());
        }
    }

    @Override public Tensor forward(Tensor logits, Tensor targets) {
        Tensor weight = namedBuffers().containsKey("weight") ? Tensor.wrap(buffer("weight")) : null;
        return Functional.crossEntropy(logits, targets, weight, ignoreIndex, labelSmoothing, reduction());
    }
}
