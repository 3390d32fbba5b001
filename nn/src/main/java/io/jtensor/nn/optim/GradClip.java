package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Gradient clipping, as PyTorch's {@code clip_grad_norm_}. */
public final class GradClip {
    private GradClip() {}

    /**
     * Scales all gradients together so that their joint {@code normType}-norm (the norm of the vector of all
     * gradient elements; {@code Double.POSITIVE_INFINITY} for the largest magnitude) is at most {@code maxNorm}.
     * Gradients are scaled by {@code maxNorm / (total + 1e-6)} when that is below 1. Returns the total norm before
     * clipping; when it is NaN or infinite nothing is scaled, so that the caller can skip the step.
     */
    public static double clipGradNorm(Iterable<Tensor> params, double maxNorm, double normType) {
        if (!(maxNorm >= 0)) throw new IllegalArgumentException("clipGradNorm: expected maxNorm >= 0, got " + maxNorm);
        if (!(normType > 0)) throw new IllegalArgumentException("clipGradNorm: expected normType > 0, got " + normType);
        List<NDArray> grads = new ArrayList<>();
        for (Tensor p : params) {
            NDArray g = Params.grad(p);
            if (g != null) grads.add(g);
        }
        if (grads.isEmpty()) return 0;
        boolean inf = normType == Double.POSITIVE_INFINITY;
        double acc = 0;
        for (NDArray g : grads) {
            double n;
            try (NDArray norm = g.norm(normType, allDims(g), false)) {
                n = norm.item();
            }
            acc = inf ? Math.max(acc, n) : acc + Math.pow(n, normType);
        }
        double total = inf ? acc : Math.pow(acc, 1.0 / normType);
        if (!Double.isFinite(total)) return total;
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1) {
            try (var guard = GradMode.noGrad()) {
                for (NDArray g : grads) InPlace.axpby(g, coef, null, 0);
            }
        }
        return total;
    }

    /** The Euclidean (2-norm) version. */
    public static double clipGradNorm(Iterable<Tensor> params, double maxNorm) { return clipGradNorm(params, maxNorm, 2); }

    private static int[] allDims(NDArray a) {
        int[] d = new int[a.dim()];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return d;
    }
}
