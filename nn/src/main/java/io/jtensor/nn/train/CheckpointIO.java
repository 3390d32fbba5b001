package io.jtensor.nn.train;

import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.io.SafeTensors;
import io.jtensor.nn.Module;
import io.jtensor.nn.amp.Amp;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.optim.Scheduler;
import io.jtensor.nn.parallel.ModuleWrapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The checkpoint file of a run: one safetensors file with the model's state under {@code model.} (a data-parallel
 * wrapper's module's: the file loads into the bare module), the optimizer's
 * under {@code optimizer.}, and in the metadata the format, the epochs done, the default generator's seed and
 * offset, the training loader's next epoch, with mixed precision the scaler's state under {@code amp.}, the scheduler's state under {@code scheduler.}, and the run's own
 * metadata (model name, recipe) as given to the Trainer.
 */
public final class CheckpointIO {
    public static final String FILE_NAME = "checkpoint.safetensors";
    public static final String FORMAT = "jtensor-checkpoint-1";
    public static final String MODEL_PREFIX = "model.";
    public static final String OPTIMIZER_PREFIX = "optimizer.";
    /** Mixed precision: the loss scaler's state (the model's arrays are then the fp32 masters). */
    public static final String AMP_PREFIX = "amp.";

    private CheckpointIO() {}

