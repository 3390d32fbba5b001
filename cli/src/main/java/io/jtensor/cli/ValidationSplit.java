package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.train.EarlyStopping;
import io.jtensor.nn.train.Logs;
import java.util.Random;

/**
 * {@code --val-split F} and {@code --early-stop PATIENCE} of {@code jtensor train}: a seeded random fraction F of the
 * training set is held out (never the test set) and scored after every epoch; early stopping watches that
 * validation loss and restores the best epoch's weights. Owns the two parts and the validation loader.
 */
final class ValidationSplit implements AutoCloseable {
    /** The two flags after checking: fraction 0 and patience 0 when not given. */
    record Options(double fraction, int patience) {
        static Options parse(ParsedArgs a) {
            double f = a.has("val-split") ? a.number("val-split", 0, 1) : 0;
            if (a.has("val-split") && !(f > 0 && f < 1)) throw new UsageException("--val-split: expected a fraction strictly between 0 and 1, got " + f);
            int patience = a.has("early-stop") ? a.integer("early-stop", 1) : 0;
            if (patience > 0 && f == 0) throw new UsageException("--early-stop: needs --val-split F, a validation set to watch");
            return new Options(f, patience);
        }
    }

    private final TensorDataset train;
    private final TensorDataset validation;
    private DataLoader validationLoader;

    private ValidationSplit(TensorDataset train, TensorDataset validation) {
        this.train = train;
        this.validation = validation;
    }

    /** Splits {@code full} (which it then owns): round(F * size) examples, drawn by a permutation seeded with seed. */
    static ValidationSplit of(TensorDataset full, Options o, long seed) {
        if (o.fraction() == 0) return new ValidationSplit(full, null);
        long n = full.size(), held = Math.round(o.fraction() * n);
        if (held < 1 || held >= n) {
            full.close();
            throw new CommandException("--val-split " + o.fraction() + ": leaves " + held + " of " + n + " examples for validation; it needs at least one in each part");
        }
        long[] perm = new long[Math.toIntExact(n)];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        Random r = new Random(seed);
        for (int i = perm.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        long[] valIdx = java.util.Arrays.copyOfRange(perm, 0, (int) held), trainIdx = java.util.Arrays.copyOfRange(perm, (int) held, perm.length);
        java.util.Arrays.sort(valIdx);
        java.util.Arrays.sort(trainIdx);
        try (full) {
            return new ValidationSplit(select(full, trainIdx), select(full, valIdx));
        }
    }

    private static TensorDataset select(TensorDataset d, long[] indices) {
        try (NDArray idx = NDArray.of(indices, indices.length);
             NDArray x = d.arrays().get(0).indexSelect(0, idx); NDArray y = d.arrays().get(1).indexSelect(0, idx)) {
            return new TensorDataset(x, y);
        }
    }

    TensorDataset train() { return train; }

    /** The held-out part, or null without --val-split. */
    TensorDataset validation() { return validation; }

    /** Batches of the validation part, normalised as the test set (null without --val-split). */
    DataLoader validationLoader(int workers, Device device) {
        if (validation == null) return null;
        if (validationLoader == null) validationLoader = FashionMnistData.testLoader(validation, FashionMnistData.EVAL_BATCH, workers, device);
        return validationLoader;
    }

    /** The callback for --early-stop, or null. */
    static EarlyStopping earlyStopping(Options o) {
        return o.patience() == 0 ? null : new EarlyStopping(Logs.VAL_LOSS, o.patience(), 0, EarlyStopping.Mode.MIN, true);
    }

    @Override public void close() {
        if (validationLoader != null) validationLoader.close();
        train.close();
        if (validation != null) validation.close();
    }
}
