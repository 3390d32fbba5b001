package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Quadratic below beta, linear above (see {@link Functional#smoothL1Loss}); beta 1 by default. */
public class SmoothL1Loss extends Loss {
    private final double beta;

    public SmoothL1Loss() { this(Reduction.MEAN, 1.0); }

    public SmoothL1Loss(Reduction reduction, double beta) {
        super(reduction);
        if (!(beta >= 0)) throw new IllegalArgumentException("SmoothL1Loss: beta must be >= 0, got " + beta);
        this.beta = beta;
    }

    @Override public Tensor forward(Tensor input, Tensor target) { return Functional.smoothL1Loss(input, target, beta, reduction()); }
}
