package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** exp(x_i) / sum_j exp(x_j) along dim. */
public class Softmax extends Module {
    private final int dim;

    public Softmax(int dim) { this.dim = dim; }

    @Override public Tensor forward(Tensor x) { return x.softmax(dim); }

    @Override protected String extraRepr() { return "dim=" + dim; }
}
