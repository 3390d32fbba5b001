package io.jtensor.nn.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A schedule given in closed form: the learning rate of each group is a function of the group's base rate and the
 * number of {@link #step()}s taken. Building the scheduler records the groups' current rates as base rates and
 * sets the rate for step 0, as PyTorch does.
 */
public abstract class LrScheduler implements Scheduler {
    protected final Optimizer optimizer;
    private final double[] baseLrs;
    private int lastEpoch;

    protected LrScheduler(Optimizer optimizer) {
        this.optimizer = optimizer;
        List<ParamGroup> groups = optimizer.paramGroups();
        baseLrs = new double[groups.size()];
        for (int i = 0; i < baseLrs.length; i++) baseLrs[i] = groups.get(i).lr();
    }

    /** Sets the rates for step 0; subclasses call this at the end of their constructor, once their fields are set. */
    protected final void start() { apply(); }

    /** The rate for a group with base rate {@code baseLr} after {@code epoch} steps. */
    protected abstract double lrAt(double baseLr, int epoch);

    /** Advances the schedule by one step (an epoch, or a batch when driven per batch). */
    public void step() {
        lastEpoch++;
        apply();
    }

    @Override public void epochEnd(Map<String, Double> logs) { step(); }

    /** Steps taken. */
    public int lastEpoch() { return lastEpoch; }

    public double[] baseLrs() { return baseLrs.clone(); }

    @Override public double[] lastLr() {
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] r = new double[groups.size()];
        for (int i = 0; i < r.length; i++) r[i] = groups.get(i).lr();
        return r;
    }

    private void apply() {
        List<ParamGroup> groups = optimizer.paramGroups();
        for (int i = 0; i < groups.size(); i++) groups.get(i).setLr(lrAt(baseLrs[i], lastEpoch));
    }

    @Override public Map<String, Double> stateDict() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("last_epoch", (double) lastEpoch);
        for (int i = 0; i < baseLrs.length; i++) m.put("base_lr." + i, baseLrs[i]);
        return m;
    }

    @Override public void loadStateDict(Map<String, Double> state) {
        Double e = state.get("last_epoch");
        if (e == null) throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: missing 'last_epoch'");
        for (int i = 0; i < baseLrs.length; i++) {
            Double b = state.get("base_lr." + i);
            if (b == null) throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: missing 'base_lr." + i + "'");
            baseLrs[i] = b;
        }
        lastEpoch = (int) (double) e;
        apply();
    }
}
