package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** x_i - log sum_j exp(x_j) along dim. */
public class LogSoftmax extends Module {
    private final int dim;

    public LogSoftmax(int dim) { this.dim = dim; }

    @Override public Tensor forward(Tensor x) { return x.logSoftmax(dim); }

    @Override protected String extraRepr() { return "dim=" + dim; }
}
