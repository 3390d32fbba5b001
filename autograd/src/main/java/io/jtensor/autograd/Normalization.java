package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.Arrays;

/** Derivative rule of the fused layer normalisation, delegating to the backend's backward kernel. */
final class Normalization {
    private Normalization() {}

    /**
     * Layer norm of x over its last {@code normalizedDims} dims; weight and bias (those dims' shape) may be null.
     * Saves x and the per-row mean and rstd; gradients of weight and bias come back in their own dtype and shape.
     */
    static Tensor layerNorm(Tensor x, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        long[] s = x.shape();
        if (normalizedDims < 1 || normalizedDims > s.length) {
            throw new IllegalArgumentException("layerNorm: cannot normalise the last " + normalizedDims + " dims of " + Arrays.toString(s));
        }
        long n = 1;
        for (int i = s.length - normalizedDims; i < s.length; i++) n *= s[i];
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("layerNorm: rows of " + n + " elements are too long");
        int size = (int) n;
        NDArray[] r = x.data().layerNorm(size, weight == null ? null : weight.data(), bias == null ? null : bias.data(), eps);
        Tensor[] inputs = weight == null && bias == null ? new Tensor[] {x}
                : weight == null ? new Tensor[] {x, bias} : bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
        int wIndex = weight == null ? -1 : 1, bIndex = bias == null ? -1 : weight == null ? 1 : 2;
        try (NDArray mean = r[1]; NDArray rstd = r[2]) {
            return Recorder.record("layerNorm", r[0], inputs, saved -> {
                NDArray xv = saved.save(x.data()), mv = saved.save(mean), rv = saved.save(rstd);
                NDArray wv = weight == null ? null : saved.save(weight.data());
                return (g, need) -> {
                    boolean needW = wIndex >= 0 && need[wIndex], needB = bIndex >= 0 && need[bIndex];
                    NDArray[] gr = NDArray.layerNormBackward(g, xv, mv, rv, wv, size, need[0], needW, needB);
                    NDArray[] out = new NDArray[need.length];
                    out[0] = gr[0];
                    if (needW) out[wIndex] = asParameter(gr[1], weight);
                    if (needB) out[bIndex] = asParameter(gr[2], bias);
                    return out;
                };
            });
        }
    }

    /**
     * Batch normalisation in training mode over dim 1 (fused: one node, the backend's batchNorm kernels). The batch
     * mean and biased variance ([C]) go to the result for running statistics; they are not part of the graph.
     */
    static BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        NDArray[] r = x.data().batchNorm(weight == null ? null : weight.data(), bias == null ? null : bias.data(), eps);
        Tensor[] inputs = weight == null && bias == null ? new Tensor[] {x}
                : weight == null ? new Tensor[] {x, bias} : bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
        int wIndex = weight == null ? -1 : 1, bIndex = bias == null ? -1 : weight == null ? 1 : 2;
        NDArray mean = r[1], var = r[2];
        Tensor out;
        try {
            out = Recorder.record("batchNorm", r[0], inputs, saved -> {
                NDArray xv = saved.save(x.data()), mv = saved.save(mean), vv = saved.save(var);
                NDArray wv = weight == null ? null : saved.save(weight.data());
                return (g, need) -> {
                    boolean needW = wIndex >= 0 && need[wIndex], needB = bIndex >= 0 && need[bIndex];
                    NDArray[] gr = NDArray.batchNormBackward(g, xv, mv, vv, wv, eps, need[0], needW, needB);
                    NDArray[] grads = new NDArray[need.length];
                    grads[0] = gr[0];
                    if (needW) grads[wIndex] = asParameter(gr[1], weight);
                    if (needB) grads[bIndex] = asParameter(gr[2], bias);
                    return grads;
                };
            });
        } catch (RuntimeException | Error e) {
            mean.close();
            var.close();
            throw e;
        }
        return new BatchNormResult(out, mean, var);
    }

    /** A [n] gradient in the parameter's shape and dtype; closes the input. */
    private static NDArray asParameter(NDArray grad, Tensor p) {
        try (grad; NDArray shaped = grad.reshape(p.shape())) {
            return shaped.to(p.data().dtype());
        }
    }
}
