package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.models.Models;
import io.jtensor.nn.train.Logs;
import io.jtensor.nn.train.Trainer;
import io.jtensor.nn.train.search.HParams;
import io.jtensor.nn.train.search.HyperSearch;
import io.jtensor.nn.train.search.SearchResults;
import io.jtensor.nn.train.search.SearchSpace;
import io.jtensor.nn.train.search.Trial;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code jtensor search}: hyper-parameter search over jtensor train runs. Each trial is a train run with
 * {@code --val-split} (its own output hidden), scored by its last epoch's validation accuracy; the ranked table is
 * printed, and only then is the winner (chosen on validation, never on the test set) scored on the test set, once.
 * Ranges: {@code log:LO..HI} (log-uniform), {@code LO..HI} (uniform) or {@code A,B,C} (a choice).
 */
final class SearchCommand {
    static final List<Flag> FLAGS = List.of(
            Flag.value("model", "NAME", "mlp", "model to train: " + String.join(", ", Models.names())),
            Flag.value("trials", "N", "8", "trials (per round, with --coarse-to-fine)"),
            Flag.value("lr", "RANGE", "log:1e-3..1e-1", "learning rates: log:LO..HI, LO..HI or A,B,C"),
            Flag.value("weight-decay", "RANGE", "0", "weight decays, same forms"),
            Flag.value("batch-size", "LIST", "64", "batch sizes, e.g. 32,64,128"),
            Flag.value("coarse-to-fine", "ROUNDS", null, "after each round of --trials, narrow the ranges around the best trial so far"),
            Flag.value("epochs", "N", "3", "epochs per trial"),
            Flag.value("val-split", "F", "0.1", "fraction of the training set each trial is scored on"),
            Flag.value("optimizer", "NAME", "sgd", "sgd, adam, adamw or rmsprop"),
            Flag.value("device", "DEV", "auto", "auto, cpu, cuda or cuda:N"),
            Flag.value("seed", "N", "42", "seed for the search and every trial"),
            Flag.value("limit", "N", null, "use only the first N training examples (for quick searches)"),
            Flag.value("data-dir", "DIR", null, "where the Fashion-MNIST files are (default " + FashionMnist.SYSTEM_DIR + ")"),
            Flag.value("workers", "N", "2", "background threads preparing batches"),
            Flag.toggle("help", "show this help"));

    private SearchCommand() {}

    /** One range flag as a search dimension. */
    static void addDim(SearchSpace.Builder b, String name, String spec) {
        String s = spec.trim();
        try {
            if (s.startsWith("log:") && s.contains("..")) {
                String[] lh = s.substring(4).split("\\.\\.", 2);
                b.logUniform(name, Double.parseDouble(lh[0]), Double.parseDouble(lh[1]));
            } else if (s.contains("..")) {
                String[] lh = s.split("\\.\\.", 2);
                b.uniform(name, Double.parseDouble(lh[0]), Double.parseDouble(lh[1]));
            } else {
                String[] parts = s.split(",");
                for (String p : parts) Double.parseDouble(p.trim());
                b.choice(name, Arrays.stream(parts).map(String::trim).toArray());
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + name + ": expected log:LO..HI, LO..HI or A,B,C with numbers, got '" + spec + "'"
                    + (e instanceof NumberFormatException ? "" : " (" + e.getMessage() + ")"));
        }
    }

