package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/**
 * Maxout (Goodfellow et al., 2013) as an activation: the features along {@code dim} (1 by default) form groups of
 * {@code pieces} consecutive values, and each group gives its maximum, so [N, C*k, ...] becomes [N, C, ...]. Put a
 * Linear or Conv2d with k times the outputs in front of it for the classic maxout unit.
 */
public class Maxout extends Module {
    private final int pieces;
    private final int dim;

    public Maxout(int pieces) { this(pieces, 1); }

    public Maxout(int pieces, int dim) {
        if (pieces < 1) throw new IllegalArgumentException("Maxout: pieces must be >= 1, got " + pieces);
        this.pieces = pieces;
        this.dim = dim;
    }

    @Override public Tensor forward(Tensor x) { return Functional.maxout(x, pieces, dim); }

    @Override protected String extraRepr() { return "pieces=" + pieces + ", dim=" + dim; }
}
