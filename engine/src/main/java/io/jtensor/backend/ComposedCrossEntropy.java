package io.jtensor.backend;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;

/**
 * {@link Backend#crossEntropy} and {@link Backend#crossEntropyBackward} composed of a backend's own ops, for a
 * backend without fused kernels for them (the CUDA backend, until its fused kernels are verified on a GPU). Computed
 * in the stats dtype (F32 for half-precision logits, F64 for F64), rounded once into the loss and the gradient.
 */
public final class ComposedCrossEntropy {
    private ComposedCrossEntropy() {}

    public static void forward(NDArray logits, NDArray targets, long ignoreIndex, double smoothing, NDArray loss, NDArray lse) {
        if (loss.numel() == 0) return;
        long classes = logits.shape()[1];
        try (NDArray valid = targets.ne((double) ignoreIndex)) {
            requireClassIndices(targets, valid, classes, ignoreIndex);
            lossAndLse(logits, targets, valid, classes, smoothing, loss, lse);
        }
    }

    private static void lossAndLse(NDArray logits, NDArray targets, NDArray valid, long classes, double smoothing, NDArray loss, NDArray lse) {
        try (NDArray x = logits.to(lse.dtype());
             NDArray m = x.amax(new int[] {1}, true); NDArray d = x.sub(m); NDArray e = d.exp(); NDArray s = e.sum(1, true);
             NDArray logS = s.log(); NDArray l = m.add(logS);
             NDArray safe = safeTargets(targets, valid); NDArray picked = x.gather(1, safe);
             NDArray hit = picked.mul(1 - smoothing); NDArray perPos = l.sub(hit)) {
            // lse = max + log(sum exp(x - max)): a NaN or +inf makes it NaN (exp(inf - inf)), as in PyTorch
            NDArray withSmoothing = perPos;
            NDArray spread = null, sumX = null;
            try {
                if (smoothing > 0) {
                    sumX = x.sum(1, true);
                    spread = sumX.mul(smoothing / classes);
                    withSmoothing = perPos.sub(spread);
                }
                try (NDArray flat = withSmoothing.squeeze(1); NDArray zero = NDArray.scalar(0, flat.dtype(), flat.device());
                     NDArray masked = NDArray.where(valid, flat, zero); NDArray lseFlat = l.squeeze(1)) {
                    logits.backend().copy(masked, loss);
                    logits.backend().copy(lseFlat, lse);
                }
            } finally {
                if (withSmoothing != perPos) withSmoothing.close();
                if (spread != null) spread.close();
                if (sumX != null) sumX.close();
            }
        }
    }

    public static void backward(NDArray logits, NDArray targets, NDArray lse, NDArray gradLoss, long ignoreIndex, double smoothing,
                                NDArray gradLogits) {
        if (gradLogits.numel() == 0) return;
        long classes = logits.shape()[1];
        requireClassIndices(targets, ignoreIndex, classes);
        long[] classShape = new long[logits.dim()];
        java.util.Arrays.fill(classShape, 1);
        classShape[1] = classes;
        DType st = lse.dtype();
        Device dev = logits.device();
        try (NDArray x = logits.to(st); NDArray valid = targets.ne((double) ignoreIndex); NDArray g = gradLoss.to(st);
             NDArray zero = NDArray.scalar(0, st, dev); NDArray gv = NDArray.where(valid, g, zero); NDArray gCol = gv.unsqueeze(1);
             NDArray l = lse.unsqueeze(1); NDArray d = x.sub(l); NDArray sm = d.exp(); NDArray smooth = sm.sub(smoothing / classes);
             NDArray classIds = NDArray.arange(0, classes, 1, DType.I64, dev); NDArray ids = classIds.view(classShape);
             NDArray t = targets.unsqueeze(1); NDArray hitMask = ids.eq(t); NDArray hit = hitMask.to(st); NDArray hitScaled = hit.mul(1 - smoothing);
             NDArray p = smooth.sub(hitScaled); NDArray grad = p.mul(gCol)) {
            logits.backend().copy(grad, gradLogits);
        }
    }

    /** targets with every ignored position replaced by class 0 (the loss there is masked), shaped [N, 1, ...]. */
    private static NDArray safeTargets(NDArray targets, NDArray valid) {
        try (NDArray zero = NDArray.scalar(0, DType.I64, targets.device()); NDArray safe = NDArray.where(valid, targets, zero)) {
            return safe.unsqueeze(1);
        }
    }

    /** Throws {@link BackendContract#badClassIndex} for the first target that is neither a class nor ignoreIndex (kept: target != ignoreIndex). */
    public static void requireClassIndices(NDArray targets, long ignoreIndex, long classes) {
        try (NDArray kept = targets.ne((double) ignoreIndex)) {
            requireClassIndices(targets, kept, classes, ignoreIndex);
        }
    }

    private static void requireClassIndices(NDArray targets, NDArray kept, long classes, long ignoreIndex) {
        try (NDArray low = targets.lt(0); NDArray high = targets.ge((double) classes); NDArray out = low.logicalOr(high);
             NDArray bad = out.logicalAnd(kept); NDArray any = bad.any()) {
            if (any.item() == 0) return;
            long[] t;
            try (NDArray host = targets.to(Device.cpu())) {
                t = host.toLongArray();
            }
            for (long v : t) {
                if (v != ignoreIndex && (v < 0 || v >= classes)) throw BackendContract.badClassIndex(v, classes, ignoreIndex);
            }
        }
    }
}
