package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.AutocastOp;
import io.jtensor.autograd.Autocasting;
import io.jtensor.autograd.BatchNormResult;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The stateless operations behind the layers and losses (PyTorch's {@code nn.functional}), composed of
 * differentiable {@link Tensor} ops so that their gradients come from rules that exist once, in autograd.
 * Parameters and buffers are passed in, which also lets tests check each formula and its gradient directly.
 */
public final class Functional {
    private Functional() {}

    // ------------------------------------------------------------------ linear and convolution

    /** x @ W^T + b for x [..., in], W [out, in], b [out] or null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (x.dim() < 1 || x.size(-1) != weight.size(1)) {
            throw new IllegalArgumentException("linear: expected input [..., " + weight.size(1) + "], got " + Arrays.toString(x.shape()));
        }
        return Tensor.linear(x, weight, bias);
    }

    /**
     * Average pooling to a fixed output size: output cell i of a dim of length n covers input positions
     * floor(i*n/out) .. ceil((i+1)*n/out) - 1, as PyTorch's adaptive pooling.
     */
    public static Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        if (x.dim() != 4) throw new IllegalArgumentException("adaptiveAvgPool2d: expected input [N,C,H,W], got " + Arrays.toString(x.shape()));
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("adaptiveAvgPool2d: output size must be >= 1, got " + outH + "x" + outW);
        long h = x.size(2), w = x.size(3);
        if (outH == 1 && outW == 1) return x.mean(new int[] {2, 3}, true);
        if (h % outH == 0 && w % outW == 0) {
            int kh = (int) (h / outH), kw = (int) (w / outW);
            return Tensor.avgPool2d(x, kh, kw, new ConvParams(kh, kw, 0, 0, 1, 1, 1), true);
        }
        // A rectangle's mean is the mean over rows of the row means, so the two dims pool one after the other.
        return adaptiveMean(adaptiveMean(x, 2, outH), 3, outW);
    }

    private static Tensor adaptiveMean(Tensor x, int dim, int out) {
        long n = x.size(dim);
        List<Tensor> cells = new ArrayList<>(out);
        for (int i = 0; i < out; i++) {
            long start = Math.floorDiv(i * n, out);
            long end = -Math.floorDiv(-(i + 1) * n, out);
            cells.add(x.narrow(dim, start, end - start).mean(dim, true));
        }
        return Tensor.cat(cells, dim);
    }

    // ------------------------------------------------------------------ normalisation

    /**
     * Batch normalisation of x [N, C, ...] per channel. In training the batch mean and biased variance over every
     * dim but 1 normalise x, and, when running statistics are given, update them in place:
     * {@code running = (1 - momentum) * running + momentum * batch}, with the unbiased variance. Otherwise the
     * running statistics normalise. weight and bias ([C], or null) scale and shift the result.
     */
    public static Tensor batchNorm(Tensor x, NDArray runningMean, NDArray runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        if (x.dim() < 2) throw new IllegalArgumentException("batchNorm: expected input [N, C, ...], got " + Arrays.toString(x.shape()));
        long channels = x.size(1);
        long[] bshape = new long[x.dim()];
        Arrays.fill(bshape, 1);
        bshape[1] = channels;
        if (training || runningMean == null) {
            long count = x.numel() / Math.max(channels, 1);
            if (training && count <= 1) {
                throw new IllegalArgumentException("batchNorm: expected more than 1 value per channel when training, got input "
                        + Arrays.toString(x.shape()));
            }
            Tensor w = weight == null ? null : weight.reshape(channels), b = bias == null ? null : bias.reshape(channels);
            try (BatchNormResult r = x.batchNorm(w, b, eps)) {
                if (training && runningMean != null) {
                    // Running statistics are plain arrays: updating them must not join the graph.
                    try (NDArray unbiased = r.var().mul((double) count / (count - 1))) {
                        runningMean.mulInPlace(1 - momentum).addInPlace(r.mean(), momentum);
                        runningVar.mulInPlace(1 - momentum).addInPlace(unbiased, momentum);
                    }
                }
                return r.out();
            }
        }
        // Evaluation: an affine map per channel with the running statistics, in the table's batch-norm precision.
        return Autocasting.run(AutocastOp.BATCH_NORM, in -> batchNormEval(in[0], runningMean, runningVar, in[1], in[2], eps, bshape),
                x, weight, bias);
    }

    private static Tensor batchNormEval(Tensor x, NDArray runningMean, NDArray runningVar, Tensor weight, Tensor bias, double eps,
                                        long[] bshape) {
        Tensor mean = constant(runningMean, bshape, x.dtype());
        Tensor invStd;
        try (NDArray v = runningVar.reshape(bshape); NDArray ve = v.add(eps); NDArray r = ve.rsqrt()) {
            invStd = constant(r, bshape, x.dtype());
        }
        Tensor normalised = x.sub(mean).mul(invStd);
        // F32 parameters of a half input (AMP O2 keeps batch norm in fp32) give a result in the input's dtype, as in training.
        if (weight != null) normalised = normalised.mul(inType(weight.reshape(bshape), x.dtype()));
        if (bias != null) normalised = normalised.add(inType(bias.reshape(bshape), x.dtype()));
        return normalised;
    }

    private static Tensor inType(Tensor p, DType t) {
        return p.dtype() == t || !t.isFloating() ? p : p.to(t);
    }

    /**
     * Layer normalisation over the last {@code normalizedDims} dims: (x - mean) / sqrt(var + eps) with the biased
     * variance, then * weight + bias (of the normalised shape, or null).
     */
    public static Tensor layerNorm(Tensor x, int normalizedDims, Tensor weight, Tensor bias, double eps) {
        return x.layerNorm(normalizedDims, weight, bias, eps);
    }

    // ------------------------------------------------------------------ activations

    /** PReLU: max(0, x) + a * min(0, x), with one slope or one per channel (dim 1). */
    public static Tensor prelu(Tensor x, Tensor slope) {
        Tensor a = slope;
        if (slope.numel() > 1) {
            if (x.dim() < 2 || x.size(1) != slope.numel()) {
                throw new IllegalArgumentException("prelu: " + slope.numel() + " slopes need input [N, " + slope.numel() + ", ...], got "
                        + Arrays.toString(x.shape()));
            }
            long[] s = new long[x.dim()];
            Arrays.fill(s, 1);
            s[1] = slope.numel();
            a = slope.reshape(s);
        }
        Tensor pos = x.relu();
        return pos.add(x.sub(pos).mul(a));
    }

    /** GELU with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static Tensor geluTanh(Tensor x) {
        Tensor inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(inner.tanh().add(1)).mul(0.5);
    }

    /** Maxout: dim {@code dim} of size C*k holds C groups of k consecutive features; the max of each group. */
    public static Tensor maxout(Tensor x, int pieces, int dim) {
        int d = dim < 0 ? dim + x.dim() : dim;
        if (d < 0 || d >= x.dim()) throw new IllegalArgumentException("maxout: dim " + dim + " out of range for " + Arrays.toString(x.shape()));
        if (pieces < 1 || x.size(d) % pieces != 0) {
            throw new IllegalArgumentException("maxout: dim " + d + " of size " + x.size(d) + " is not a multiple of " + pieces + " pieces");
        }
        long[] s = x.shape();
        long[] grouped = new long[s.length + 1];
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i == d) {
                grouped[j++] = s[i] / pieces;
                grouped[j++] = pieces;
            } else {
                grouped[j++] = s[i];
            }
        }
        return x.reshape(grouped).amax(new int[] {d + 1}, false);
    }

    // ------------------------------------------------------------------ attention

    /** Attention output [..., T, Dv] and the attention weights [..., T, S] (after dropout is not applied to them). */
    public record Attention(Tensor output, Tensor weights) {}

    /**
     * softmax(q k^T / sqrt(d) masked) v for q [..., T, d], k [..., S, d], v [..., S, dv]. {@code mask} (BOOL,
     * broadcastable to [..., T, S], or null) is true where attention is not allowed; such scores become -inf.
     * Dropout (probability p, in training) applies to the weights that multiply v.
     */
    public static Attention scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, double dropout,
                                                      boolean training, Generator generator) {
        return scaledDotProductAttention(q, k, v, mask, null, dropout, training, generator);
    }

    /**
     * As above, with a floating {@code additive} mask (or null) added to the scaled scores before the softmax, as
     * PyTorch adds a float attn_mask; it broadcasts to the scores' shape.
     */
    public static Attention scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor additive, double dropout,
                                                      boolean training, Generator generator) {
        double scale = 1.0 / Math.sqrt(q.size(-1));
        Tensor scores = q.matmul(k.transpose(-2, -1)).mul(scale);
        if (additive != null) scores = scores.add(additive);
        if (mask != null) scores = scores.maskedFill(mask, Double.NEGATIVE_INFINITY);
        Tensor weights = scores.softmax(-1);
        Tensor used = dropout > 0 && training ? weights.dropout(dropout, true, generator) : weights;
        return new Attention(used.matmul(v), weights);
    }

    // ------------------------------------------------------------------ losses

    /**
     * Cross-entropy of logits [N, C, d...] against class indices [N, d...]: per position
     * -(1 - s) logp[target] - s/C sum_c logp[c] with s the label smoothing; positions whose target is
     * {@code ignoreIndex} give 0 and do not count in the mean.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor targets, long ignoreIndex, double labelSmoothing, Reduction reduction) {
        if (reduction == Reduction.MEAN) return logits.crossEntropy(targets, ignoreIndex, labelSmoothing);
        return reduce(logits.crossEntropyPerPosition(targets, ignoreIndex, labelSmoothing), reduction);
    }

    /**
     * PyTorch's cross_entropy with a class {@code weight} [C] (or null) and either class indices [N, d...] or class
     * probabilities of the logits' shape as targets; see {@link WeightedLosses} for the exact formulas.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor targets, Tensor weight, long ignoreIndex, double labelSmoothing, Reduction reduction) {
        if (weight == null && !WeightedLosses.isProbabilities(logits, targets)) return crossEntropy(logits, targets, ignoreIndex, labelSmoothing, reduction);
        return WeightedLosses.crossEntropy(logits, targets, weight, ignoreIndex, labelSmoothing, reduction);
    }

    /** Negative log-likelihood of log-probabilities [N, C, d...] at class indices [N, d...]. */
    public static Tensor nllLoss(Tensor logProbs, Tensor targets, long ignoreIndex, Reduction reduction) {
        if (reduction == Reduction.MEAN) return logProbs.nllLoss(targets, ignoreIndex);
        return reduce(logProbs.nllLossPerPosition(targets, ignoreIndex), reduction);
    }

    /** As above with a class {@code weight} [C] (or null); MEAN divides by the targets' summed weights, as PyTorch. */
    public static Tensor nllLoss(Tensor logProbs, Tensor targets, Tensor weight, long ignoreIndex, Reduction reduction) {
        if (weight == null) return nllLoss(logProbs, targets, ignoreIndex, reduction);
        return WeightedLosses.nllLoss(logProbs, targets, weight, ignoreIndex, reduction);
    }

    /** Mean (or sum, or per element) of (x - y)^2. */
    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        checkSameShape("mseLoss", input, target);
        return Autocasting.run(AutocastOp.LOSS, in -> reduce(in[0].sub(in[1]).square(), reduction), input, target);
    }

    /** Mean (or sum, or per element) of |x - y|. */
    public static Tensor l1Loss(Tensor input, Tensor target, Reduction reduction) {
        checkSameShape("l1Loss", input, target);
        return Autocasting.run(AutocastOp.LOSS, in -> reduce(in[0].sub(in[1]).abs(), reduction), input, target);
    }

    /**
     * Huber-like loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (L1 when beta is 0). Written as
     * 0.5 m^2 / beta + (|d| - m) with m = min(|d|, beta), which is the same on both sides and needs no branch.
     */
    public static Tensor smoothL1Loss(Tensor input, Tensor target, double beta, Reduction reduction) {
        checkSameShape("smoothL1Loss", input, target);
        if (!(beta >= 0)) throw new IllegalArgumentException("smoothL1Loss: beta must be >= 0, got " + beta);
        return Autocasting.run(AutocastOp.LOSS, in -> smoothL1(in[0], in[1], beta, reduction), input, target);
    }

    private static Tensor smoothL1(Tensor input, Tensor target, double beta, Reduction reduction) {
        Tensor a = input.sub(target).abs();
        if (beta == 0) return reduce(a, reduction);
        Tensor m = a.clampMax(beta);
        return reduce(m.square().mul(0.5 / beta).add(a.sub(m)), reduction);
    }

    /**
     * Binary cross-entropy on logits in the stable form (1 - y) x + w (log(1 + exp(-|x|)) + max(-x, 0)) with
     * w = 1 + (posWeight - 1) y (w = 1 without posWeight, which broadcasts over the last dim, one per class).
     */
    public static Tensor bceWithLogits(Tensor logits, Tensor target, Tensor posWeight, Reduction reduction) {
        checkSameShape("bceWithLogits", logits, target);
        return Autocasting.run(AutocastOp.LOSS, in -> bce(in[0], in[1], in[2], reduction), logits, target, posWeight);
    }

    private static Tensor bce(Tensor logits, Tensor target, Tensor posWeight, Reduction reduction) {
        Tensor softplusNeg = logits.abs().neg().exp().log1p().add(logits.neg().relu());
        Tensor weighted = posWeight == null ? softplusNeg : posWeight.sub(1).mul(target).add(1).mul(softplusNeg);
        return reduce(target.rsub(1).mul(logits).add(weighted), reduction);
    }

    private static void checkSameShape(String op, Tensor input, Tensor target) {
        if (!Arrays.equals(input.shape(), target.shape())) {
            throw new IllegalArgumentException(op + ": expected input and target of one shape, got " + Arrays.toString(input.shape())
                    + " and " + Arrays.toString(target.shape()));
        }
    }

    public static Tensor reduce(Tensor perElement, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perElement;
            case SUM -> perElement.sum();
            case MEAN -> perElement.mean();
        };
    }

    // ------------------------------------------------------------------ helpers

    /** A tensor that does not require grad over a reshaped share of {@code a}, cast to dtype. */
    static Tensor constant(NDArray a, long[] shape, DType dtype) {
        try (NDArray r = a.reshape(shape)) {
            return Tensor.wrap(r.to(dtype));
        }
    }
}
