package io.jtensor.nn.train;

/** The names the Trainer uses in the logs map. */
public final class Logs {
    public static final String LOSS = "loss";
    public static final String ACCURACY = "accuracy";
    public static final String VAL_LOSS = "val_loss";
    public static final String VAL_ACCURACY = "val_accuracy";
    public static final String LR = "lr";
    /** Samples seen so far in the epoch. */
    public static final String SAMPLES = "samples";
    public static final String SAMPLES_PER_SEC = "samples_per_sec";
    /** Seconds the epoch took (at epoch end). */
    public static final String EPOCH_TIME = "epoch_time";

    private Logs() {}
}
