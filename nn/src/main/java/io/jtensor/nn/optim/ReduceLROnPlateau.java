package io.jtensor.nn.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers the rate when a metric stops improving, as PyTorch's ReduceLROnPlateau: after more than {@code patience}
 * steps without an improvement (better than the best by more than {@code threshold}, relative or absolute), every
 * group's rate becomes {@code max(lr * factor, minLr)} (changes smaller than 1e-8 are skipped) and the next
 * {@code cooldown} steps do not count as bad.
 */
public final class ReduceLROnPlateau implements Scheduler {
    public enum Mode { MIN, MAX }
    public enum ThresholdMode { REL, ABS }

    private final Optimizer optimizer;
    private final String monitor;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final ThresholdMode thresholdMode;
    private final int cooldown;
    private final double minLr;
    private static final double EPS = 1e-8;

    private double best;
    private int badEpochs;
    private int cooldownCounter;
    private int lastEpoch;

    /** Monitors val_loss, mode min, factor 0.1, patience 10, threshold 1e-4 relative, no cooldown, minLr 0. */
    public ReduceLROnPlateau(Optimizer optimizer) { this(optimizer, "val_loss", Mode.MIN, 0.1, 10, 1e-4, ThresholdMode.REL, 0, 0); }

    /**
     * @param monitor the log key {@link #epochEnd} reads (step(double) takes the value directly)
     */
    public ReduceLROnPlateau(Optimizer optimizer, String monitor, Mode mode, double factor, int patience, double threshold,
                             ThresholdMode thresholdMode, int cooldown, double minLr) {
        if (!(factor > 0 && factor < 1)) throw new IllegalArgumentException("ReduceLROnPlateau: expected factor in (0, 1), got " + factor);
        if (patience < 0) throw new IllegalArgumentException("ReduceLROnPlateau: expected patience >= 0, got " + patience);
        if (cooldown < 0) throw new IllegalArgumentException("ReduceLROnPlateau: expected cooldown >= 0, got " + cooldown);
        if (!(threshold >= 0)) throw new IllegalArgumentException("ReduceLROnPlateau: expected threshold >= 0, got " + threshold);
        if (!(minLr >= 0)) throw new IllegalArgumentException("ReduceLROnPlateau: expected minLr >= 0, got " + minLr);
        this.optimizer = optimizer;
        this.monitor = monitor;
        this.mode = mode;
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.thresholdMode = thresholdMode;
        this.cooldown = cooldown;
        this.minLr = minLr;
        this.best = mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    public String monitor() { return monitor; }

    @Override public void epochEnd(Map<String, Double> logs) {
        Double v = logs.get(monitor);
        if (v == null) {
            throw new IllegalStateException("ReduceLROnPlateau: the logs have no '" + monitor + "' (have " + logs.keySet() + ")");
        }
        step(v);
    }

    /** Takes one epoch's metric value. */
    public void step(double metric) {
        lastEpoch++;
        if (isBetter(metric)) {
            best = metric;
            badEpochs = 0;
        } else {
            badEpochs++;
        }
        if (cooldownCounter > 0) {
            cooldownCounter--;
            badEpochs = 0;
        }
        if (badEpochs > patience) {
            reduce();
            cooldownCounter = cooldown;
            badEpochs = 0;
        }
    }

    private boolean isBetter(double a) {
        if (Double.isNaN(a)) return false;
        return switch (mode) {
            case MIN -> thresholdMode == ThresholdMode.REL ? a < best * (1 - threshold) : a < best - threshold;
            case MAX -> thresholdMode == ThresholdMode.REL ? a > best * (1 + threshold) : a > best + threshold;
        };
    }

    private void reduce() {
        for (ParamGroup g : optimizer.paramGroups()) {
            double old = g.lr();
            double next = Math.max(old * factor, minLr);
            if (old - next > EPS) g.setLr(next);
        }
    }

    public double best() { return best; }
    public int badEpochs() { return badEpochs; }

    @Override public double[] lastLr() {
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] r = new double[groups.size()];
        for (int i = 0; i < r.length; i++) r[i] = groups.get(i).lr();
        return r;
    }

    @Override public Map<String, Double> stateDict() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("best", best);
        m.put("num_bad_epochs", (double) badEpochs);
        m.put("cooldown_counter", (double) cooldownCounter);
        m.put("last_epoch", (double) lastEpoch);
        return m;
    }

    @Override public void loadStateDict(Map<String, Double> state) {
        for (String k : List.of("best", "num_bad_epochs", "cooldown_counter", "last_epoch")) {
            if (!state.containsKey(k)) throw new IllegalArgumentException("ReduceLROnPlateau.loadStateDict: missing '" + k + "'");
        }
        best = state.get("best");
        badEpochs = (int) (double) state.get("num_bad_epochs");
        cooldownCounter = (int) (double) state.get("cooldown_counter");
        lastEpoch = (int) (double) state.get("last_epoch");
    }
}
