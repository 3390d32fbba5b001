package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * Layer normalisation over the trailing dims {@code normalizedShape}: each sample's values there are centred and
 * divided by sqrt(biased variance + eps), then scaled by "weight" (ones) and shifted by "bias" (zeros) when
 * {@code elementwiseAffine}. Same in training and eval.
 */
public class LayerNorm extends Module {
    private final long[] normalizedShape;
    private final double eps;
    private final Tensor weight;
    private final Tensor bias;

    public LayerNorm(long... normalizedShape) { this(normalizedShape, 1e-5, true); }

    public LayerNorm(long[] normalizedShape, double eps, boolean elementwiseAffine) {
        if (normalizedShape.length == 0) throw new IllegalArgumentException("LayerNorm: normalizedShape must not be empty");
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        weight = elementwiseAffine ? registerParameter("weight", NDArray.ones(DType.F32, Device.cpu(), normalizedShape)) : null;
        bias = elementwiseAffine ? registerParameter("bias", NDArray.zeros(DType.F32, Device.cpu(), normalizedShape)) : null;
    }

    @Override public Tensor forward(Tensor x) {
        long[] s = x.shape();
        int k = normalizedShape.length;
        if (s.length < k || !Arrays.equals(Arrays.copyOfRange(s, s.length - k, s.length), normalizedShape)) {
            throw new IllegalArgumentException("LayerNorm: expected input [..., " + Arrays.toString(normalizedShape).replaceAll("[\\[\\]]", "")
                    + "], got " + Arrays.toString(s));
        }
        return x.layerNorm(k, weight, bias, eps);
    }

    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }

    @Override protected String extraRepr() {
        String shape = normalizedShape.length == 1 ? "(" + normalizedShape[0] + ",)" : Arrays.toString(normalizedShape).replace('[', '(').replace(']', ')');
        return shape + ", eps=" + py(eps) + ", elementwise_affine=" + py(weight != null);
    }
}
