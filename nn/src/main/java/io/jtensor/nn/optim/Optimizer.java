package io.jtensor.nn.optim;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * Updates parameters from their gradients. Parameters come in {@link ParamGroup}s with per-group options; the
 * optimizer keeps a {@link ParamState} per parameter. Updates run under no-grad and write into the parameters'
 * own storage, so a step allocates nothing that outlives it except state buffers created on the first step.
 *
 * <p>{@link #stateDict()} turns the options and state into named arrays (scalars as 0-d F64 arrays) that can be
 * saved next to the model's and loaded into a fresh optimizer over the same parameters with {@link #loadStateDict}.
 * Parameters are numbered in group order, as PyTorch does: {@code state.3.exp_avg} belongs to the fourth.
 */
public abstract class Optimizer implements AutoCloseable {
    private final List<ParamGroup> groups = new ArrayList<>();
    private final Map<String, Double> defaults;
    private final Map<Tensor, ParamState> state = new IdentityHashMap<>();

    protected Optimizer(List<ParamGroup> groups, Map<String, Double> defaults) {
        if (groups == null || groups.isEmpty()) throw new IllegalArgumentException(name() + ": expected at least one parameter group");
        this.defaults = Map.copyOf(defaults);
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        for (ParamGroup g : groups) {
            g.fillDefaults(defaults);
            for (Tensor p : g.params()) {
                if (seen.put(p, Boolean.TRUE) != null) {
                    throw new IllegalArgumentException(name() + ": a parameter appears in more than one group (or twice in one)");
                }
            }
            this.groups.add(g);
        }
        for (ParamGroup g : this.groups) validate(g);
    }

    /** One group over all the parameters, with the defaults. */
    protected static List<ParamGroup> single(Iterable<Tensor> params) {
        List<Tensor> list = new ArrayList<>();
        params.forEach(list::add);
        return List.of(new ParamGroup(list));
    }

    /** The optimizer's name for error messages ("SGD", "Adam", ...). */
    protected String name() { return getClass().getSimpleName(); }

    /** Checks a group's options; called once per group when the optimizer is built. */
    protected void validate(ParamGroup g) {
        requireAtLeast(g, ParamGroup.LR, 0);
        if (g.has(ParamGroup.WEIGHT_DECAY)) requireAtLeast(g, ParamGroup.WEIGHT_DECAY, 0);
    }

    protected final void requireAtLeast(ParamGroup g, String option, double min) {
        double v = g.get(option);
        if (!(v >= min)) throw new IllegalArgumentException(name() + ": expected " + option + " >= " + min + ", got " + v);
    }

    protected final void requireInRange(ParamGroup g, String option, double lo, double hiExclusive) {
        double v = g.get(option);
        if (!(v >= lo && v < hiExclusive)) {
            throw new IllegalArgumentException(name() + ": expected " + option + " in [" + lo + ", " + hiExclusive + "), got " + v);
        }
    }

    public List<ParamGroup> paramGroups() { return List.copyOf(groups); }

    /** The defaults groups were filled from. */
    public Map<String, Double> defaults() { return defaults; }

    /** All parameters, in group order. */
    public List<Tensor> params() {
        List<Tensor> all = new ArrayList<>();
        for (ParamGroup g : groups) all.addAll(g.params());
        return all;
    }

    /** The state of one parameter, created empty on first use. */
    protected final ParamState state(Tensor p) { return state.computeIfAbsent(p, k -> new ParamState()); }

    /** The state of one of this optimizer's parameters (created empty), for fused steps that update it outside {@link #step()}. */
    public final ParamState stateOf(Tensor p) { return state(p); }

    /**
     * Makes this optimizer update {@code replacement.get(p)} in place of each parameter p the map names, keeping the
     * groups, their options and p's state (moved to its replacement, whose shape must be p's). Mixed precision uses it
     * to let the optimizer step fp32 master copies of a half model (Apex's O2).
     */
    public void substituteParameters(Map<Tensor, Tensor> replacement) {
        for (var e : replacement.entrySet()) {
            if (!Arrays.equals(e.getKey().shape(), e.getValue().shape())) {
                throw new IllegalArgumentException(name() + ".substituteParameters: a " + Arrays.toString(e.getKey().shape())
                        + " parameter cannot be replaced by a " + Arrays.toString(e.getValue().shape()) + " one");
            }
        }
        for (ParamGroup g : groups) g.substitute(replacement);
        for (var e : replacement.entrySet()) {
            ParamState st = state.remove(e.getKey());
            if (st != null) state.put(e.getValue(), st);
        }
    }

    /** One update of every parameter that has a gradient. */
    public void step() {
        try (var g = GradMode.noGrad()) {
            for (ParamGroup group : groups) {
                for (Tensor p : group.params()) {
                    NDArray grad = Params.grad(p);
                    if (grad == null) continue;
                    NDArray data = Params.data(p);
                    InPlace.checkSameShape(name() + ".step", data, grad);
                    update(group, data, grad, state(p));
                }
            }
        }
    }

    /**
     * Evaluates the closure (which should zero the gradients, compute the loss and call backward) with gradients
     * enabled, then steps; returns the loss the closure gave.
     */
    public double step(DoubleSupplier closure) {
        double loss;
        try (var g = GradMode.enableGrad()) {
            loss = closure.getAsDouble();
        }
        step();
        return loss;
    }

    /**
     * Applies one update to a parameter's data given its gradient (same shape, dtype and device) and state.
     * Runs under no-grad; must write into {@code data} in place.
     */
    protected abstract void update(ParamGroup group, NDArray data, NDArray grad, ParamState st);

    /** Drops every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}). */
    public void zeroGrad() {
        for (ParamGroup g : groups) for (Tensor p : g.params()) Params.clearGrad(p);
    }

    // ------------------------------------------------------------------ state dict

    /**
     * Options and state as named arrays the caller owns (and closes): {@code param_groups.G.OPTION} and
     * {@code param_groups.G.count} as 0-d F64, {@code state.I.step} as 0-d F64 and {@code state.I.BUFFER} copies.
     */
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        int index = 0;
        for (int gi = 0; gi < groups.size(); gi++) {
            ParamGroup g = groups.get(gi);
            for (var e : g.options().entrySet()) out.put("param_groups." + gi + "." + e.getKey(), scalar(e.getValue()));
            out.put("param_groups." + gi + ".count", scalar(g.params().size()));
            for (Tensor p : g.params()) {
                ParamState st = state.get(p);
                if (st != null && (st.step > 0 || !st.buffers().isEmpty())) {
                    out.put("state." + index + ".step", scalar(st.step));
                    for (var b : st.buffers().entrySet()) out.put("state." + index + "." + b.getKey(), b.getValue().copy().keep());
                }
                index++;
            }
        }
        extraState(out);
        return out;
    }

    /** Subclasses with state beyond per-parameter buffers add it here (keys must not start with state./param_groups.). */
    protected void extraState(Map<String, NDArray> out) {}

    /** Reads back what {@link #extraState} wrote. */
    protected void loadExtraState(Map<String, NDArray> in) {}

    /**
     * Restores options and state saved by {@link #stateDict()} from an optimizer of the same kind over parameters of
     * the same shapes in the same groups. Buffers are copied to each parameter's device and dtype; the map's arrays
     * stay the caller's.
     */
    public void loadStateDict(Map<String, NDArray> sd) {
        String op = name() + ".loadStateDict";
        List<Tensor> all = params();
        int savedGroups = 0;
        while (sd.containsKey("param_groups." + savedGroups + ".count")) savedGroups++;
        if (savedGroups != groups.size()) {
            throw new IllegalArgumentException(op + ": the saved state has " + savedGroups + " parameter groups, this optimizer has " + groups.size());
        }
        for (int gi = 0; gi < groups.size(); gi++) {
            long count = (long) sd.get("param_groups." + gi + ".count").item();
            if (count != groups.get(gi).params().size()) {
                throw new IllegalArgumentException(op + ": saved group " + gi + " has " + count + " parameters, this one has "
                        + groups.get(gi).params().size());
            }
        }
        // Validate everything before changing anything, so that a bad dict leaves the optimizer as it was.
        java.util.Set<String> known = new java.util.HashSet<>(defaults.keySet());
        for (ParamGroup g : groups) known.addAll(g.options().keySet());
        for (String k : sd.keySet()) {
            if (!k.startsWith("param_groups.")) continue;
            String rest = k.substring("param_groups.".length());
            String option = rest.substring(rest.indexOf('.') + 1);
            if (!option.equals("count") && !known.contains(option)) {
                throw new IllegalArgumentException(op + ": option '" + option + "' in '" + k + "' is not one of " + name()
                        + "'s " + defaults.keySet() + "; was this state saved by another optimizer?");
            }
        }
        Map<Integer, Map<String, NDArray>> perParam = new LinkedHashMap<>();
        for (var e : sd.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith("state.")) continue;
            String rest = k.substring("state.".length());
            int dot = rest.indexOf('.');
            int idx;
            try {
                idx = Integer.parseInt(rest.substring(0, dot));
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException(op + ": malformed key '" + k + "'");
            }
            if (idx < 0 || idx >= all.size()) {
                throw new IllegalArgumentException(op + ": key '" + k + "' names parameter " + idx + " but there are " + all.size());
            }
            String buf = rest.substring(dot + 1);
            if (!buf.equals("step")) {
                NDArray data = Params.data(all.get(idx));
                if (!Arrays.equals(data.shape(), e.getValue().shape())) {
                    throw new IllegalArgumentException(op + ": '" + k + "' has shape " + Arrays.toString(e.getValue().shape())
                            + " but parameter " + idx + " has shape " + Arrays.toString(data.shape()));
                }
            }
            perParam.computeIfAbsent(idx, i -> new LinkedHashMap<>()).put(buf, e.getValue());
        }
        for (int gi = 0; gi < groups.size(); gi++) {
            String prefix = "param_groups." + gi + ".";
            for (var e : sd.entrySet()) {
                String k = e.getKey();
                if (!k.startsWith(prefix) || k.equals(prefix + "count")) continue;
                groups.get(gi).set(k.substring(prefix.length()), e.getValue().item());
            }
        }
        state.values().forEach(ParamState::close);
        state.clear();
        for (var e : perParam.entrySet()) {
            Tensor p = all.get(e.getKey());
            NDArray data = Params.data(p);
            ParamState st = state(p);
            for (var b : e.getValue().entrySet()) {
                if (b.getKey().equals("step")) {
                    st.step = (long) b.getValue().item();
                } else {
                    st.put(b.getKey(), onDeviceCopy(b.getValue(), data.dtype(), data.device()));
                }
            }
        }
        loadExtraState(sd);
    }

    protected static NDArray scalar(double v) { return NDArray.scalar(v, DType.F64, Device.cpu()).keep(); }

    /** A fresh kept copy of src with the given dtype on the given device. */
    protected static NDArray onDeviceCopy(NDArray src, DType dtype, Device device) {
        try (NDArray d = src.to(device); NDArray t = d.to(dtype)) {
            return t.copy().keep();
        }
    }

    /** Frees the state buffers. */
    @Override public void close() {
        state.values().forEach(ParamState::close);
        state.clear();
    }
}
