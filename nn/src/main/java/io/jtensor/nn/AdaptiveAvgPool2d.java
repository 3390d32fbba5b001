package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Average pooling to a fixed output size (see {@link Functional#adaptiveAvgPool2d}). */
public class AdaptiveAvgPool2d extends Module {
    private final int outH, outW;

    public AdaptiveAvgPool2d(int outSize) { this(outSize, outSize); }

    public AdaptiveAvgPool2d(int outH, int outW) {
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("AdaptiveAvgPool2d: output size must be >= 1, got " + outH + "x" + outW);
        this.outH = outH;
        this.outW = outW;
    }

    @Override public Tensor forward(Tensor x) { return Functional.adaptiveAvgPool2d(x, outH, outW); }

    @Override protected String extraRepr() { return "output_size=(" + outH + ", " + outW + ")"; }
}
