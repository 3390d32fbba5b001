package io.jtensor.nn.amp;

import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.AdamW;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.ParamGroup;
import io.jtensor.nn.optim.ParamState;
import io.jtensor.nn.optim.SGD;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The O2 step of SGD, Adam and AdamW as one multi-tensor pass per group ({@link MultiTensor}): the fp32 masters and
 * the optimizer's own state buffers (same names, {@code momentum_buffer}, {@code exp_avg}, {@code exp_avg_sq}, and
 * step counts, so the optimizer's state dict and a later plain {@link Optimizer#step()} see the same state) are
 * updated and the half model parameters written in the same pass. Other optimizers (and AMSGrad) return false and
 * are stepped by their own {@code step()}, followed by a copy of the masters.
 */
final class FusedStep {
    private FusedStep() {}

    /** Whether this optimizer was stepped here. Gradients are the masters' (already unscaled). */
    static boolean step(Optimizer opt, MasterWeights mw) {
        boolean sgd = opt.getClass() == SGD.class;
        boolean adam = opt.getClass() == Adam.class || opt.getClass() == AdamW.class;
        if (!sgd && !adam) return false;
        for (ParamGroup g : opt.paramGroups()) if (adam && g.get(Adam.AMSGRAD) != 0) return false;
        try (var guard = GradMode.noGrad()) {
            for (ParamGroup g : opt.paramGroups()) {
                if (sgd) sgdGroup(opt, g, mw);
                else adamGroup(opt, g, mw, opt.getClass() == AdamW.class);
            }
        }
        return true;
    }

    /** Parameters of one group that have gradients, split by what their lists need: a half copy or not, and a key. */
    private record Lists(List<NDArray> p, List<NDArray> g, List<NDArray> s1, List<NDArray> s2, List<NDArray> copies) {
        Lists() { this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>()); }
    }

    private static Map<String, Lists> split(Optimizer opt, ParamGroup g, MasterWeights mw, java.util.function.Function<ParamState, String> key,
                                            java.util.function.BiConsumer<Lists, ParamState> state) {
        Map<String, Lists> out = new LinkedHashMap<>();
        for (Tensor p : g.params()) {
            if (p.grad() == null) continue;
            Tensor model = mw.modelParamOf(p);
            ParamState st = opt.stateOf(p);
            Lists l = out.computeIfAbsent((model != null ? "copy/" : "own/") + key.apply(st), k -> new Lists());
            l.p.add(p.data());
            l.g.add(p.grad().data());
            if (model != null) l.copies.add(model.data());
            state.accept(l, st);
        }
        return out;
    }

    private static void sgdGroup(Optimizer opt, ParamGroup g, MasterWeights mw) {
        double lr = g.lr(), wd = g.weightDecay(), m = g.get(SGD.MOMENTUM), damp = g.get(SGD.DAMPENING);
        boolean nesterov = g.get(SGD.NESTEROV) != 0;
        List<ParamState> touched = new ArrayList<>();
        Map<String, Lists> lists = split(opt, g, mw, st -> m != 0 && !st.has("momentum_buffer") ? "first" : "next", (l, st) -> {
            touched.add(st);
            if (m == 0) return;
            if (!st.has("momentum_buffer")) {
                NDArray p = l.p.get(l.p.size() - 1);
                st.put("momentum_buffer", NDArray.zeros(io.jtensor.DType.F32, p.device(), p.shape()));
            }
            l.s1.add(st.get("momentum_buffer"));
        });
        for (var e : lists.entrySet()) {
            Lists l = e.getValue();
            MultiTensor.sgd(l.p, l.g, m != 0 ? l.s1 : null, e.getKey().startsWith("copy/") ? l.copies : null, 1.0, lr, m, damp, wd, nesterov,
                    e.getKey().endsWith("first"));
        }
        for (ParamState st : touched) st.step++;
    }

    private static void adamGroup(Optimizer opt, ParamGroup g, MasterWeights mw, boolean decoupled) {
        double lr = g.lr(), wd = g.weightDecay(), b1 = g.get(Adam.BETA1), b2 = g.get(Adam.BETA2), eps = g.get(Adam.EPS);
        List<ParamState> touched = new ArrayList<>();
        // One list per step count: the bias corrections depend on it.
        Map<String, Lists> lists = split(opt, g, mw, st -> Long.toString(st.step + 1), (l, st) -> {
            touched.add(st);
            if (!st.has("exp_avg")) {
                NDArray p = l.p.get(l.p.size() - 1);
                st.put("exp_avg", NDArray.zeros(io.jtensor.DType.F32, p.device(), p.shape()));
                st.put("exp_avg_sq", NDArray.zeros(io.jtensor.DType.F32, p.device(), p.shape()));
            }
            l.s1.add(st.get("exp_avg"));
            l.s2.add(st.get("exp_avg_sq"));
        });
        for (var e : lists.entrySet()) {
            Lists l = e.getValue();
            long step = Long.parseLong(e.getKey().substring(e.getKey().indexOf('/') + 1));
            MultiTensor.adam(l.p, l.g, l.s1, l.s2, e.getKey().startsWith("copy/") ? l.copies : null, 1.0, lr, b1, b2, eps, wd, decoupled, step);
        }
        for (ParamState st : touched) st.step++;
    }
}
