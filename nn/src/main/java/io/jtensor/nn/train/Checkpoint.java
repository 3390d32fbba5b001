package io.jtensor.nn.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Saves the whole run (model, optimizer, scheduler, random state, epoch) into {@code dir} at the end of every
 * {@code every}-th epoch and of the last one, atomically, so that a crash mid-write leaves the previous checkpoint
 * intact. {@link Trainer#resume(Path)} continues from it.
 */
public final class Checkpoint implements Callback {
    private final Path dir;
    private final int every;
    private Trainer trainer;
    private Path lastSaved;

    public Checkpoint(Path dir) { this(dir, 1); }

    public Checkpoint(Path dir, int every) {
        if (every < 1) throw new IllegalArgumentException("Checkpoint: expected every >= 1, got " + every);
        this.dir = dir;
        this.every = every;
    }

    @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) { this.trainer = trainer; }

    @Override public void onEpochEnd(int epoch, Map<String, Double> logs) {
        int done = epoch + 1;
        boolean last = done == trainer.epochs() || trainer.stopRequested();
        if (done % every != 0 && !last) return;
        try {
            lastSaved = trainer.saveCheckpoint(dir, done);
        } catch (IOException e) {
            throw new UncheckedIOException("Checkpoint: cannot save to " + dir, e);
        }
    }

    /** The file written last, or null. */
    public Path lastSaved() { return lastSaved; }
}
