package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import java.util.Arrays;

/**
 * Softmax (with its own rule) and the losses and dropout, composed of differentiable ops so that their gradients
 * follow from rules that exist once.
 */
final class Losses {
    /** PyTorch's default ignore_index. */
    static final long DEFAULT_IGNORE_INDEX = -100;

    private Losses() {}

    static Tensor softmax(Tensor x, int dim, boolean log) {
        return Autocasting.run(log ? AutocastOp.LOG_SOFTMAX : AutocastOp.SOFTMAX, in -> softmaxAsGiven(in[0], dim, log), x);
    }

    private static Tensor softmaxAsGiven(Tensor x, int dim, boolean log) {
        NDArray out = log ? x.data().logSoftmax(dim) : x.data().softmax(dim);
        String op = log ? "logSoftmax" : "softmax";
        return Recorder.record(op, out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> new NDArray[] {NDArray.softmaxBackward(y, g, dim, log)};
        });
    }

    /**
     * Mean cross-entropy of logits [N, C, d1...] against class indices [N, d1...]: targets equal to
     * {@code ignoreIndex} are left out of both the sum and the count; {@code labelSmoothing} mixes the one-hot target
     * with the uniform distribution over classes.
     */
    static Tensor crossEntropy(Tensor logits, Tensor targets, long ignoreIndex, double labelSmoothing) {
        return Autocasting.run(AutocastOp.CROSS_ENTROPY, in -> crossEntropyAsGiven(in[0], in[1], ignoreIndex, labelSmoothing), logits, targets);
    }

    private static Tensor crossEntropyAsGiven(Tensor logits, Tensor targets, long ignoreIndex, double labelSmoothing) {
        checkTargets("crossEntropy", logits, targets);
        NDArray.checkLabelSmoothing("crossEntropy", labelSmoothing);
        Tensor losses = crossEntropyPositions(logits, targets, ignoreIndex, labelSmoothing);
        Tensor valid;
        try (NDArray keep = targets.data().ne((double) ignoreIndex)) {
            valid = new Tensor(keep.to(losses.dtype()), false, null);
        }
        return meanOverValid(new PerPosition(losses, valid));
    }

    /** Mean negative log-likelihood of log-probabilities [N, C, d1...] at class indices [N, d1...]. */
    static Tensor nllLoss(Tensor logProbs, Tensor targets, long ignoreIndex) {
        return Autocasting.run(AutocastOp.NLL_LOSS, in -> nllLossAsGiven(in[0], in[1], ignoreIndex), logProbs, targets);
    }

    private static Tensor nllLossAsGiven(Tensor logProbs, Tensor targets, long ignoreIndex) {
        checkTargets("nllLoss", logProbs, targets);
        return meanOverValid(perPosition("nllLoss", logProbs, targets, ignoreIndex));
    }

    /** The per-position losses averaged over positions whose target is not ignored (NaN when all are, as in PyTorch). */
    private static Tensor meanOverValid(PerPosition p) {
        Tensor total = p.losses.sum();
        Tensor count = p.valid.sum();
        Tensor mean = total.div(count);
        Reductions.closeIntermediates(p.losses, p.valid, total, count);
        return mean;
    }

    /** Per-position losses (0 where the target is ignored) and the 0/1 mask of positions that count. */
    private record PerPosition(Tensor losses, Tensor valid) {}

    /**
     * The per-position losses, without reduction, of log-probabilities (negative log-likelihood) or of logits
     * (cross-entropy).
     */
    static Tensor perPositionLoss(String op, Tensor scores, boolean logits, Tensor targets, long ignoreIndex, double smoothing) {
        return Autocasting.run(logits ? AutocastOp.CROSS_ENTROPY : AutocastOp.NLL_LOSS,
                in -> perPositionLossAsGiven(op, in[0], logits, in[1], ignoreIndex, smoothing), scores, targets);
    }

    private static Tensor perPositionLossAsGiven(String op, Tensor scores, boolean logits, Tensor targets, long ignoreIndex, double smoothing) {
        checkTargets(op, scores, targets);
        NDArray.checkLabelSmoothing(op, smoothing);
        if (logits) return crossEntropyPositions(scores, targets, ignoreIndex, smoothing);
        PerPosition p = perPosition(op, scores, targets, ignoreIndex);
        p.valid.data().close();
        return p.losses;
    }

    /**
     * Cross-entropy per position by the backend's fused primitive, one node: -(1-e) lp[target] - e mean_c lp[c] with
     * lp the log-softmax of the logits, 0 where the target is ignored. Saves the logits, targets and log-sum-exps.
     */
    private static Tensor crossEntropyPositions(Tensor logits, Tensor targets, long ignoreIndex, double smoothing) {
        NDArray[] r = logits.data().crossEntropyPerPosition(targets.data(), ignoreIndex, smoothing);
        try (NDArray lse = r[1]) {
            return Recorder.record("crossEntropy", r[0], logits, saved -> {
                NDArray x = saved.save(logits.data()), t = saved.save(targets.data()), l = saved.save(lse);
                return (g, need) -> new NDArray[] {NDArray.crossEntropyBackward(x, t, l, g, ignoreIndex, smoothing)};
            });
        }
    }

    /** -lp[target] per position, 0 where the target is ignored, and the mask of positions that count. */
    private static PerPosition perPosition(String op, Tensor lp, Tensor targets, long ignoreIndex) {
        NDArray t = targets.data();
        Tensor valid, safeTargets;
        try (NDArray keep = t.ne((double) ignoreIndex); NDArray zero = NDArray.scalar(0, DType.I64, t.device());
             NDArray t64 = t.to(DType.I64); NDArray safe = NDArray.where(keep, t64, zero)) {
            valid = new Tensor(keep.to(lp.dtype()), false, null);
            safeTargets = new Tensor(safe.unsqueeze(1), false, null);
        }
        Tensor picked;
        try {
            picked = lp.gather(1, safeTargets);
        } catch (IndexOutOfBoundsException e) {
            Reductions.closeIntermediates(valid, safeTargets);
            IndexOutOfBoundsException r = new IndexOutOfBoundsException(op + ": expected class indices in [0, " + lp.shape()[1]
                    + ") or the ignore index " + ignoreIndex + ", but " + e.getMessage());
            r.initCause(e);
            throw r;
        }
        Tensor perPos = picked.squeeze(1);
        Tensor maskedGain = perPos.mul(valid);
        Tensor losses = maskedGain.neg();
        Reductions.closeIntermediates(safeTargets, picked, perPos, maskedGain);
        return new PerPosition(losses, valid);
    }

    private static void checkTargets(String op, Tensor scores, Tensor targets) {
        checkOpen(op, scores);
        checkOpen(op, targets);
        scores.data().checkClassTargets(op, targets.data());
    }

    static void checkOpen(String op, Tensor t) {
        if (t.isClosed()) throw new IllegalStateException(op + ": the tensor " + Arrays.toString(t.shape()) + " " + t.dtype() + " was closed");
    }

    /** Inverted dropout: zero with probability p, the rest scaled by 1/(1-p); the identity when not training. */
    static Tensor dropout(Tensor x, double p, boolean training, Generator gen) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        if (!training || p == 0) return Views.alias("dropout", x, x.data().share());
        if (p == 1) return x.mul(0.0);
        Tensor mask = new Tensor(NDArray.dropoutMask(gen, p, x.dtype(), x.device(), x.shape()), false, null);
        Tensor out = x.mul(mask);
        mask.data().close();
        return out;
    }
}
