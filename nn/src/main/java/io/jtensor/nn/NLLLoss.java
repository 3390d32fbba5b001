package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Negative log-likelihood of log-probabilities [N, C, ...] at class indices [N, ...] (pair it with LogSoftmax). */
public class NLLLoss extends Loss {
    private final long ignoreIndex;

    public NLLLoss() { this(Reduction.MEAN, -100); }

    public NLLLoss(Reduction reduction, long ignoreIndex) {
        super(reduction);
        this.ignoreIndex = ignoreIndex;
    }

    @Override public Tensor forward(Tensor logProbs, Tensor targets) {
        return Functional.nllLoss(logProbs, targets, ignoreIndex, reduction());
    }
}
