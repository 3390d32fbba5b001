package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** x Phi(x) with Phi the standard normal CDF (exact, erf form), or its tanh approximation when asked. */
public class GELU extends Module {
    private final boolean tanhApproximation;

    public GELU() { this(false); }
    public GELU(boolean tanhApproximation) { this.tanhApproximation = tanhApproximation; }

    @Override public Tensor forward(Tensor x) { return tanhApproximation ? Functional.geluTanh(x) : x.gelu(); }

    @Override protected String extraRepr() { return "approximate='" + (tanhApproximation ? "tanh" : "none") + "'"; }
}
