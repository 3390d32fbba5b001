package io.jtensor.nn.optim;

import io.jtensor.autograd.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Some parameters and the options an optimizer uses for them (lr, weight decay, betas, ...), as in PyTorch's
 * {@code param_groups}. Options not set here are filled from the optimizer's defaults when the optimizer is built;
 * schedulers change {@link #setLr(double)} between steps.
 */
public final class ParamGroup {
    public static final String LR = "lr";
    public static final String WEIGHT_DECAY = "weight_decay";

    private List<Tensor> params;
    private final Map<String, Double> options = new LinkedHashMap<>();

    public ParamGroup(List<Tensor> params) {
        if (params == null || params.isEmpty()) throw new IllegalArgumentException("ParamGroup: expected at least one parameter");
        for (Tensor p : params) if (p == null) throw new IllegalArgumentException("ParamGroup: a parameter is null");
        this.params = List.copyOf(params);
    }

    public ParamGroup(List<Tensor> params, Map<String, Double> options) {
        this(params);
        this.options.putAll(options);
    }

    public List<Tensor> params() { return params; }

    /** Sets an option; returns this for chaining. */
    public ParamGroup set(String name, double value) {
        options.put(name, value);
        return this;
    }

    public boolean has(String name) { return options.containsKey(name); }

    public double get(String name) {
        Double v = options.get(name);
        if (v == null) throw new IllegalStateException("ParamGroup: no option '" + name + "' (have " + options.keySet() + ")");
        return v;
    }

    public double lr() { return get(LR); }
    public void setLr(double lr) { set(LR, lr); }
    public double weightDecay() { return get(WEIGHT_DECAY); }

    /** The options, read-only, in insertion order. */
    public Map<String, Double> options() { return Collections.unmodifiableMap(options); }

    /** Replaces the parameters that {@code replacement} names (see {@link Optimizer#substituteParameters}). */
    void substitute(Map<Tensor, Tensor> replacement) {
        params = params.stream().map(p -> replacement.getOrDefault(p, p)).toList();
    }

    void fillDefaults(Map<String, Double> defaults) {
        defaults.forEach(options::putIfAbsent);
    }
}
