package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * Cross-entropy and NLL with a class {@code weight} [C], and cross-entropy against class probabilities, composed from
 * autograd ops with PyTorch 1.13's semantics (aten/src/ATen/native/LossNLL.cpp). The unweighted class-index case
 * keeps the fused path (Tensor.crossEntropy); these are for what it does not cover.
 *
 * <p>Class indices, per position n: {@code nll_n = -w[y_n] logp[n, y_n]}, {@code smooth_n = -sum_c w[c] logp[n, c]},
 * both 0 where {@code y_n == ignoreIndex}; loss {@code (1 - s) nll + s/C smooth}. MEAN divides both sums by
 * {@code sum_n w[y_n]} over the positions not ignored (PyTorch's weighted mean), SUM adds, NONE keeps [N, d...].
 *
 * <p>Probabilities (targets of the logits' shape, floating; PyTorch decides by equal shapes too): with
 * {@code t = (1 - s) p + s/C}, per position {@code -sum_c w[c] t[n, c] logp[n, c]}; MEAN divides the sum by the number of
 * positions (numel / C), not by the weights. ignoreIndex must then be negative, as PyTorch requires.
 */
final class WeightedLosses {
    private WeightedLosses() {}

    /** Whether targets are class probabilities for these logits (PyTorch: the same shape). */
    static boolean isProbabilities(Tensor logits, Tensor targets) { return Arrays.equals(logits.shape(), targets.shape()); }

    static Tensor crossEntropy(Tensor logits, Tensor targets, Tensor weight, long ignoreIndex, double smoothing, Reduction reduction) {
        String op = "CrossEntropyLoss";
        NDArray.checkLabelSmoothing(op, smoothing);
        if (logits.dim() < 2) throw new IllegalArgumentException(op + ": expected logits [N, C] or [N, C, ...], got " + Arrays.toString(logits.shape()));
        Tensor lp = logits.logSoftmax(1);
        long c = logits.size(1);
        if (isProbabilities(logits, targets)) {
            if (!targets.dtype().isFloating()) {
                throw new IllegalArgumentException(op + ": expected floating class probabilities for targets of the logits' shape "
                        + Arrays.toString(targets.shape()) + ", got " + targets.dtype());
            }
            if (ignoreIndex >= 0) throw new IllegalArgumentException(op + ": ignoreIndex is not supported for probability targets, got " + ignoreIndex);
            Tensor t = smoothing > 0 ? targets.mul(1 - smoothing).add(smoothing / c) : targets;
            Tensor prod = lp.mul(t);
            if (weight != null) prod = prod.mul(broadcastOverClasses(op, weight, logits));
            Tensor perPosition = prod.sum(1, false).neg();
            return switch (reduction) {
                case NONE -> perPosition;
                case SUM -> perPosition.sum();
                case MEAN -> perPosition.sum().div(logits.numel() / (double) c);
            };
        }
        logits.data().checkClassTargets(op, targets.data());
        Picked p = pick(op, lp, targets, weight, ignoreIndex);
        Tensor loss = p.nll;
        if (smoothing > 0) {
            Tensor weighted = weight == null ? lp : lp.mul(broadcastOverClasses(op, weight, logits));
            Tensor smooth = weighted.sum(1, false).neg().mul(Tensor.wrap(p.valid));
            loss = loss.mul(1 - smoothing).add(smooth.mul(smoothing / c));
        }
        return reduceByWeight(loss, p.pickedWeight, reduction);
    }

    static Tensor nllLoss(Tensor logProbs, Tensor targets, Tensor weight, long ignoreIndex, Reduction reduction) {
        String op = "NLLLoss";
        logProbs.data().checkClassTargets(op, targets.data());
        Picked p = pick(op, logProbs, targets, weight, ignoreIndex);
        return reduceByWeight(p.nll, p.pickedWeight, reduction);
    }

    /**
     * nll [N, d...] = -w[y] logp[y] (0 where ignored); pickedWeight = w[y] (0 where ignored, 1 for every other
     * position without a weight); valid = 1 where not ignored. The last two are constants (no gradient).
     */
    private record Picked(Tensor nll, NDArray pickedWeight, NDArray valid) {}

    private static Picked pick(String op, Tensor lp, Tensor targets, Tensor weight, long ignoreIndex) {
        long c = lp.size(1);
        NDArray y = targets.data().to(DType.I64);
        NDArray valid = y.ne(ignoreIndex).to(lp.dtype());
        NDArray safe = y.mul(y.ne(ignoreIndex).to(DType.I64));  // ignored positions read class 0, then weigh 0
        Tensor picked = lp.gather(1, Tensor.wrap(safe.unsqueeze(1))).squeeze(1);
        NDArray w;
        if (weight == null) {
            w = valid;
        } else {
            checkWeight(op, weight, c);
            w = weight.data().to(lp.dtype()).indexSelect(0, safe.reshape(-1)).reshape(y.shape()).mul(valid);
        }
        return new Picked(picked.mul(Tensor.wrap(w)).neg(), w, valid);
    }

    private static Tensor reduceByWeight(Tensor perPosition, NDArray pickedWeight, Reduction reduction) {
        return switch (reduction) {
            case NONE -> perPosition;
            case SUM -> perPosition.sum();
            case MEAN -> perPosition.sum().div(Tensor.wrap(pickedWeight.sum()));
        };
    }

    /** weight [C] as [1, C, 1...], to multiply logits-shaped tensors. */
    private static Tensor broadcastOverClasses(String op, Tensor weight, Tensor logits) {
        checkWeight(op, weight, logits.size(1));
        long[] shape = new long[logits.dim()];
        Arrays.fill(shape, 1);
        shape[1] = logits.size(1);
        return Tensor.wrap(weight.data().to(logits.dtype()).reshape(shape));
    }

    static void checkWeight(String op, Tensor weight, long classes) {
        if (weight.dim() != 1 || weight.size(0) != classes || !weight.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": expected a floating class weight of " + classes + " elements (one per class), got "
                    + Arrays.toString(weight.shape()) + " " + weight.dtype());
        }
    }
}
