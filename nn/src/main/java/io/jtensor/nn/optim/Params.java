package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;

/** The few things optimizers need from a parameter tensor, in one place. */
final class Params {
    private Params() {}

    static NDArray data(Tensor p) { return p.data(); }

    /** The gradient's data, or null when the parameter has none. */
    static NDArray grad(Tensor p) {
        Tensor g = p.grad();
        return g == null ? null : g.data();
    }

    static void clearGrad(Tensor p) { p.zeroGrad(); }
}
