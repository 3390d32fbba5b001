package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/**
 * Cross-entropy of logits [N, C] (or [N, C, d...]) against class indices [N] (or [N, d...]); targets equal to
 * {@code ignoreIndex} (-100 by default) neither contribute nor count, and {@code labelSmoothing} mixes the target
 * with the uniform distribution (see {@link Functional#crossEntropy}).
 */
public class CrossEntropyLoss extends Loss {
    private final long ignoreIndex;
    private final double labelSmoothing;

    public CrossEntropyLoss() { this(Reduction.MEAN, -100, 0); }

    public CrossEntropyLoss(Reduction reduction, long ignoreIndex, double labelSmoothing) {
        super(reduction);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropyLoss: labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
        this.ignoreIndex = ignoreIndex;
        this.labelSmoothing = labelSmoothing;
    }

    @Override public Tensor forward(Tensor logits, Tensor targets) {
        return Functional.crossEntropy(logits, targets, ignoreIndex, labelSmoothing, reduction());
    }
}