    /** The checkpoint file given a directory (holding {@value #FILE_NAME}) or the file itself. */
    public static Path resolve(Path dirOrFile) throws IOException {
        Path f = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE_NAME) : dirOrFile;
        if (!Files.isRegularFile(f)) {
            throw new java.io.FileNotFoundException("checkpoint: no " + (Files.isDirectory(dirOrFile) ? FILE_NAME + " in " : "file ")
                    + dirOrFile);
        }
        return f;
    }

    static Path save(Path dir, Trainer t, int epochsDone) throws IOException {
        Files.createDirectories(dir);
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>(t.checkpointMetadata());
        try {
            (t.amp() != null ? t.amp().modelStateDict() : ModuleWrapper.unwrap(t.model()).stateDict()).forEach((k, v) -> arrays.put(MODEL_PREFIX + k, v));
            t.optimizer().stateDict().forEach((k, v) -> arrays.put(OPTIMIZER_PREFIX + k, v));
            if (t.amp() != null) t.amp().stateDict().forEach((k, v) -> arrays.put(AMP_PREFIX + k, v));
            meta.put("format", FORMAT);
            meta.put("epoch", String.valueOf(epochsDone));
            meta.put("epochs", String.valueOf(t.epochs()));
            Generator g = Generator.defaultGenerator();
            meta.put("generator.seed", String.valueOf(g.seed()));
            meta.put("generator.offset", String.valueOf(g.offset()));
            if (t.trainData() instanceof DataLoader dl) meta.put("loader.next_epoch", String.valueOf(dl.nextEpoch()));
            Scheduler s = t.scheduler();
            if (s != null) s.stateDict().forEach((k, v) -> meta.put("scheduler." + k, Double.toString(v)));
            Path file = dir.resolve(FILE_NAME);
            SafeTensors.save(file, arrays, meta);
            return file;
        } finally {
            arrays.values().forEach(NDArray::close);
        }
    }

    /**
     * Loads everything back into the trainer's objects; returns the epochs done. A rejected checkpoint leaves the run
     * exactly as it was: every metadata value is parsed and checked first, then the model, optimizer and scheduler
     * take their state (each checks its part before changing anything, and a later part's rejection puts the earlier
     * ones back from a snapshot), and only then the generator and the loader, which cannot fail. The snapshot is a
     * copy of the model's and the optimizer's state, held for the duration of the call.
     */
    static int restore(Path file, Trainer t) throws IOException {
        Map<String, String> meta = SafeTensors.readHeader(file).metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new IOException("checkpoint " + file + ": expected format " + FORMAT + ", got " + meta.get("format"));
        }
        int epoch = (int) integer(meta, "epoch", file, 0, Integer.MAX_VALUE);
        long seed = integer(meta, "generator.seed", file, Long.MIN_VALUE, Long.MAX_VALUE);
        long offset = integer(meta, "generator.offset", file, 0, Long.MAX_VALUE);
        Long nextEpoch = t.trainData() instanceof DataLoader && meta.containsKey("loader.next_epoch")
                ? integer(meta, "loader.next_epoch", file, 0, Long.MAX_VALUE) : null;
        Scheduler s = t.scheduler();
        Map<String, Double> schedulerState = new LinkedHashMap<>();
        for (var e : meta.entrySet()) {
            if (e.getKey().startsWith("scheduler.")) schedulerState.put(e.getKey().substring("scheduler.".length()), real(e.getKey(), e.getValue(), file));
        }
        if (s != null && schedulerState.isEmpty()) {
            throw new IOException("checkpoint " + file + ": the run has a scheduler but the checkpoint has no scheduler state");
        }
        Map<String, NDArray> all = SafeTensors.load(file);
        Map<String, NDArray> modelBefore = null, optimizerBefore = null, ampBefore = null;
        try {
            Map<String, NDArray> model = new LinkedHashMap<>(), opt = new LinkedHashMap<>(), amp = new LinkedHashMap<>();
            for (var e : all.entrySet()) {
                if (e.getKey().startsWith(MODEL_PREFIX)) model.put(e.getKey().substring(MODEL_PREFIX.length()), e.getValue());
                else if (e.getKey().startsWith(OPTIMIZER_PREFIX)) opt.put(e.getKey().substring(OPTIMIZER_PREFIX.length()), e.getValue());
                else if (e.getKey().startsWith(AMP_PREFIX)) amp.put(e.getKey().substring(AMP_PREFIX.length()), e.getValue());
            }
            Module module = ModuleWrapper.unwrap(t.model());
            Amp mixed = t.amp();
            modelBefore = mixed != null ? mixed.modelStateDict() : module.stateDict();
            optimizerBefore = t.optimizer().stateDict();
            ampBefore = mixed != null ? mixed.stateDict() : null;
            Map<String, Double> schedulerBefore = s == null ? null : s.stateDict();
            loadModel(mixed, module, model);
            try {
                t.optimizer().loadStateDict(opt);
                if (mixed != null) mixed.loadStateDict(amp);
                if (s != null) s.loadStateDict(schedulerState);
            } catch (RuntimeException e) {
                loadModel(mixed, module, modelBefore);
                t.optimizer().loadStateDict(optimizerBefore);
                if (mixed != null) mixed.loadStateDict(ampBefore);
                if (s != null) s.loadStateDict(schedulerBefore);
                throw e;
            }
        } finally {
            all.values().forEach(NDArray::close);
            if (modelBefore != null) modelBefore.values().forEach(NDArray::close);
            if (optimizerBefore != null) optimizerBefore.values().forEach(NDArray::close);
            if (ampBefore != null) ampBefore.values().forEach(NDArray::close);
        }
        Generator g = Generator.defaultGenerator();
        g.setSeed(seed);
        g.setOffset(offset);
        if (nextEpoch != null) ((DataLoader) t.trainData()).setEpoch(nextEpoch);
        return epoch;
    }

    /** The model's state: through the masters when mixed precision keeps them, else the (unwrapped) module's. */
    private static void loadModel(Amp mixed, Module module, Map<String, NDArray> state) {
        if (mixed != null) mixed.loadModelStateDict(state);
        else module.loadStateDict(state);
    }

    /** A required integer metadata value in [min, max], or an error naming the file, the key, the range and the value. */
    private static long integer(Map<String, String> meta, String key, Path file, long min, long max) throws IOException {
        String v = required(meta, key, file);
        long value;
        try {
            value = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IOException("checkpoint " + file + ": metadata '" + key + "' must be an integer in [" + min + ", " + max + "], got \"" + v + "\"", e);
        }
        if (value < min || value > max) {
            throw new IOException("checkpoint " + file + ": metadata '" + key + "' must be an integer in [" + min + ", " + max + "], got " + value);
        }
        return value;
    }

    private static double real(String key, String v, Path file) throws IOException {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IOException("checkpoint " + file + ": metadata '" + key + "' must be a number, got \"" + v + "\"", e);
        }
    }

    /** The metadata of a checkpoint file (or directory), without loading its arrays. */
    public static Map<String, String> metadata(Path dirOrFile) throws IOException {
        return SafeTensors.readHeader(resolve(dirOrFile)).metadata();
    }

    /** Just the model's arrays of a checkpoint, with the {@code model.} prefix removed; the caller closes them. */
    public static Map<String, NDArray> modelState(Path dirOrFile) throws IOException {
        Map<String, NDArray> all = SafeTensors.load(resolve(dirOrFile));
        Map<String, NDArray> model = new LinkedHashMap<>();
        for (var e : all.entrySet()) {
            if (e.getKey().startsWith(MODEL_PREFIX)) model.put(e.getKey().substring(MODEL_PREFIX.length()), e.getValue());
            else e.getValue().close();
        }
        return model;
    }

    private static String required(Map<String, String> meta, String key, Path file) throws IOException {
        String v = meta.get(key);
        if (v == null) throw new IOException("checkpoint " + file + ": missing metadata '" + key + "'");
        return v;
    }
}
