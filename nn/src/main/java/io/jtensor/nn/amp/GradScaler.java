package io.jtensor.nn.amp;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.optim.Optimizer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamic loss scaling, as PyTorch's {@code torch.amp.GradScaler} and Apex's dynamic loss scaler. Half gradients
 * of small values flush to zero; multiplying the loss by a large scale before backward keeps them representable, and
 * dividing the gradients by it before the step restores them. The scale adapts: it starts at 2^16, is halved
 * (backoff 0.5) whenever a step's gradients hold an inf or NaN, that step being skipped, and doubled (growth 2)
 * after 2000 steps in a row without one. The figures are PyTorch's defaults: 2^16 is the largest power of two whose
 * product with a typical initial loss stays inside F16's range, and 2000 clean steps make an overflow from growing
 * rare (Micikevicius et al., "Mixed Precision Training", 2018, used 1000-2000).
 * <pre>{@code
 * scaler.scale(loss).backward();
 * scaler.unscale(optimizer);                   // optional: clip the true gradients
 * GradClip.clipGradNorm(optimizer.params(), 1.0);
 * scaler.step(optimizer);                      // skipped when a gradient was inf/NaN
 * scaler.update();
 * }</pre>
 *
 * <p>Per optimizer and step: {@link #unscale} at most once, then {@link #step} at most once, then {@link #update}
 * once for all optimizers. The unscale and the inf/NaN check are one fused pass over all gradients
 * ({@link MultiTensor#unscale}); {@link #step} reads the found-inf flag once: one host sync per step. With an O2
 * optimizer ({@link Amp}) the half gradients are unscaled into the fp32 masters, the masters are stepped, and the
 * half model gets the new masters.
 *
 * <p>Data parallel: given a {@link ProcessGroup} ({@link #processGroup}), the found-inf flag is all-reduced with MAX
 * before the decision, so that every rank skips the same steps and the replicas stay equal.
 *
 * <p>{@code enabled = false} makes every method a pass-through (scale returns the loss, step steps, update does
 * nothing), so that a training loop switches AMP off with one flag.
 */
public final class GradScaler {
    private enum Stage { READY, UNSCALED, STEPPED }

    private static final class PerOptimizer {
        Stage stage = Stage.READY;
        NDArray foundInf;
        Boolean found;
    }

    private final boolean enabled;
    private final double growthFactor, backoffFactor;
    private final int growthInterval;
    private double scale;
    private int growthTracker;
    private ProcessGroup group;
    private final Map<Optimizer, PerOptimizer> perOptimizer = new IdentityHashMap<>();
    private long skippedSteps;

    /** PyTorch's defaults: scale 2^16, growth 2 after 2000 clean steps, backoff 0.5. */
    public GradScaler() { this(65536.0, 2.0, 0.5, 2000, true); }

    public GradScaler(boolean enabled) { this(65536.0, 2.0, 0.5, 2000, enabled); }

    public GradScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval, boolean enabled) {
        if (!(initScale > 0) || Double.isInfinite(initScale)) throw new IllegalArgumentException("GradScaler: expected a finite initScale > 0, got " + initScale);
        if (!(growthFactor > 1)) throw new IllegalArgumentException("GradScaler: expected growthFactor > 1, got " + growthFactor);
        if (!(backoffFactor > 0 && backoffFactor < 1)) throw new IllegalArgumentException("GradScaler: expected backoffFactor in (0, 1), got " + backoffFactor);
        if (growthInterval < 1) throw new IllegalArgumentException("GradScaler: expected growthInterval >= 1, got " + growthInterval);
        this.scale = initScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
        this.enabled = enabled;
    }

    /** All-reduces the found-inf flag over {@code group} (MAX) before each step's decision; null for none. Returns this. */
    public GradScaler processGroup(ProcessGroup group) {
        this.group = group;
        return this;
    }

    public boolean isEnabled() { return enabled; }

    /** The current scale (1 when disabled). */
    public double getScale() { return enabled ? scale : 1.0; }

    /** Clean steps since the scale last changed. */
    public int growthTracker() { return growthTracker; }

    /** Steps skipped for an inf/NaN gradient so far. */
    public long skippedSteps() { return skippedSteps; }

    /** loss * scale, differentiably (the loss itself when disabled). */
    public Tensor scale(Tensor loss) {
        if (!enabled) return loss;
        return loss.mul(scale);
    }

    /**
     * Divides the optimizer's gradients by the scale in place (for O2: unscales the half gradients into the fp32
     * masters' gradients), recording whether any was inf/NaN; gradient clipping after this sees the true gradients.
     * Once per optimizer between updates. Does not wait for the device.
     */
    public void unscale(Optimizer optimizer) {
        if (!enabled) return;
        PerOptimizer st = perOptimizer.computeIfAbsent(optimizer, o -> new PerOptimizer());
        if (st.stage == Stage.UNSCALED) throw new IllegalStateException("GradScaler.unscale: already called for this optimizer since the last update()");
        if (st.stage == Stage.STEPPED) throw new IllegalStateException("GradScaler.unscale: called after step(); call update() first");
        MasterWeights mw = MasterWeights.of(optimizer);
        List<NDArray> in = new ArrayList<>(), out = new ArrayList<>();
        List<Tensor> halfDone = new ArrayList<>();
        Device device = null;
        try (var g = GradMode.noGrad()) {
            for (Tensor p : optimizer.params()) {
                Tensor model = mw == null ? null : mw.modelParamOf(p);
                Tensor source = model != null ? model : p;
                if (source.grad() == null) continue;
                NDArray grad = source.grad().data();
                device = grad.device();
                in.add(grad);
                if (model == null) {
                    out.add(grad);
                } else {
                    // Apex's O2: the half gradient lands, unscaled, in the master's F32 gradient.
                    NDArray mg = NDArray.zeros(DType.F32, grad.device(), grad.shape()).keep();
                    try (Tensor w = Tensor.wrap(mg)) {
                        p.setGrad(w);
                    }
                    out.add(p.grad().data());
                    halfDone.add(model);
                }
            }
            if (device == null) device = optimizer.params().get(0).device();
            if (st.foundInf == null || !st.foundInf.device().equals(device)) {
                if (st.foundInf != null) st.foundInf.close();
                st.foundInf = NDArray.zeros(DType.I32, device, 1).keep();
            } else {
                st.foundInf.fill(0);
            }
            MultiTensor.unscale(in, out, 1.0 / scale, st.foundInf);
        }
        for (Tensor m : halfDone) m.zeroGrad();
        st.found = null;
        st.stage = Stage.UNSCALED;
    }

    /**
     * Unscales (unless {@link #unscale} did) and steps the optimizer unless a gradient was inf/NaN on any rank;
     * returns whether it stepped. A skipped step leaves the weights and the optimizer's state untouched.
     */
    public boolean step(Optimizer optimizer) {
        if (!enabled) {
            optimizer.step();
            return true;
        }
        PerOptimizer st = perOptimizer.computeIfAbsent(optimizer, o -> new PerOptimizer());
        if (st.stage == Stage.STEPPED) {
            throw new IllegalStateException("GradScaler.step: already called for this optimizer since the last update(); call update() between steps");
        }
        if (st.stage == Stage.READY) unscale(optimizer);
        if (group != null) group.allReduce(st.foundInf, ProcessGroup.ReduceOp.MAX);
        st.found = st.foundInf.item() != 0;   // the step's one host sync
        st.stage = Stage.STEPPED;
        if (st.found) {
            skippedSteps++;
            return false;
        }
        MasterWeights mw = MasterWeights.of(optimizer);
        if (mw == null) {
            optimizer.step();
        } else if (!FusedStep.step(optimizer, mw)) {
            optimizer.step();
            mw.copyToModel();
        }
        return true;
    }

    /**
     * Adjusts the scale after the step(s) of this iteration: backoff when any optimizer found an inf/NaN, growth after
     * growthInterval clean steps in a row. Needs a {@link #step} since the last update.
     */
    public void update() {
        if (!enabled) return;
        boolean anyStepped = false, found = false;
        for (PerOptimizer st : perOptimizer.values()) {
            if (st.stage == Stage.UNSCALED) throw new IllegalStateException("GradScaler.update: unscale() was called without step() for an optimizer");
            if (st.stage == Stage.STEPPED) {
                anyStepped = true;
                found |= st.found;
            }
        }
        if (!anyStepped) throw new IllegalStateException("GradScaler.update: no step(optimizer) since the last update()");
        if (found) {
            scale *= backoffFactor;
            growthTracker = 0;
        } else if (++growthTracker == growthInterval) {
            scale *= growthFactor;
            growthTracker = 0;
        }
        for (PerOptimizer st : perOptimizer.values()) {
            st.stage = Stage.READY;
            st.found = null;
        }
    }

    // ------------------------------------------------------------------ checkpoints

    /** scale, growth_tracker and the settings as 0-d F64 arrays the caller owns (PyTorch's state_dict keys). */
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("scale", scalar(scale));
        out.put("growth_factor", scalar(growthFactor));
        out.put("backoff_factor", scalar(backoffFactor));
        out.put("growth_interval", scalar(growthInterval));
        out.put("growth_tracker", scalar(growthTracker));
        return out;
    }

    /** Restores the scale and growth tracker saved by {@link #stateDict()} (the settings stay this scaler's). */
    public void loadStateDict(Map<String, NDArray> sd) {
        for (String k : new String[] {"scale", "growth_tracker"}) {
            if (!sd.containsKey(k)) throw new IllegalArgumentException("GradScaler.loadStateDict: expected key '" + k + "', got " + sd.keySet());
        }
        double s = sd.get("scale").item();
        if (!(s > 0)) throw new IllegalArgumentException("GradScaler.loadStateDict: expected a scale > 0, got " + s);
        scale = s;
        growthTracker = (int) sd.get("growth_tracker").item();
    }

    private static NDArray scalar(double v) { return NDArray.scalar(v, DType.F64, Device.cpu()).keep(); }
}
