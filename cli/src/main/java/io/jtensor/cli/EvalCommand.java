package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.models.Models;
import io.jtensor.nn.train.CheckpointIO;
import io.jtensor.nn.train.Logs;
import io.jtensor.nn.train.Trainer;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code jtensor eval --checkpoint DIR|FILE}: rebuilds the model a train run saved and prints its test accuracy. */
final class EvalCommand {
    static final List<Flag> FLAGS = List.of(
            Flag.value("checkpoint", "DIR|FILE", null, "a checkpoint directory written by train --checkpoint-dir, or its file"),
            Flag.value("data-dir", "DIR", null, "where the Fashion-MNIST files are (default " + FashionMnist.SYSTEM_DIR + ")"),
            Flag.value("device", "DEV", "auto", "auto, cpu, cuda or cuda:N"),
            Flag.value("batch-size", "N", String.valueOf(FashionMnistData.EVAL_BATCH), "evaluation batch size"),
            Flag.toggle("help", "show this help"));

    private EvalCommand() {}

    static int run(ParsedArgs a, PrintStream out, PrintStream err) {
        Path ckpt = a.path("checkpoint");
        if (ckpt == null) throw new UsageException("--checkpoint: required (a directory written by train --checkpoint-dir, or its file)");
        String dev = DeviceOption.check(a.string("device"));
        int batch = a.integer("batch-size", 1);
        Map<String, String> meta;
        try {
            meta = CheckpointIO.metadata(ckpt);
        } catch (FileNotFoundException e) {
            throw new CommandException(e.getMessage());
        } catch (IOException e) {
            throw new CommandException("cannot read checkpoint " + ckpt + ": " + e.getMessage(), e);
        }
        String name = meta.get("model");
        if (name == null || !Models.names().contains(name)) {
            throw new CommandException("checkpoint " + ckpt + " does not name a known model (metadata 'model' = " + name
                    + "); was it written by jtensor train?");
        }
        Device device = DeviceOption.resolve(dev);
        Path dataDir = FashionMnistSetup.locate(a.path("data-dir"), err);
        Module model = modelFrom(ckpt, name, device, "cannot read checkpoint");
        CrossEntropyLoss ce = new CrossEntropyLoss();
        try (TensorDataset testSet = FashionMnistData.load(dataDir, FashionMnist.Split.TEST, 0);
             DataLoader test = FashionMnistData.testLoader(testSet, batch, 1, device)) {
            Map<String, Double> r = Trainer.evaluate(model, test, ce::forward, device);
            String epochs = meta.getOrDefault("epoch", "?");
            out.println(String.format(java.util.Locale.ROOT, "test loss: %.4f", r.get(Logs.LOSS)));
            out.println(TrainCommand.accuracyLine(r.get(Logs.ACCURACY), name, "checkpoint after " + epochs
                    + ("1".equals(epochs) ? " epoch" : " epochs"), device));
            return 0;
        }
    }

    /**
     * A fresh {@code model} holding the model state of {@code checkpoint}, on {@code device}; a file that cannot be
     * read fails with {@code failure}, the path and the reason.
     */
    static Module modelFrom(Path checkpoint, String model, Device device, String failure) {
        Module m = Models.create(model);
        try {
            Map<String, NDArray> state = CheckpointIO.modelState(checkpoint);
            try {
                m.loadStateDict(state);
            } finally {
                state.values().forEach(NDArray::close);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(failure + " " + checkpoint + ": " + e.getMessage(), e);
        }
        m.to(device);
        return m;
    }
}
