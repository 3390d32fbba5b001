package io.jtensor.nn.train;

import java.util.Map;

/**
 * Hooks the {@link Trainer} calls as training goes on, Keras-style. All hooks of a run see one shared logs map:
 * batch hooks find the running means of the epoch so far ({@code loss}, {@code accuracy}, {@code samples},
 * {@code samples_per_sec}); epoch-end hooks find the epoch's {@code loss}, {@code accuracy}, {@code lr}, and
 * {@code val_loss}, {@code val_accuracy} when there is validation data. Epochs and batches count from 0.
 */
public interface Callback {
    /** Called once before the first epoch (of this call: a resumed run starts at its saved epoch). */
    default void onTrainBegin(Trainer trainer, Map<String, Double> logs) {}

    default void onEpochBegin(int epoch, Map<String, Double> logs) {}

    default void onBatchEnd(int batch, Map<String, Double> logs) {}

    default void onEpochEnd(int epoch, Map<String, Double> logs) {}

    /** Called once after the last epoch, also when a callback stopped training early. */
    default void onTrainEnd(Map<String, Double> logs) {}
}
