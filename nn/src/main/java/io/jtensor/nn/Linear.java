package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;

/**
 * y = x W^T + b, with W [out, in] ("weight") and b [out] ("bias"). PyTorch's default init: W by Kaiming uniform
 * with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), and b from the same range.
 */
public class Linear extends Module {
    private final long inFeatures;
    private final long outFeatures;
    private final Tensor weight;
    private final Tensor bias;

    public Linear(long inFeatures, long outFeatures) { this(inFeatures, outFeatures, true); }

    public Linear(long inFeatures, long outFeatures, boolean bias) {
        this(inFeatures, outFeatures, bias, Generator.defaultGenerator());
    }

    public Linear(long inFeatures, long outFeatures, boolean bias, Generator g) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("Linear: feature counts must be >= 1, got in=" + inFeatures + ", out=" + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = registerParameter("weight", NDArray.empty(DType.F32, Device.cpu(), outFeatures, inFeatures));
        this.bias = bias ? registerParameter("bias", NDArray.empty(DType.F32, Device.cpu(), outFeatures)) : null;
        resetParameters(g);
    }

    /** PyTorch's default initialisation, drawn from {@code g}. */
    public void resetParameters(Generator g) {
        Init.kaimingUniform(weight, Math.sqrt(5), Init.FanMode.FAN_IN, "leaky_relu", g);
        if (bias != null) {
            double bound = 1 / Math.sqrt(inFeatures);
            Init.uniform(bias, -bound, bound, g);
        }
    }

    @Override public Tensor forward(Tensor x) { return Functional.linear(x, weight, bias); }

    public Tensor weight() { return weight; }
    /** The bias, or null when the layer has none. */
    public Tensor bias() { return bias; }
    public long inFeatures() { return inFeatures; }
    public long outFeatures() { return outFeatures; }

    @Override protected String extraRepr() {
        return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + py(bias != null);
    }
}
