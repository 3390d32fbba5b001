package io.jtensor.nn.amp;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.optim.Optimizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The fp32 masters of an O2 model: one F32 leaf per half parameter, which the optimizer steps in the half parameter's
 * place. Parameters that stayed fp32 (batch norm) are their own masters and are not listed. Found from the optimizer
 * (Apex keeps the same link on the optimizer), so that {@link GradScaler} needs nothing but the optimizer.
 */
final class MasterWeights {
    private static final Map<Optimizer, MasterWeights> BY_OPTIMIZER = Collections.synchronizedMap(new WeakHashMap<>());

    /** Index-aligned: the half model parameter and its master. */
    final List<Tensor> modelParams = new ArrayList<>();
    final List<Tensor> masters = new ArrayList<>();
    private final Map<Tensor, Tensor> modelOf = new IdentityHashMap<>();

    /** Makes masters of every half parameter of the optimizer and lets the optimizer step them instead. */
    static MasterWeights attach(Optimizer optimizer) {
        MasterWeights mw = new MasterWeights();
        Map<Tensor, Tensor> replacement = new IdentityHashMap<>();
        for (Tensor p : optimizer.params()) {
            if (p.dtype() == DType.F32 || !p.dtype().isFloating()) continue;
            Tensor master = Tensor.wrap(p.data().to(DType.F32).keep()).requiresGrad(p.requiresGrad());
            mw.modelParams.add(p);
            mw.masters.add(master);
            mw.modelOf.put(master, p);
            replacement.put(p, master);
        }
        optimizer.substituteParameters(replacement);
        BY_OPTIMIZER.put(optimizer, mw);
        return mw;
    }

    /** The masters an O2 {@code Amp.initialize} gave this optimizer, or null. */
    static MasterWeights of(Optimizer optimizer) { return BY_OPTIMIZER.get(optimizer); }

    /** The half model parameter a master stands for, or null when p is not a master. */
    Tensor modelParamOf(Tensor p) { return modelOf.get(p); }

    /** Copies every master into its half parameter (after a step that did not write the copies itself). */
    void copyToModel() {
        for (int k = 0; k < masters.size(); k++) modelParams.get(k).data().copyFrom(masters.get(k).data());
    }

    /** Copies values from F32 arrays by master index into the masters and their half parameters. */
    void load(List<NDArray> values) {
        for (int k = 0; k < masters.size(); k++) masters.get(k).data().copyFrom(values.get(k));
        copyToModel();
    }
}
