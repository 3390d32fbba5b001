package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Squared error (x - y)^2, reduced. */
public class MSELoss extends Loss {
    public MSELoss() { this(Reduction.MEAN); }
    public MSELoss(Reduction reduction) { super(reduction); }

    @Override public Tensor forward(Tensor input, Tensor target) { return Functional.mseLoss(input, target, reduction()); }
}
