package io.jtensor.nn.train;

import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.io.SafeTensors;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.optim.Scheduler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The checkpoint file of a run: one safetensors file with the model's state under {@code model.}, the optimizer's
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
            (t.amp() != null ? t.amp().modelStateDict() : t.model().stateDict()).forEach((k, v) -> arrays.put(MODEL_PREFIX + k, v));
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

    /** Loads everything back into the trainer's objects; returns the epochs done. */
    static int restore(Path file, Trainer t) throws IOException {
        Map<String, String> meta = SafeTensors.readHeader(file).metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new IOException("checkpoint " + file + ": expected format " + FORMAT + ", got " + meta.get("format"));
        }
        Map<String, NDArray> all = SafeTensors.load(file);
        try {
            Map<String, NDArray> model = new LinkedHashMap<>(), opt = new LinkedHashMap<>(), amp = new LinkedHashMap<>();
            for (var e : all.entrySet()) {
                if (e.getKey().startsWith(MODEL_PREFIX)) model.put(e.getKey().substring(MODEL_PREFIX.length()), e.getValue());
                else if (e.getKey().startsWith(OPTIMIZER_PREFIX)) opt.put(e.getKey().substring(OPTIMIZER_PREFIX.length()), e.getValue());
                else if (e.getKey().startsWith(AMP_PREFIX)) amp.put(e.getKey().substring(AMP_PREFIX.length()), e.getValue());
            }
            if (t.amp() != null) t.amp().loadModelStateDict(model);
            else t.model().loadStateDict(model);
            t.optimizer().loadStateDict(opt);
            if (t.amp() != null) t.amp().loadStateDict(amp);
        } finally {
            all.values().forEach(NDArray::close);
        }
        Scheduler s = t.scheduler();
        if (s != null) {
            Map<String, Double> st = new LinkedHashMap<>();
            meta.forEach((k, v) -> {
                if (k.startsWith("scheduler.")) st.put(k.substring("scheduler.".length()), Double.parseDouble(v));
            });
            if (st.isEmpty()) throw new IOException("checkpoint " + file + ": the run has a scheduler but the checkpoint has no scheduler state");
            s.loadStateDict(st);
        }
        Generator g = Generator.defaultGenerator();
        g.setSeed(Long.parseLong(required(meta, "generator.seed", file)));
        g.setOffset(Long.parseLong(required(meta, "generator.offset", file)));
        if (t.trainData() instanceof DataLoader dl && meta.containsKey("loader.next_epoch")) {
            dl.setEpoch(Long.parseLong(meta.get("loader.next_epoch")));
        }
        return Integer.parseInt(required(meta, "epoch", file));
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
