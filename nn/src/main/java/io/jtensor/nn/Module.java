package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The base of every layer and model, shaped like PyTorch's {@code nn.Module}: it holds parameters (leaf tensors
 * that require grad), buffers (state that is saved but not trained, such as BatchNorm's running statistics) and
 * submodules, each under a name, in registration order. Names join with dots ({@code features.0.weight}), so a
 * state dict of this module reads like PyTorch's for the same architecture.
 *
 * <p><b>Parameter identity.</b> A parameter is one {@link Tensor} object for the life of the module: {@link #to(Device)},
 * {@link #to(DType)} and {@link #loadStateDict} change its data in place ({@link Tensor#setData} or a copy into its
 * array), never the object, so an optimizer that holds {@link #parameters()} keeps working after a move or a load.
 * Buffers are arrays the module owns; they may be replaced by a move, so read them through {@link #buffer(String)}.
 *
 * <p><b>Lifetime.</b> Parameter and buffer arrays are detached from any open {@link io.jtensor.memory.MemoryScope} when
 * registered: a model built inside a training step's scope outlives the step.
 */
public abstract class Module implements Cloneable {
    // Not final: a replica (shallowCopy) gets tables of its own.
    private LinkedHashMap<String, Tensor> parameters = new LinkedHashMap<>();
    private LinkedHashMap<String, NDArray> buffers = new LinkedHashMap<>();
    private LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    // ------------------------------------------------------------------ forward

    /**
     * The forward pass of a module with one input. Modules with several inputs (losses, attention, recurrent layers
     * with initial states) define their own {@code forward} overloads and may also implement this one.
     */
    public Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + ".forward(Tensor): this module does not take a single input; use its own forward method");
    }

    // ------------------------------------------------------------------ registration

    /** Registers {@code data} as a trainable parameter (this module takes the reference) and returns its tensor. */
    public Tensor registerParameter(String name, NDArray data) {
        checkNewName(name);
        if (!data.dtype().isFloating()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".registerParameter: '" + name
                    + "' must be floating point, got " + data.dtype());
        }
        Tensor t = Tensor.wrap(data.keep()).requiresGrad(true);
        parameters.put(name, t);
        return t;
    }

    /** Registers an array (this module takes the reference) as a buffer: saved in the state dict, never trained. */
    public NDArray registerBuffer(String name, NDArray data) {
        checkNewName(name);
        buffers.put(name, data.keep());
        return data;
    }

    /** Registers a submodule under {@code name}; returns it for assignment to a field. */
    public <M extends Module> M registerModule(String name, M module) {
        checkNewName(name);
        if (module == null) throw new IllegalArgumentException(getClass().getSimpleName() + ".registerModule: '" + name + "' is null");
        if (module == this) throw new IllegalArgumentException(getClass().getSimpleName() + ".registerModule: a module cannot contain itself");
        children.put(name, module);
        return module;
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": invalid name '" + name + "' (non-empty, no dots)");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the name '" + name + "' is already registered");
        }
    }

    /** This module's own parameter {@code name}. */
    protected Tensor parameter(String name) {
        Tensor t = parameters.get(name);
        if (t == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameter '" + name + "'");
        return t;
    }

    /** This module's own buffer {@code name}, as it is now (a move may have replaced the array). */
    protected NDArray buffer(String name) {
        NDArray b = buffers.get(name);
        if (b == null) throw new IllegalArgumentException(getClass().getSimpleName() + ": no buffer '" + name + "'");
        return b;
    }

    // ------------------------------------------------------------------ traversal

    /** Direct submodules by name, in registration order. */
    public LinkedHashMap<String, Module> namedChildren() { return new LinkedHashMap<>(children); }

    public List<Module> children() { return new ArrayList<>(children.values()); }

    /** This module (under "") and every descendant, depth first, by dotted name. */
    public LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        out.put(prefix, this);
        for (var e : children.entrySet()) e.getValue().collectModules(join(prefix, e.getKey()), out);
    }

    /**
     * Every parameter of this module and its descendants by dotted name, own parameters first; a tensor reachable
     * under two names (a shared submodule) appears once, under the first, as in PyTorch.
     */
    public LinkedHashMap<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collectParameters("", out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out;
    }

    private void collectParameters(String prefix, Map<String, Tensor> out, Set<Tensor> seen) {
        for (var e : parameters.entrySet()) {
            if (seen.add(e.getValue())) out.put(join(prefix, e.getKey()), e.getValue());
        }
        for (var e : children.entrySet()) e.getValue().collectParameters(join(prefix, e.getKey()), out, seen);
    }

    /** Every parameter, each once, in {@link #namedParameters()} order: what an optimizer takes. */
    public List<Tensor> parameters() { return new ArrayList<>(namedParameters().values()); }

    /** Turns gradient tracking of every parameter on or off (freezing a part of a model); returns this. */
    public Module requiresGrad(boolean on) {
        for (Tensor t : parameters()) t.requiresGrad(on);
        return this;
    }

    /** Every buffer of this module and its descendants by dotted name. */
    public LinkedHashMap<String, NDArray> namedBuffers() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, NDArray> out) {
        for (var e : buffers.entrySet()) out.putIfAbsent(join(prefix, e.getKey()), e.getValue());
        for (var e : children.entrySet()) e.getValue().collectBuffers(join(prefix, e.getKey()), out);
    }

    private static String join(String prefix, String name) { return prefix.isEmpty() ? name : prefix + "." + name; }

    /** The number of scalar parameters (each shared tensor counted once). */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : parameters()) n += t.numel();
        return n;
    }

    /** The number of scalar parameters that require grad. */
    public long trainableParameterCount() {
        long n = 0;
        for (Tensor t : parameters()) if (t.requiresGrad()) n += t.numel();
        return n;
    }

    // ------------------------------------------------------------------ modes

    /** Training mode (batch statistics, dropout on) for this module and all descendants; returns this. */
    public Module train() { return train(true); }

    public Module train(boolean on) {
        training = on;
        for (Module m : children.values()) m.train(on);
        return this;
    }

    /** Evaluation mode (running statistics, dropout off); returns this. */
    public Module eval() { return train(false); }

    public boolean isTraining() { return training; }

    /** Drops every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}). */
    public void zeroGrad() {
        for (Tensor t : parameters()) t.zeroGrad();
    }

    // ------------------------------------------------------------------ moves

    /**
     * Moves every parameter and buffer to {@code device}, keeping each parameter's tensor object (its data is
     * replaced, its gradient dropped when it no longer fits); returns this.
     */
    public Module to(Device device) {
        for (Module m : namedModules().values()) {
            for (Tensor p : m.parameters.values()) {
                if (!p.device().equals(device)) p.setData(p.data().to(device).keep());
            }
            for (var e : m.buffers.entrySet()) {
                NDArray b = e.getValue();
                if (b.device().equals(device)) continue;
                e.setValue(b.to(device).keep());
                b.close();
            }
        }
        return this;
    }

    /** Casts every floating parameter and buffer to {@code dtype} (integer buffers keep theirs); returns this. */
    public Module to(DType dtype) {
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".to: parameters need a floating dtype, got " + dtype);
        }
        for (Module m : namedModules().values()) {
            for (Tensor p : m.parameters.values()) {
                if (p.dtype() != dtype) p.setData(p.data().to(dtype).keep());
            }
            for (var e : m.buffers.entrySet()) {
                NDArray b = e.getValue();
                if (!b.dtype().isFloating() || b.dtype() == dtype) continue;
                e.setValue(b.to(dtype).keep());
                b.close();
            }
        }
        return this;
    }

    /** The device of the first parameter (or buffer); CPU for a module with neither. */
    public Device device() {
        for (Tensor t : namedParameters().values()) return t.device();
        for (NDArray b : namedBuffers().values()) return b.device();
        return Device.cpu();
    }

    /** The dtype of the first parameter; F32 for a module without parameters. */
    public DType dtype() {
        for (Tensor t : namedParameters().values()) return t.dtype();
        return DType.F32;
    }

    // ------------------------------------------------------------------ state

    /**
     * A snapshot of every parameter and buffer by dotted name, parameters of a module before its buffers, as fresh
     * arrays the caller owns (closing them does not affect the module; training does not change them).
     */
    public LinkedHashMap<String, NDArray> stateDict() {
        LinkedHashMap<String, NDArray> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, NDArray> out) {
        for (var e : parameters.entrySet()) {
            String key = join(prefix, e.getKey());
            if (!out.containsKey(key)) out.put(key, e.getValue().data().copy());
        }
        for (var e : buffers.entrySet()) {
            String key = join(prefix, e.getKey());
            if (!out.containsKey(key)) out.put(key, e.getValue().copy());
        }
        for (var e : children.entrySet()) e.getValue().collectState(join(prefix, e.getKey()), out);
    }

    /** {@link #loadStateDict(Map, boolean)} with strict key matching. */
    public void loadStateDict(Map<String, NDArray> state) { loadStateDict(state, true); }

    /**
     * Copies values from {@code state} into this module's parameters and buffers (cast to their dtype and moved to
     * their device; the tensors keep their identity). Shapes must always match. With {@code strict}, the keys must
     * be exactly this module's; otherwise missing keys keep their values and unexpected keys are ignored.
     * Nothing is changed when the check fails.
     *
     * @return the keys that were missing and unexpected (both empty after a strict load)
     * @throws StateDictException naming every missing and unexpected key and every shape mismatch
     */
    public StateDictException.Report loadStateDict(Map<String, NDArray> state, boolean strict) {
        LinkedHashMap<String, NDArray> targets = new LinkedHashMap<>();
        collectTargets("", targets);
        // Keys the checkpoint lacks but their module fills in, as PyTorch's _load_from_state_dict does.
        Map<String, NDArray> filled = new LinkedHashMap<>();
        for (String key : targets.keySet()) {
            if (state.containsKey(key)) continue;
            NDArray d = defaultFor(key);
            if (d != null) filled.put(key, d);
        }
        try {
            return loadChecked(targets, filled.isEmpty() ? state : withDefaults(state, filled), strict);
        } finally {
            for (NDArray d : filled.values()) d.close();
        }
    }

    /**
     * The value a state dict may leave out for this module's own parameter or buffer {@code name}, as PyTorch's
     * {@code _load_from_state_dict} fills it in; null (the default) when the key is required. Called only for keys
     * the state dict lacks; the caller owns and closes the array. BatchNorm fills in num_batches_tracked.
     */
    protected NDArray missingStateDefault(String name) { return null; }

    /** The default of the module that owns the dotted key, or null. */
    private NDArray defaultFor(String key) {
        Module m = this;
        String rest = key;
        for (int dot; (dot = rest.indexOf('.')) >= 0 && m.children.containsKey(rest.substring(0, dot)); rest = rest.substring(dot + 1)) {
            m = m.children.get(rest.substring(0, dot));
        }
        return m.parameters.containsKey(rest) || m.buffers.containsKey(rest) ? m.missingStateDefault(rest) : null;
    }

    private static Map<String, NDArray> withDefaults(Map<String, NDArray> state, Map<String, NDArray> filled) {
        Map<String, NDArray> all = new LinkedHashMap<>(state);
        all.putAll(filled);
        return all;
    }

    private StateDictException.Report loadChecked(LinkedHashMap<String, NDArray> targets, Map<String, NDArray> state, boolean strict) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (var e : targets.entrySet()) {
            NDArray src = state.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                mismatched.add(e.getKey() + ": checkpoint " + Arrays.toString(src.shape()) + ", model " + Arrays.toString(e.getValue().shape()));
            }
        }
        for (String k : state.keySet()) if (!targets.containsKey(k)) unexpected.add(k);
        var report = new StateDictException.Report(missing, unexpected, mismatched);
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            throw new StateDictException(getClass().getSimpleName(), report, strict);
        }
        for (var e : targets.entrySet()) {
            NDArray src = state.get(e.getKey());
            if (src == null) continue;
            NDArray dst = e.getValue();
            try (NDArray moved = src.to(dst.device())) {
                dst.copyFrom(moved);
            }
        }
        return report;
    }

    /** The arrays a state dict writes into, by dotted name. */
    private void collectTargets(String prefix, Map<String, NDArray> out) {
        for (var e : parameters.entrySet()) out.putIfAbsent(join(prefix, e.getKey()), e.getValue().data());
        for (var e : buffers.entrySet()) out.putIfAbsent(join(prefix, e.getKey()), e.getValue());
        for (var e : children.entrySet()) e.getValue().collectTargets(join(prefix, e.getKey()), out);
    }

    /** Writes the state dict to a safetensors file, with the module's class name in the metadata. */
    public void save(Path path) throws IOException {
        LinkedHashMap<String, NDArray> state = stateDict();
        try {
            LinkedHashMap<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "jtensor");
            meta.put("module", getClass().getName());
            SafeTensors.save(path, state, meta);
        } finally {
            state.values().forEach(NDArray::close);
        }
    }

    /** Loads a safetensors file written by {@link #save} (or by PyTorch for the same architecture), strictly. */
    public void load(Path path) throws IOException { load(path, true); }

    public StateDictException.Report load(Path path, boolean strict) throws IOException {
        Map<String, NDArray> state = SafeTensors.load(path);
        try {
            return loadStateDict(state, strict);
        } finally {
            state.values().forEach(NDArray::close);
        }
    }

    // ------------------------------------------------------------------ replicas (data parallelism)

    /**
     * A replica of this module tree for data parallelism, as PyTorch's {@code replicate}: every module of the tree
     * is copied shallowly (same class, every field by reference, the same training mode) and, in the copies, every
     * reference to a parameter, a buffer or a module of the tree is replaced by its replica: in the parameter,
     * buffer and submodule tables, and in the modules' own fields, including arrays and {@link java.util.List}s of
     * them (so {@code Linear.weight} or {@code Sequential}'s layer list point at the replicas).
     * {@code parameterReplica} and {@code bufferReplica} are called once per distinct parameter tensor and buffer
     * array (tied weights stay tied) and give the object the replica uses, typically a copy on another device that
     * records a node back to the original. Other fields (sizes, configs, generators, a tensor that is not a
     * registered parameter) are shared with the original, so a replica must not be used to change them.
     *
     * <p>Fields are rewritten by reflection, which needs the module classes' packages open to this module (they
     * are, on the class path) and final instance fields to be writable (true up to JDK 25; later JDKs may ask for
     * {@code --enable-final-field-mutation}). Fields of other container types (maps, optionals) are not rewritten:
     * a module that keeps submodules or parameters only there cannot be replicated and fails, at its first use on
     * another device, with a mixed-device error.
     */
    public final Module replicate(UnaryOperator<Tensor> parameterReplica, UnaryOperator<NDArray> bufferReplica) {
        return ModuleReplicas.replicate(this, parameterReplica, bufferReplica);
    }

    /** This object alone, copied field by field, with empty tables of its own (for {@link ModuleReplicas}). */
    final Module shallowCopy() {
        Module copy;
        try {
            copy = (Module) super.clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError("Module implements Cloneable", e);
        }
        copy.parameters = new LinkedHashMap<>();
        copy.buffers = new LinkedHashMap<>();
        copy.children = new LinkedHashMap<>();
        return copy;
    }

    /** This module's own tables, by reference (for {@link ModuleReplicas}). */
    final LinkedHashMap<String, Tensor> ownParameters() { return parameters; }
    final LinkedHashMap<String, NDArray> ownBuffers() { return buffers; }
    final LinkedHashMap<String, Module> ownChildren() { return children; }

    // ------------------------------------------------------------------ printing

    /** The one-line description inside this module's parentheses, e.g. {@code 784, 256, bias=true}. */
    protected String extraRepr() { return ""; }

    /** A boolean as Python prints it, for {@link #extraRepr()}. */
    protected static String py(boolean b) { return b ? "True" : "False"; }

    /** A number as Python prints it (0.1, 1e-05, 2), for {@link #extraRepr()}. */
    protected static String py(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d);
        if (Math.abs(d) >= 1e-4) return Double.toString(d);
        String[] parts = String.format(java.util.Locale.ROOT, "%.15e", d).split("e");
        String mantissa = parts[0].replaceAll("0+$", "").replaceAll("\\.$", "");
        int exp = Integer.parseInt(parts[1]);
        return mantissa + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }

    /** A tree like PyTorch's: {@code Name(extra)} or {@code Name(\n  (child): ...\n)}. */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(');
        String extra = extraRepr();
        if (children.isEmpty()) return sb.append(extra).append(')').toString();
        sb.append(extra);
        sb.append('\n');
        for (var e : children.entrySet()) {
            String child = e.getValue().toString().replace("\n", "\n  ");
            sb.append("  (").append(e.getKey()).append("): ").append(child).append('\n');
        }
        return sb.append(')').toString();
    }
}
