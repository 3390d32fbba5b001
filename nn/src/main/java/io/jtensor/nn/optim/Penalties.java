package io.jtensor.nn.optim;

import io.jtensor.autograd.Tensor;

/**
 * Regularisation terms computed from the parameters, to be added to the loss so that autograd differentiates them:
 * {@code loss = criterion(out, y).add(Penalties.l2(model.parameters(), 1e-4))}.
 */
public final class Penalties {
    private Penalties() {}

    /** {@code lambda * sum |w|}. */
    public static Tensor l1(Iterable<Tensor> params, double lambda) {
        requireLambda("l1", lambda);
        Tensor total = null;
        for (Tensor p : params) {
            Tensor term = p.abs().sum();
            total = total == null ? term : total.add(term);
        }
        return scaled("l1", total, lambda);
    }

    /**
     * {@code lambda/2 * sum w^2}: its gradient is {@code lambda * w}, the same as SGD's weight_decay = lambda.
     */
    public static Tensor l2(Iterable<Tensor> params, double lambda) {
        requireLambda("l2", lambda);
        Tensor total = null;
        for (Tensor p : params) {
            Tensor term = p.mul(p).sum();
            total = total == null ? term : total.add(term);
        }
        return scaled("l2", total, lambda / 2);
    }

    /**
     * Elastic net as in scikit-learn: {@code lambda * (l1Ratio * sum |w| + (1 - l1Ratio)/2 * sum w^2)}; l1Ratio 1 is
     * the lasso, 0 is ridge.
     */
    public static Tensor elasticNet(Iterable<Tensor> params, double lambda, double l1Ratio) {
        requireLambda("elasticNet", lambda);
        if (!(l1Ratio >= 0 && l1Ratio <= 1)) throw new IllegalArgumentException("elasticNet: expected l1Ratio in [0, 1], got " + l1Ratio);
        Tensor a = l1(params, lambda * l1Ratio);
        Tensor b = l2(params, lambda * (1 - l1Ratio));
        return a.add(b);
    }

    private static void requireLambda(String op, double lambda) {
        if (!(lambda >= 0)) throw new IllegalArgumentException(op + ": expected lambda >= 0, got " + lambda);
    }

    private static Tensor scaled(String op, Tensor total, double factor) {
        if (total == null) throw new IllegalArgumentException(op + ": expected at least one parameter");
        return total.mul(factor);
    }
}
