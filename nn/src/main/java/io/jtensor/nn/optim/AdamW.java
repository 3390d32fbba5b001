package io.jtensor.nn.optim;

import io.jtensor.autograd.Tensor;
import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter): each step first shrinks the weights,
 * {@code p *= 1 - lr*wd}, then takes Adam's step with the plain gradient. Default weight decay 0.01, as PyTorch.
 */
public final class AdamW extends Adam {
    public AdamW(Iterable<Tensor> params, double lr) { this(params, lr, 0.9, 0.999, 1e-8, 0.01, false); }

    public AdamW(Iterable<Tensor> params, double lr, double weightDecay) { this(params, lr, 0.9, 0.999, 1e-8, weightDecay, false); }

    public AdamW(Iterable<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        super(params, lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    public AdamW(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, boolean amsgrad) {
        super(groups, lr, beta1, beta2, eps, weightDecay, amsgrad);
    }

    @Override protected boolean decoupledWeightDecay() { return true; }
}
