package io.jtensor.nn;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;

/**
 * Inverted dropout: in training each element is zeroed with probability p and the rest are scaled by 1/(1-p),
 * so that eval, where the layer is the identity, needs no rescaling.
 */
public class Dropout extends Module {
    private final double p;
    private final Generator generator;

    public Dropout(double p) { this(p, null); }

    /** With its own generator (null: the default one), for reproducible masks. */
    public Dropout(double p, Generator generator) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("Dropout: p must be in [0, 1], got " + p);
        this.p = p;
        this.generator = generator;
    }

    @Override public Tensor forward(Tensor x) {
        return x.dropout(p, isTraining(), generator == null ? Generator.defaultGenerator() : generator);
    }

    public double p() { return p; }

    @Override protected String extraRepr() { return "p=" + py(p); }
}
