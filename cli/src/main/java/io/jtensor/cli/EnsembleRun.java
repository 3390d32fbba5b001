package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.train.Ensemble;
import io.jtensor.nn.train.Logs;
import io.jtensor.nn.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code jtensor train --ensemble N}: N ordinary train runs with seeds seed, seed+1, ... (each with its own output and
 * checkpoint), then the members rebuilt from their checkpoints and scored on the test set alone and together
 * ({@link Ensemble}: the mean of their softmax probabilities). Checkpoints go to {@code --checkpoint-dir}/member-K, or
 * to a temporary directory that is deleted afterwards.
 */
final class EnsembleRun {
    private EnsembleRun() {}

    static int run(ParsedArgs a, PrintStream out, PrintStream err) {
        int n = a.integer("ensemble", 2);
        if (a.toggle("resume")) throw new UsageException("--ensemble: cannot be combined with --resume");
        TrainCommand.Options o = TrainCommand.parse(a);
        Path root;
        boolean temporary = o.checkpointDir() == null;
        try {
            root = temporary ? Files.createTempDirectory("jtensor-ensemble-") : o.checkpointDir();
        } catch (IOException e) {
            throw new UncheckedIOException("--ensemble: cannot create a directory for the members' checkpoints: " + e.getMessage(), e);
        }
        try {
            List<Path> checkpoints = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                long seed = o.seed() + k;
                Path dir = root.resolve("member-" + (k + 1));
                out.println("ensemble: member " + (k + 1) + " of " + n + ", seed " + seed);
                int code = TrainCommand.run(ParsedArgs.parse("train", TrainCommand.FLAGS, memberArgs(a, seed, dir)), out, err);
                if (code != 0) return code;
                checkpoints.add(dir);
            }
            return score(o, checkpoints, out, err);
        } finally {
            if (temporary) deleteTree(root);
        }
    }

    /** This run's flags for one member: without --ensemble, with its own --seed and --checkpoint-dir. */
    static String[] memberArgs(ParsedArgs a, long seed, Path dir) {
        List<String> args = new ArrayList<>();
        for (var e : a.given().entrySet()) {
            String name = e.getKey();
            if (name.equals("ensemble") || name.equals("seed") || name.equals("checkpoint-dir")) continue;
            Flag f = TrainCommand.FLAGS.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            args.add("--" + name);
            if (!f.isSwitch()) args.add(e.getValue());
        }
        args.addAll(List.of("--seed", Long.toString(seed), "--checkpoint-dir", dir.toString()));
        return args.toArray(String[]::new);
    }

    private static int score(TrainCommand.Options o, List<Path> checkpoints, PrintStream out, PrintStream err) {
        Device device = DeviceOption.resolve(o.device());
        Path dataDir = FashionMnistSetup.locate(o.dataDir(), err);
        List<Module> members = new ArrayList<>();
        for (Path c : checkpoints) members.add(load(c, o.model(), device));
        CrossEntropyLoss ce = new CrossEntropyLoss();
        try (TensorDataset testSet = FashionMnistData.load(dataDir, FashionMnist.Split.TEST, 0);
             DataLoader test = FashionMnistData.testLoader(testSet, FashionMnistData.EVAL_BATCH, Math.min(o.workers(), 1), device)) {
            for (int k = 0; k < members.size(); k++) {
                double acc = Trainer.evaluate(members.get(k), test, ce::forward, device).get(Logs.ACCURACY);
                out.println(String.format(Locale.ROOT, "member %d (seed %d): test accuracy %.4f", k + 1, o.seed() + k, acc));
            }
            double acc = new Ensemble(members).accuracy(test);
            out.println(String.format(Locale.ROOT, "ensemble of %d: test accuracy %.4f (%s, mean of the members' probabilities, %s)",
                    members.size(), acc, o.model(), TrainCommand.deviceName(device)));
            return 0;
        }
    }

    private static Module load(Path checkpoint, String model, Device device) {
        Module m = EvalCommand.modelFrom(checkpoint, model, device, "cannot read the member checkpoint");
        m.eval();
        return m;
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
