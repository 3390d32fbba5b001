package io.jtensor.nn.amp;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.BatchNorm;
import io.jtensor.nn.Module;
import io.jtensor.nn.optim.Optimizer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Apex's {@code amp.initialize}: prepares a model and its optimizer for one of the {@link OptLevel}s and holds what
 * the training loop needs for it (the autocast scope, the input and output casts, the scaler, the checkpoint view).
 * <pre>{@code
 * Amp amp = Amp.initialize(model, optimizer, OptLevel.O2);
 * try (Autocast ac = amp.autocast()) {
 *     loss = lossFn(amp.castOutput(model.forward(amp.castInput(x))), y);
 * }
 * amp.scaler().scale(loss).backward();
 * amp.scaler().step(optimizer);
 * amp.scaler().update();
 * }</pre>
 * O1 keeps the model in fp32 and autocasts the forward. O2 casts every module but batch norm to half (batch norm's
 * parameters and running statistics stay F32: the engine's batch norm takes half input with F32 parameters, as
 * PyTorch's does), gives the optimizer fp32 masters in the half parameters' place, and casts the model's output to
 * F32 so that the loss is computed in fp32 (Apex's {@code cast_model_outputs}). O3 casts the whole model to half
 * and neither scales nor keeps masters. O1 and O2 scale the loss dynamically; O0 and O3 get a disabled scaler.
 * Each model and optimizer can be initialized once.
 */
public final class Amp {
    private static final Set<Object> INITIALIZED = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private final Module model;
    private final Optimizer optimizer;
    private final OptLevel level;
    private final DType halfType;
    private final GradScaler scaler;
    private final MasterWeights masters;

    private Amp(Module model, Optimizer optimizer, OptLevel level, DType halfType, GradScaler scaler, MasterWeights masters) {
        this.model = model;
        this.optimizer = optimizer;
        this.level = level;
        this.halfType = halfType;
        this.scaler = scaler;
        this.masters = masters;
    }

    /** F16 as the half type. */
    public static Amp initialize(Module model, Optimizer optimizer, OptLevel level) { return initialize(model, optimizer, level, DType.F16); }

    /** The level by name ("O0".."O3"). */
    public static Amp initialize(Module model, Optimizer optimizer, String level, DType halfType) {
        return initialize(model, optimizer, OptLevel.parse(level), halfType);
    }

    /** {@code halfType} F16 or BF16 (BF16: F32's range, so scaling is rarely needed, but kept for one code path). */
    public static Amp initialize(Module model, Optimizer optimizer, OptLevel level, DType halfType) {
        if (model == null || optimizer == null || level == null) throw new IllegalArgumentException("Amp.initialize: model, optimizer and level are required");
        Autocast.checkHalf("Amp.initialize", halfType);
        if (INITIALIZED.contains(model)) throw new IllegalStateException("Amp.initialize: called twice for this model; initialize each model once");
        if (INITIALIZED.contains(optimizer)) throw new IllegalStateException("Amp.initialize: called twice for this optimizer; initialize each optimizer once");
        MasterWeights mw = null;
        switch (level) {
            case O0, O1 -> { }
            case O2 -> {
                castAllButBatchNorm(model, halfType);
                mw = MasterWeights.attach(optimizer);
            }
            case O3 -> model.to(halfType);
        }
        INITIALIZED.add(model);
        INITIALIZED.add(optimizer);
        GradScaler scaler = new GradScaler(level == OptLevel.O1 || level == OptLevel.O2);
        return new Amp(model, optimizer, level, halfType, scaler, mw);
    }

    /** Casts the own parameters and buffers of every module except batch norms: module by module, not recursively. */
    private static void castAllButBatchNorm(Module model, DType halfType) {
        for (Module m : model.namedModules().values()) {
            if (m instanceof BatchNorm) continue;
            for (Tensor p : ownParameters(m)) if (p.dtype() != halfType && p.dtype().isFloating()) p.setData(p.data().to(halfType).keep());
        }
    }

    /** The parameters a module registered itself (not its children's). */
    private static List<Tensor> ownParameters(Module m) {
        Set<Tensor> childParams = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Module c : m.children()) childParams.addAll(c.parameters());
        return m.parameters().stream().filter(p -> !childParams.contains(p)).toList();
    }

    public OptLevel level() { return level; }
    public DType halfType() { return halfType; }
    public GradScaler scaler() { return scaler; }
    public Module model() { return model; }
    public Optimizer optimizer() { return optimizer; }

    /** The fp32 masters the optimizer steps (O2), index-aligned with {@link #halfParameters()}; empty otherwise. */
    public List<Tensor> masterParameters() { return masters == null ? List.of() : List.copyOf(masters.masters); }

    /** The half model parameters that have masters (O2). */
    public List<Tensor> halfParameters() { return masters == null ? List.of() : List.copyOf(masters.modelParams); }

    /** The scope of one forward pass: autocast for O1; for the other levels a scope that changes nothing. */
    public AutoCloseable forwardScope() {
        return level == OptLevel.O1 ? Autocast.enable(halfType) : () -> { };
    }

    /** A floating input in the model's dtype (half for O2 and O3); other inputs as they are. */
    public Tensor castInput(Tensor x) {
        if ((level == OptLevel.O2 || level == OptLevel.O3) && x.dtype().isFloating() && x.dtype() != halfType) return x.to(halfType);
        return x;
    }

    /** The model's floating output in F32 for O2 (the loss in fp32); as it is otherwise. */
    public Tensor castOutput(Tensor y) {
        if (level == OptLevel.O2 && y.dtype().isFloating() && y.dtype() != DType.F32) return y.to(DType.F32);
        return y;
    }

    // ------------------------------------------------------------------ checkpoints

    /**
     * The model's state dict for a checkpoint; for O2 with the fp32 masters in place of the half parameters, so that
     * it loads into an fp32 model as it is. The caller owns the arrays.
     */
    public LinkedHashMap<String, NDArray> modelStateDict() {
        LinkedHashMap<String, NDArray> sd = model.stateDict();
        if (masters == null) return sd;
        Map<Tensor, String> nameOf = new java.util.IdentityHashMap<>();
        model.namedParameters().forEach((k, v) -> nameOf.put(v, k));
        for (int k = 0; k < masters.masters.size(); k++) {
            String name = nameOf.get(masters.modelParams.get(k));
            NDArray old = sd.put(name, masters.masters.get(k).data().copy().keep());
            if (old != null) old.close();
        }
        return sd;
    }

    /** Loads a state dict (of an fp32 or an O2 model) into the model and, for O2, exactly into the masters. */
    public void loadModelStateDict(Map<String, NDArray> state) {
        model.loadStateDict(state);
        if (masters == null) return;
        Map<Tensor, String> nameOf = new java.util.IdentityHashMap<>();
        model.namedParameters().forEach((k, v) -> nameOf.put(v, k));
        List<NDArray> values = masters.modelParams.stream().map(p -> state.get(nameOf.get(p))).toList();
        masters.load(values);
    }

    /** The scaler's state and the level, for a checkpoint (0-d F64 arrays the caller owns). */
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        scaler.stateDict().forEach((k, v) -> out.put("scaler." + k, v));
        return out;
    }

    public void loadStateDict(Map<String, NDArray> sd) {
        Map<String, NDArray> s = new LinkedHashMap<>();
        sd.forEach((k, v) -> { if (k.startsWith("scaler.")) s.put(k.substring("scaler.".length()), v); });
        if (!s.isEmpty()) scaler.loadStateDict(s);
    }
}
