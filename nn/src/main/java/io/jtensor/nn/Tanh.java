package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** tanh(x), elementwise. */
public class Tanh extends Module {
    @Override public Tensor forward(Tensor x) { return x.tanh(); }
}
