package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** x for x >= 0, slope * x below (slope 0.01 by default). */
public class LeakyReLU extends Module {
    private final double negativeSlope;

    public LeakyReLU() { this(0.01); }
    public LeakyReLU(double negativeSlope) { this.negativeSlope = negativeSlope; }

    @Override public Tensor forward(Tensor x) { return x.leakyRelu(negativeSlope); }

    @Override protected String extraRepr() { return "negative_slope=" + negativeSlope; }
}
