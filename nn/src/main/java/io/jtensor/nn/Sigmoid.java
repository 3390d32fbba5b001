package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** 1 / (1 + exp(-x)), elementwise. */
public class Sigmoid extends Module {
    @Override public Tensor forward(Tensor x) { return x.sigmoid(); }
}
