package io.jtensor.nn.optim;

import java.util.Map;

/** Something that changes an optimizer's learning rates as training goes on, driven by the Trainer once per epoch. */
public interface Scheduler {
    /** Called at the end of each epoch with that epoch's logs (loss, val_loss, ...). */
    void epochEnd(Map<String, Double> logs);

    /** The learning rate of each parameter group now. */
    double[] lastLr();

    /** Everything needed to continue the schedule after a restart. */
    Map<String, Double> stateDict();

    void loadStateDict(Map<String, Double> state);
}
