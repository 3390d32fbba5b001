package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/**
 * Negative log-likelihood of log-probabilities [N, C, ...] at class indices [N, ...] (pair it with LogSoftmax); a
 * class {@code weight} [C] rescales each class, the mean then dividing by the targets' summed weights, as PyTorch.
 */
public class NLLLoss extends Loss {
    private final long ignoreIndex;

    public NLLLoss() { this(Reduction.MEAN, -100); }

    public NLLLoss(Reduction reduction, long ignoreIndex) { this(null, reduction, ignoreIndex); }

    /** {@code weight} [C] (or null) is kept as the buffer "weight", as in PyTorch. */
    public NLLLoss(Tensor weight, Reduction reduction, long ignoreIndex) {
        super(reduction);
        this.ignoreIndex = ignoreIndex;
        if (weight != null) {
            WeightedLosses.checkWeight("NLLLoss", weight, weight.dim() == 1 ? weight.size(0) : -1);
            registerBuffer("weight", weight.data().copy());
        }
    }

    @Override public Tensor forward(Tensor logProbs, Tensor targets) {
        Tensor weight = namedBuffers().containsKey("weight") ? Tensor.wrap(buffer("weight")) : null;
        return Functional.nllLoss(logProbs, targets, weight, ignoreIndex, reduction());
    }
}
