package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Flattens dims startDim..endDim (inclusive) into one; by default all but the batch dim. */
public class Flatten extends Module {
    private final int startDim, endDim;

    public Flatten() { this(1, -1); }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override public Tensor forward(Tensor x) { return x.flatten(startDim, endDim); }

    @Override protected String extraRepr() { return "start_dim=" + startDim + ", end_dim=" + endDim; }
}
