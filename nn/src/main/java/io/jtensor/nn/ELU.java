package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** x for x > 0, alpha (exp(x) - 1) otherwise (alpha 1 by default). */
public class ELU extends Module {
    private final double alpha;

    public ELU() { this(1.0); }
    public ELU(double alpha) { this.alpha = alpha; }

    @Override public Tensor forward(Tensor x) { return x.elu(alpha); }

    @Override protected String extraRepr() { return "alpha=" + alpha; }
}
