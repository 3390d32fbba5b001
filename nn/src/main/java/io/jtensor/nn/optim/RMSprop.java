package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.List;
import java.util.Map;

/**
 * RMSprop with PyTorch's rules: {@code g += wd*p}, {@code s = alpha*s + (1-alpha)*g^2}; centered also keeps
 * {@code a = alpha*a + (1-alpha)*g} and uses {@code s - a^2}; {@code avg = sqrt(...) + eps}; with momentum m
 * {@code b = m*b + g/avg, p -= lr*b}, else {@code p -= lr*g/avg}.
 * Options per group: lr, alpha, eps, weight_decay, momentum, centered (1 or 0).
 */
public final class RMSprop extends Optimizer {
    public static final String ALPHA = "alpha", EPS = "eps", MOMENTUM = "momentum", CENTERED = "centered";

    public RMSprop(Iterable<Tensor> params, double lr) { this(params, lr, 0.99, 1e-8, 0, 0, false); }

    public RMSprop(Iterable<Tensor> params, double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        this(single(params), lr, alpha, eps, weightDecay, momentum, centered);
    }

    public RMSprop(List<ParamGroup> groups, double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        super(groups, Map.of(ParamGroup.LR, lr, ALPHA, alpha, EPS, eps, ParamGroup.WEIGHT_DECAY, weightDecay,
                MOMENTUM, momentum, CENTERED, centered ? 1.0 : 0.0));
    }

    @Override protected void validate(ParamGroup g) {
        super.validate(g);
        requireAtLeast(g, ALPHA, 0);
        requireAtLeast(g, EPS, 0);
        requireAtLeast(g, MOMENTUM, 0);
    }

    @Override protected void update(ParamGroup g, NDArray p, NDArray grad, ParamState st) {
        double lr = g.lr(), wd = g.weightDecay(), alpha = g.get(ALPHA), eps = g.get(EPS), m = g.get(MOMENTUM);
        boolean centered = g.get(CENTERED) != 0;
        NDArray gr = grad;
        if (wd != 0) {
            gr = grad.copy();
            InPlace.axpby(gr, 1, p, wd);
        }
        try {
            if (!st.has("square_avg")) st.put("square_avg", InPlace.keptZerosLike(p));
            if (centered && !st.has("grad_avg")) st.put("grad_avg", InPlace.keptZerosLike(p));
            if (m > 0 && !st.has("momentum_buffer")) st.put("momentum_buffer", InPlace.keptZerosLike(p));
            st.step++;
            NDArray sq = st.get("square_avg");
            InPlace.addcmul(sq, alpha, gr, gr, 1 - alpha);
            NDArray variance = sq;
            if (centered) {
                NDArray ga = st.get("grad_avg");
                InPlace.axpby(ga, alpha, gr, 1 - alpha);
                variance = sq.copy();
                InPlace.addcmul(variance, 1, ga, ga, -1);
            }
            try {
                if (m > 0) {
                    NDArray buf = st.get("momentum_buffer");
                    InPlace.axpby(buf, m, null, 0);
                    InPlace.addcdivSqrt(buf, 1, gr, variance, 1, eps);
                    InPlace.axpby(p, 1, buf, -lr);
                } else {
                    InPlace.addcdivSqrt(p, -lr, gr, variance, 1, eps);
                }
            } finally {
                if (variance != sq) variance.close();
            }
        } finally {
            if (gr != grad) gr.close();
        }
    }
}
