package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;

/** max(0, x) + a min(0, x) with a learned slope "weight": one shared, or one per channel (dim 1); init 0.25. */
public class PReLU extends Module {
    private final Tensor weight;

    public PReLU() { this(1, 0.25); }

    public PReLU(long numParameters, double init) {
        if (numParameters < 1) throw new IllegalArgumentException("PReLU: numParameters must be >= 1, got " + numParameters);
        weight = registerParameter("weight", NDArray.full(init, DType.F32, Device.cpu(), numParameters));
    }

    @Override public Tensor forward(Tensor x) { return Functional.prelu(x, weight); }

    public Tensor weight() { return weight; }

    @Override protected String extraRepr() { return "num_parameters=" + weight.numel(); }
}
