package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** A criterion: compares a model's output with a target and reduces the per-element losses (mean by default). */
public abstract class Loss extends Module {
    private final Reduction reduction;

    protected Loss(Reduction reduction) {
        if (reduction == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": reduction is null");
        this.reduction = reduction;
    }

    public abstract Tensor forward(Tensor input, Tensor target);

    public Reduction reduction() { return reduction; }

    @Override protected String extraRepr() { return reduction == Reduction.MEAN ? "" : "reduction=" + reduction.name().toLowerCase(); }
}
