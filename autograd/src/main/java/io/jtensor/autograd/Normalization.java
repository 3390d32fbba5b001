package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.Arrays;

/** Derivative rules of the fused layer and batch normalisations, delegating to the backends' backward kernels. */
final class Normalization {
    private Normalization() {}

    /**
     * Layer norm of x over its last {@code normalizedDims} dims; weight and bias (those dims' shape) may be null.
     * Saves x and the per-row mean and rstd; gradients of weight and bias come back in their own dtype and shape.
     */
    static Tensor layerNorm(Tensor x, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        return Autocasting.run(AutocastOp.LAYER_NORM, in -> layerNormAsGiven(in[0], normalizedDims, in[1], in[2], eps), x, weight, bias);
    }

    private static Tensor layerNormAsGiven(Tensor x, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        long[] s = x.shape();
        if (normalizedDims < 1 || normalizedDims > s.length) {
            throw new IllegalArgumentException("layerNorm: cannot normalise the last " + normalizedDims + " dims of " + Arrays.toString(s));
        }
        long n = 1;
        for (int i = s.length - normalizedDims; i < s.length; i++) n *= s[i];
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("layerNorm: rows of " + n + " elements are too long");
        int size = (int) n;
        NDArray[] r = x.data().layerNorm(size, weight == null ? null : weight.data(), bias == null ? null : bias.data(), eps);
        try (NDArray mean = r[1]; NDArray rstd = r[2]) {
            return record("layerNorm", r[0], x, weight, bias, mean, rstd,
                    (g, xv, mv, rv, wv, needX, needW, needB) -> NDArray.layerNormBackward(g, xv, mv, rv, wv, size, needX, needW, needB));
        }
    }

    /**
     * Batch normalisation in training mode over dim 1 (fused: one node, the backend's batchNorm kernels). The batch
     * mean and biased variance ([C]) go to the result for running statistics; they are not part of the graph.
     */
    static BatchNormResult batchNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        return Autocasting.run(AutocastOp.BATCH_NORM, in -> batchNormAsGiven(in[0], in[1], in[2], eps), x, weight, bias);
    }

    private static BatchNormResult batchNormAsGiven(Tensor x, Tensor weight, Tensor bias, double eps) {
        NDArray[] r = x.data().batchNorm(weight == null ? null : weight.data(), bias == null ? null : bias.data(), eps);
        NDArray mean = r[1], var = r[2];
        Tensor out;
        try {
            out = record("batchNorm", r[0], x, weight, bias, mean, var,
                    (g, xv, mv, vv, wv, needX, needW, needB) -> NDArray.batchNormBackward(g, xv, mv, vv, wv, eps, needX, needW, needB));
        } catch (RuntimeException | Error e) {
            mean.close();
            var.close();
            throw e;
        }
        return new BatchNormResult(out, mean, var);
    }

    /** A normalisation's backward kernel: {gradX, gradWeight, gradBias}, each null where not needed. */
    @FunctionalInterface
    private interface Backward {
        NDArray[] apply(NDArray g, NDArray x, NDArray stat1, NDArray stat2, NDArray weight, boolean needX, boolean needW, boolean needB);
    }

    /**
     * Records a normalisation of x with an optional weight and bias (the node's inputs, in that order, those present),
     * saving x, its two statistics and the weight for the backward kernel; parameter gradients come back in the
     * parameters' own dtype and shape.
     */
    private static Tensor record(String op, NDArray result, Tensor x, Tensor weight, Tensor bias, NDArray stat1, NDArray stat2,
                                 Backward backward) {
        Tensor[] inputs = weight == null && bias == null ? new Tensor[] {x}
                : weight == null ? new Tensor[] {x, bias} : bias == null ? new Tensor[] {x, weight} : new Tensor[] {x, weight, bias};
        int wIndex = weight == null ? -1 : 1, bIndex = bias == null ? -1 : weight == null ? 1 : 2;
        return Recorder.record(op, result, inputs, saved -> {
            NDArray xv = saved.save(x.data()), s1 = saved.save(stat1), s2 = saved.save(stat2);
            NDArray wv = weight == null ? null : saved.save(weight.data());
            return (g, need) -> {
                boolean needW = wIndex >= 0 && need[wIndex], needB = bIndex >= 0 && need[bIndex];
                NDArray[] gr = backward.apply(g, xv, s1, s2, wv, need[0], needW, needB);
                NDArray[] grads = new NDArray[need.length];
                grads[0] = gr[0];
                if (needW) grads[wIndex] = asParameter(gr[1], weight);
                if (needB) grads[bIndex] = asParameter(gr[2], bias);
                return grads;
            };
        });
    }

    /** A [n] gradient in the parameter's shape and dtype; closes the input. */
    private static NDArray asParameter(NDArray grad, Tensor p) {
        try (grad; NDArray shaped = grad.reshape(p.shape())) {
            return shaped.to(p.data().dtype());
        }
    }
}
