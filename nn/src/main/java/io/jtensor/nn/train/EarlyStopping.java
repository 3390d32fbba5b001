package io.jtensor.nn.train;

import io.jtensor.NDArray;
import java.util.Map;

/**
 * Stops training when a monitored metric (by default val_loss) has not improved by more than {@code minDelta} for
 * {@code patience} epochs in a row, and at the end of training puts back the weights of the best epoch (when
 * {@code restoreBestWeights}, the default). The mode (lower or higher is better) follows the metric's name unless
 * given: names containing "acc" are maximised, others minimised.
 */
public final class EarlyStopping implements Callback {
    public enum Mode { MIN, MAX }

    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final Mode mode;
    private final boolean restoreBestWeights;

    private Trainer trainer;
    private double best;
    private int bestEpoch = -1;
    private int wait;
    private int stoppedEpoch = -1;
    private Map<String, NDArray> bestWeights;

    /** Monitors val_loss with the given patience, minDelta 0, restoring the best weights. */
    public EarlyStopping(int patience) { this("val_loss", patience, 0, null, true); }

    /** @param mode null to infer it from the metric's name */
    public EarlyStopping(String monitor, int patience, double minDelta, Mode mode, boolean restoreBestWeights) {
        if (patience < 0) throw new IllegalArgumentException("EarlyStopping: expected patience >= 0, got " + patience);
        if (!(minDelta >= 0)) throw new IllegalArgumentException("EarlyStopping: expected minDelta >= 0, got " + minDelta);
        this.monitor = monitor;
        this.patience = patience;
        this.minDelta = minDelta;
        this.mode = mode != null ? mode : monitor.contains("acc") ? Mode.MAX : Mode.MIN;
        this.restoreBestWeights = restoreBestWeights;
    }

    @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) {
        this.trainer = trainer;
        best = mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        bestEpoch = -1;
        wait = 0;
        stoppedEpoch = -1;
        dropBestWeights();
    }

    @Override public void onEpochEnd(int epoch, Map<String, Double> logs) {
        Double v = logs.get(monitor);
        if (v == null) {
            throw new IllegalStateException("EarlyStopping: the logs have no '" + monitor + "' (have " + logs.keySet()
                    + "); give the Trainer validation data or monitor another metric");
        }
        boolean improved = mode == Mode.MIN ? v < best - minDelta : v > best + minDelta;
        if (improved) {
            best = v;
            bestEpoch = epoch;
            wait = 0;
            if (restoreBestWeights) {
                dropBestWeights();
                bestWeights = trainer.model().stateDict();
                bestWeights.values().forEach(NDArray::keep);
            }
        } else {
            wait++;
            if (wait >= patience) {
                stoppedEpoch = epoch;
                trainer.stopTraining();
            }
        }
    }

    @Override public void onTrainEnd(Map<String, Double> logs) {
        if (restoreBestWeights && bestWeights != null && bestEpoch != trainer.epoch() - 1) {
            trainer.model().loadStateDict(bestWeights);
        }
        dropBestWeights();
    }

    private void dropBestWeights() {
        if (bestWeights != null) bestWeights.values().forEach(NDArray::close);
        bestWeights = null;
    }

    public double best() { return best; }
    /** The epoch (from 0) with the best value, or -1. */
    public int bestEpoch() { return bestEpoch; }
    /** The epoch (from 0) after which training was stopped, or -1 when it ran to the end. */
    public int stoppedEpoch() { return stoppedEpoch; }
}