    static int run(ParsedArgs a, PrintStream out, PrintStream err) {
        String model = a.choice("model", Models.names());
        int trials = a.integer("trials", 1), epochs = a.integer("epochs", 1);
        int rounds = a.has("coarse-to-fine") ? a.integer("coarse-to-fine", 1) : 0;
        double valSplit = a.number("val-split", 0, 1);
        long seed = a.longValue("seed");
        SearchSpace.Builder sb = SearchSpace.builder();
        addDim(sb, "lr", a.string("lr"));
        addDim(sb, "weight-decay", a.string("weight-decay"));
        addDim(sb, "batch-size", a.string("batch-size"));
        SearchSpace space = sb.build();
        Path root;
        try {
            root = Files.createTempDirectory("jtensor-search-");
        } catch (IOException e) {
            throw new UncheckedIOException("search: cannot create a directory for the trials: " + e.getMessage(), e);
        }
        try {
            List<String> common = new ArrayList<>(List.of("--model", model, "--epochs", Integer.toString(epochs), "--val-split",
                    Double.toString(valSplit), "--optimizer", a.string("optimizer"), "--device", a.string("device"), "--seed", Long.toString(seed),
                    "--workers", a.string("workers")));
            if (a.has("limit")) common.addAll(List.of("--limit", a.string("limit")));
            if (a.has("data-dir")) common.addAll(List.of("--data-dir", a.string("data-dir")));
            int[] counter = {0};
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            java.util.function.ToDoubleFunction<HParams> objective = p -> {
                Path dir = root.resolve("trial-" + counter[0]++);
                List<String> args = new ArrayList<>(common);
                args.addAll(List.of("--lr", p.getString("lr"), "--weight-decay", p.getString("weight-decay"), "--batch-size",
                        p.getString("batch-size").replaceAll("\\.0$", ""), "--checkpoint-dir", dir.toString(), "--log", dir.resolve("metrics.csv").toString()));
                int code = TrainCommand.run(ParsedArgs.parse("train", TrainCommand.FLAGS, args.toArray(String[]::new)), quiet, err);
                if (code != 0) throw new CommandException("trial " + p + " failed with exit code " + code);
                double score = lastValidationAccuracy(dir.resolve("metrics.csv"));
                out.println(String.format(Locale.ROOT, "trial %d: %s -> validation accuracy %.4f", counter[0] - 1, p, score));
                return score;
            };
            SearchResults results = rounds > 0
                    ? HyperSearch.coarseToFine(space, rounds, trials, 0.5, seed, objective, HyperSearch.Goal.MAXIMIZE)
                    : HyperSearch.random(space, trials, seed, objective, HyperSearch.Goal.MAXIMIZE);
            out.println();
            out.print(results.table());
            Trial best = results.best();
            double test = testAccuracy(root.resolve("trial-" + best.id()), model, a);
            out.println(String.format(Locale.ROOT, "best: trial %d %s, validation accuracy %.4f; test accuracy %.4f (%s, %d %s)", best.id(),
                    best.params(), best.score(), test, model, epochs, epochs == 1 ? "epoch" : "epochs"));
            return 0;
        } finally {
            try (var paths = Files.walk(root)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // a temporary directory left behind is harmless
            }
        }
    }

    /** The val_accuracy column of the metrics CSV's last line. */
    static double lastValidationAccuracy(Path csv) {
        try {
            List<String> lines = Files.readAllLines(csv);
            List<String> header = Arrays.asList(lines.get(0).split(","));
            int col = header.indexOf(Logs.VAL_ACCURACY);
            if (col < 0) throw new CommandException("search: " + csv + " has no " + Logs.VAL_ACCURACY + " column (columns " + header + ")");
            return Double.parseDouble(lines.get(lines.size() - 1).split(",")[col]);
        } catch (IOException e) {
            throw new UncheckedIOException("search: cannot read " + csv + ": " + e.getMessage(), e);
        }
    }

    /** The winner's checkpoint on the test set: the one time the search looks at it. */
    private static double testAccuracy(Path dir, String model, ParsedArgs a) {
        Device device = DeviceOption.resolve(DeviceOption.check(a.string("device")));
        Path dataDir = FashionMnistSetup.locate(a.path("data-dir"), System.err);
        Module m = EvalCommand.modelFrom(dir, model, device, "search: cannot read the winner's checkpoint");
        try (TensorDataset testSet = FashionMnistData.load(dataDir, FashionMnist.Split.TEST, 0);
             DataLoader test = FashionMnistData.testLoader(testSet, FashionMnistData.EVAL_BATCH, 1, device)) {
            return Trainer.evaluate(m, test, new CrossEntropyLoss()::forward, device).get(Logs.ACCURACY);
        }
    }
}
