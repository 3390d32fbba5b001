package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** max(0, x), elementwise. */
public class ReLU extends Module {
    @Override public Tensor forward(Tensor x) { return x.relu(); }
}
