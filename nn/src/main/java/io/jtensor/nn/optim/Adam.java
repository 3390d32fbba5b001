package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Adam (Kingma and Ba) with PyTorch's rules. With t the step count: {@code g += wd*p} (L2, coupled; see
 * {@link AdamW} for the decoupled form), {@code m = b1*m + (1-b1)*g}, {@code v = b2*v + (1-b2)*g^2},
 * {@code p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)}; with amsgrad the running maximum of v replaces v
 * in the denominator. Options per group: lr, beta1, beta2, eps, weight_decay, amsgrad (1 or 0).
 */
public class Adam extends Optimizer {
    public static final String BETA1 = "beta1", BETA2 = "beta2", EPS = "eps", AMSGRAD = "amsgrad";

    public Adam(Iterable<Tensor> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0, false); }

    public Adam(Iterable<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        this(single(params), lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    public Adam(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        super(groups, Map.of(ParamGroup.LR, lr, BETA1, beta1, BETA2, beta2, EPS, eps,
                ParamGroup.WEIGHT_DECAY, weightDecay, AMSGRAD, amsgrad ? 1.0 : 0.0));
    }

    @Override protected void validate(ParamGroup g) {
        super.validate(g);
        requireInRange(g, BETA1, 0, 1);
        requireInRange(g, BETA2, 0, 1);
        requireAtLeast(g, EPS, 0);
    }

    /** Whether weight decay shrinks the weights directly (AdamW) instead of being added to the gradient. */
    protected boolean decoupledWeightDecay() { return false; }

    @Override protected void update(ParamGroup g, NDArray p, NDArray grad, ParamState st) {
        double lr = g.lr(), wd = g.weightDecay(), b1 = g.get(BETA1), b2 = g.get(BETA2), eps = g.get(EPS);
        boolean amsgrad = g.get(AMSGRAD) != 0;
        if (decoupledWeightDecay() && wd != 0) InPlace.axpby(p, 1 - lr * wd, null, 0);
        NDArray gr = grad;
        boolean tempGrad = !decoupledWeightDecay() && wd != 0;
        if (tempGrad) {
            gr = grad.copy();
            InPlace.axpby(gr, 1, p, wd);
        }
        try {
            if (!st.has("exp_avg")) {
                st.put("exp_avg", InPlace.keptZerosLike(p));
                st.put("exp_avg_sq", InPlace.keptZerosLike(p));
                if (amsgrad) st.put("max_exp_avg_sq", InPlace.keptZerosLike(p));
            }
            st.step++;
            NDArray m = st.get("exp_avg"), v = st.get("exp_avg_sq");
            InPlace.axpby(m, b1, gr, 1 - b1);
            InPlace.addcmul(v, b2, gr, gr, 1 - b2);
            double bc1 = 1 - Math.pow(b1, st.step);
            double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, st.step));
            NDArray denomSource = v;
            if (amsgrad) {
                NDArray vmax = st.get("max_exp_avg_sq");
                if (vmax == null) { // amsgrad switched on after some steps
                    vmax = InPlace.keptCopy(v);
                    st.put("max_exp_avg_sq", vmax);
                }
                InPlace.maximum(vmax, v);
                denomSource = vmax;
            }
            InPlace.addcdivSqrt(p, -lr / bc1, m, denomSource, 1 / bc2Sqrt, eps);
        } finally {
            if (tempGrad) gr.close();
        }
    }
}
