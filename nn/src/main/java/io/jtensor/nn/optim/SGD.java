package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with PyTorch's exact rules. With g the gradient, wd the weight decay, m the momentum
 * and d the dampening: {@code g += wd*p}; the momentum buffer starts as {@code b = g} and then follows
 * {@code b = m*b + (1-d)*g}; the step direction is {@code g + m*b} (Nesterov) or {@code b}; {@code p -= lr*direction}.
 * Options per group: lr, momentum, dampening, weight_decay, nesterov (1 or 0).
 */
public final class SGD extends Optimizer {
    public static final String MOMENTUM = "momentum", DAMPENING = "dampening", NESTEROV = "nesterov";

    public SGD(Iterable<Tensor> params, double lr) { this(params, lr, 0, 0, 0, false); }

    public SGD(Iterable<Tensor> params, double lr, double momentum) { this(params, lr, momentum, 0, 0, false); }

    public SGD(Iterable<Tensor> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        this(single(params), lr, momentum, dampening, weightDecay, nesterov);
    }

    /** Groups may override any option; the arguments are the defaults. */
    public SGD(List<ParamGroup> groups, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        super(groups, Map.of(ParamGroup.LR, lr, MOMENTUM, momentum, DAMPENING, dampening,
                ParamGroup.WEIGHT_DECAY, weightDecay, NESTEROV, nesterov ? 1.0 : 0.0));
    }

    @Override protected void validate(ParamGroup g) {
        super.validate(g);
        requireAtLeast(g, MOMENTUM, 0);
        if (g.get(NESTEROV) != 0 && (g.get(MOMENTUM) <= 0 || g.get(DAMPENING) != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum "
                    + g.get(MOMENTUM) + " and dampening " + g.get(DAMPENING));
        }
    }

    @Override protected void update(ParamGroup g, NDArray p, NDArray grad, ParamState st) {
        double lr = g.lr(), wd = g.weightDecay(), m = g.get(MOMENTUM), damp = g.get(DAMPENING);
        boolean nesterov = g.get(NESTEROV) != 0;
        st.step++;
        if (m == 0) {
            // p - lr*(g + wd*p) = (1 - lr*wd)*p - lr*g, with no temporary.
            InPlace.axpby(p, 1 - lr * wd, grad, -lr);
            return;
        }
        NDArray buf = st.get("momentum_buffer");
        if (buf == null) {
            buf = InPlace.keptCopy(grad);
            if (wd != 0) InPlace.axpby(buf, 1, p, wd);
            st.put("momentum_buffer", buf);
        } else {
            InPlace.axpby(buf, m, grad, 1 - damp);
            if (wd != 0) InPlace.axpby(buf, 1, p, (1 - damp) * wd);
        }
        if (nesterov) {
            // direction = (g + wd*p) + m*b
            InPlace.axpby(p, 1 - lr * wd, grad, -lr);
            InPlace.axpby(p, 1, buf, -lr * m);
        } else {
            InPlace.axpby(p, 1, buf, -lr);
        }
    }
}
