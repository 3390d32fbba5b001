package io.jtensor.cli;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import io.jtensor.nn.amp.Amp;
import io.jtensor.nn.amp.OptLevel;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.DistributedSampler;
import io.jtensor.nn.data.ShardSampler;
import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.models.Models;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.AdamW;
import io.jtensor.nn.optim.CosineAnnealingLR;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.RMSprop;
import io.jtensor.nn.optim.SGD;
import io.jtensor.nn.optim.Scheduler;
import io.jtensor.nn.optim.StepLR;
import io.jtensor.nn.parallel.DataParallel;
import io.jtensor.nn.parallel.DataParallelCriterion;
import io.jtensor.nn.parallel.DataParallelModel;
import io.jtensor.nn.parallel.DistributedDataParallel;
import io.jtensor.nn.train.Checkpoint;
import io.jtensor.nn.train.EarlyStopping;
import io.jtensor.nn.train.CheckpointIO;
import io.jtensor.nn.train.Logs;
import io.jtensor.nn.train.MetricsLog;
import io.jtensor.nn.train.ProgressBar;
import io.jtensor.nn.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code jtensor train}: trains a model from the registry on Fashion-MNIST with a progress bar, optionally
 * checkpointing and logging each epoch, then evaluates it on the test set and ends with one line
 * {@code test accuracy: 0.9123 (lenet5, 10 epochs, cpu)}.
 */
final class TrainCommand {
    static final List<String> OPTIMIZERS = List.of("sgd", "adam", "adamw", "rmsprop");
    static final List<String> SCHEDULES = List.of("cosine", "step", "none");
    /**
     * With momentum 0.9, batch 64 and the cosine schedule this reaches 0.916 (lenet5-bn) and 0.896 (mlp) test
     * accuracy in 10 epochs on Fashion-MNIST (seed 42, CPU).
     */
    static final double DEFAULT_SGD_LR = 0.05;

    static final List<Flag> FLAGS = List.of(
            Flag.value("model", "NAME", "lenet5", "model to train: " + String.join(", ", Models.names())),
            Flag.value("data", "NAME", "fashion-mnist", "dataset; fashion-mnist is the one there is"),
            Flag.value("epochs", "N", "10", "passes over the training set"),
            Flag.value("device", "DEV", "auto", "auto (cuda:0 when CUDA works, else cpu), cpu, cuda or cuda:N"),
            Flag.value("batch-size", "N", "64", "training batch size"),
            Flag.value("lr", "X", null, "learning rate (default: 0.05 for sgd, 0.001 for adam, adamw and rmsprop)"),
            Flag.value("optimizer", "NAME", "sgd", "sgd, adam, adamw or rmsprop"),
            Flag.value("momentum", "X", null, "momentum for sgd and rmsprop (default: 0.9 for sgd, 0 for rmsprop)"),
            Flag.value("weight-decay", "X", null, "weight decay (default 0; 0.01 for adamw)"),
            Flag.value("schedule", "NAME", "cosine", "learning-rate schedule over the epochs: cosine, step (x0.1 every third) or none"),
            Flag.toggle("augment", "random 2-pixel shifts and horizontal flips of the training images"),
            Flag.value("seed", "N", "42", "seed for initialisation, shuffling, dropout and augmentation"),
            Flag.value("checkpoint-dir", "DIR", null, "save a checkpoint there after every epoch"),
            Flag.toggle("resume", "continue the run saved in --checkpoint-dir"),
            Flag.value("data-dir", "DIR", null, "where the Fashion-MNIST files are (default " + FashionMnist.SYSTEM_DIR + ")"),
            Flag.value("limit", "N", null, "use only the first N training examples (for quick runs)"),
            Flag.value("log", "FILE", null, "write per-epoch metrics to FILE (CSV, or JSON lines for .jsonl)"),
            Flag.value("workers", "N", "2", "background threads preparing batches"),
            Flag.value("devices", "LIST", null, "data-parallel training on several devices: cpu:0,cpu:1 (logical CPU devices, any machine), "
                    + "cuda:0,cuda:1 or cuda:all; replaces --device"),
            Flag.toggle("parallel-criterion", "with --devices: compute the loss on every device (DataParallelModel + DataParallelCriterion) "
                    + "instead of gathering the outputs on the first"),
            Flag.value("distributed", "BACKEND", null, "nccl or mpi: this process is one rank of a job started by jtensor launch or mpirun; "
                    + "DistributedDataParallel, each rank on its share of every epoch, --batch-size per process"),
            Flag.value("amp", "LEVEL", null, "mixed precision, Apex's levels: O0 (fp32), O1 (autocast), O2 (half model, fp32 masters), O3 (pure half)"),
            Flag.value("amp-dtype", "TYPE", "f16", "half type for --amp: f16 or bf16"),
            Flag.value("val-split", "F", null, "hold out this fraction of the training set (seeded) and score it after each epoch"),
            Flag.value("early-stop", "PATIENCE", null, "stop after PATIENCE epochs without a better validation loss, keeping the best weights (needs --val-split)"),
            Flag.value("ensemble", "N", null, "train N members (seeds seed..seed+N-1) and report each one's and their averaged prediction's test accuracy"),
            Flag.toggle("help", "show this help"));

    /** Joins the job for --distributed; tests replace it. */
    static Function<String, ProcessGroup> processGroups = ProcessGroup::init;

    private TrainCommand() {}

    /** The options after checking; everything that can be wrong with the command line is found here. */
    record Options(String model, int epochs, String device, int batchSize, double lr, String optimizer, double momentum,
                   double weightDecay, String schedule, boolean augment, long seed, Path checkpointDir, boolean resume,
                   Path dataDir, long limit, Path log, int workers, OptLevel amp, DType ampDtype) {}

    static Options parse(ParsedArgs a) {
        String model = a.choice("model", Models.names());
        a.choice("data", List.of("fashion-mnist"));
        int epochs = a.integer("epochs", 1);
        String device = DeviceOption.check(a.string("device"));
        int batch = a.integer("batch-size", 1);
        String opt = a.choice("optimizer", OPTIMIZERS);
        double lr = a.has("lr") ? a.number("lr", Double.MIN_VALUE, 10) : opt.equals("sgd") ? DEFAULT_SGD_LR : 0.001;
        double momentum = a.has("momentum") ? a.number("momentum", 0, 0.999999) : opt.equals("sgd") ? 0.9 : 0;
        double wd = a.has("weight-decay") ? a.number("weight-decay", 0, 1) : opt.equals("adamw") ? 0.01 : 0;
        String schedule = a.choice("schedule", SCHEDULES);
        long seed = a.longValue("seed");
        Path ckpt = a.path("checkpoint-dir");
        boolean resume = a.toggle("resume");
        if (resume && ckpt == null) throw new UsageException("--resume: needs --checkpoint-dir DIR to resume from");
        long limit = a.has("limit") ? a.integer("limit", 1) : 0;
        int workers = a.integer("workers", 0);
        OptLevel amp = null;
        if (a.has("amp")) {
            try {
                amp = OptLevel.parse(a.string("amp"));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--amp: expected O0, O1, O2 or O3, got '" + a.string("amp") + "'");
            }
        }
        DType ampDtype = a.choice("amp-dtype", List.of("f16", "bf16")).equals("bf16") ? DType.BF16 : DType.F16;
        return new Options(model, epochs, device, batch, lr, opt, momentum, wd, schedule, a.toggle("augment"), seed, ckpt, resume,
                a.path("data-dir"), limit, a.path("log"), workers, amp, ampDtype);
    }

    /** The data-parallel flags, checked (null devices: one device, as --device says). */
    static DevicesOption.Parallel parseParallel(ParsedArgs a) {
        boolean pc = a.toggle("parallel-criterion");
        if (!a.has("devices")) {
            if (pc) throw new UsageException("--parallel-criterion: needs --devices LIST to run the loss on");
            return null;
        }
        if (a.has("device")) throw new UsageException("--devices: replaces --device; give one of them");
        if (a.has("distributed")) {
            throw new UsageException("--devices: one process per device is --distributed's way; give --devices or --distributed, not both");
        }
        List<String> checked = DevicesOption.check(a.string("devices"));
        return new DevicesOption.Parallel(DevicesOption.resolve(checked), pc);
    }

    static int run(ParsedArgs args, PrintStream out, PrintStream err) {
        if (args.has("ensemble")) return EnsembleRun.run(args, out, err);
        Options o = parse(args);
        ValidationSplit.Options v = ValidationSplit.Options.parse(args);
        DevicesOption.Parallel parallel = parseParallel(args);
        String backend = args.choice("distributed", List.of("nccl", "mpi"));
        if (o.amp() != null && parallel != null && parallel.parallelCriterion()) {
            throw new UsageException("--amp: not available with --parallel-criterion; use --amp with --devices alone (DataParallel)");
        }
        if (backend == null) return run(o, v, null, parallel, out, err);
        if (backend.equals("mpi") && !(o.device().equals("auto") || o.device().equals("cpu"))) {
            throw new UsageException("--distributed mpi: the MPI backend trains on the CPU, but --device is " + o.device());
        }
        try (ProcessGroup group = processGroups.apply(backend)) {
            // Only rank 0 talks: one progress bar, one set of lines, for the whole job.
            PrintStream shown = group.rank() == 0 ? out : new PrintStream(OutputStream.nullOutputStream());
            return run(o, v, group, null, shown, err);
        }
    }

    /** Trains alone (group null), as one rank of {@code group}, or data-parallel in this process ({@code parallel}). */
    private static int run(Options o, ValidationSplit.Options v, ProcessGroup group, DevicesOption.Parallel parallel, PrintStream out,
                           PrintStream err) {
        boolean rankZero = group == null || group.rank() == 0;
        Device device = parallel != null ? parallel.devices().get(0)
                : group == null ? DeviceOption.resolve(o.device())
                : group.backend().equals("nccl") ? DeviceOption.resolve("cuda:" + group.localRank()) : Device.cpu();
        Path dataDir = FashionMnistSetup.locate(o.dataDir(), err);
        Generator.manualSeed(o.seed());
        Module model = Models.create(o.model()).to(device);
        // Rank 0's initial parameters reach every rank here, before Amp.initialize makes O2's fp32 masters of them.
        if (group != null) DistributedDataParallel.broadcastModuleStates(model, group);
        // Under --distributed the optimizer takes the bare model's parameters (the same tensors DDP's would be); DDP
        // wraps after Amp.initialize, below.
        Module trained = group != null ? model : wrap(model, parallel);
        CrossEntropyLoss ce = new CrossEntropyLoss();
        try (ValidationSplit split = ValidationSplit.of(FashionMnistData.load(dataDir, FashionMnist.Split.TRAIN, o.limit()), v, o.seed());
             TensorDataset trainSet = split.train();
             TensorDataset testSet = FashionMnistData.load(dataDir, FashionMnist.Split.TEST, 0);
             // One global order per epoch (seed, epoch), split between the ranks; transforms seeded per rank.
             DataLoader train = FashionMnistData.trainLoader(trainSet, o.batchSize(), o.augment(), o.seed() + (group == null ? 0 : group.rank()),
                     o.workers(), device, group == null ? null : new DistributedSampler(trainSet.size(), group.rank(), group.size(), true, o.seed(), false));
             DataLoader test = FashionMnistData.testLoader(testSet, FashionMnistData.EVAL_BATCH, Math.min(o.workers(), 1), device,
                     group == null ? null : new ShardSampler(testSet.size(), group.rank(), group.size()));
             Optimizer opt = optimizer(o, trained)) {
            Scheduler sched = switch (o.schedule()) {
                case "cosine" -> o.epochs() > 1 ? new CosineAnnealingLR(opt, o.epochs(), 0) : null;
                case "step" -> new StepLR(opt, 3, 0.1);
                default -> null;
            };
            Amp amp = o.amp() == null ? null : Amp.initialize(model, opt, o.amp(), o.ampDtype());
            // Apex's order: Amp first, then DDP, so that DDP's buckets hold the final (half for O2/O3) gradient dtypes.
            if (group != null) trained = new DistributedDataParallel(model, group);
            Trainer.Builder b = builder(trained, opt, ce, parallel).trainData(train).epochs(o.epochs()).device(device)
                    .scheduler(sched).processGroup(group)
                    .checkpointMetadata("model", o.model()).checkpointMetadata("data", "fashion-mnist")
                    .checkpointMetadata("normalize.mean", String.valueOf(FashionMnistData.MEAN))
                    .checkpointMetadata("normalize.std", String.valueOf(FashionMnistData.STD))
                    .checkpointMetadata("recipe", recipe(o, trainSet.size()));
            if (amp != null) b.amp(amp);
            if (split.validation() != null) b.validationData(split.validationLoader(Math.min(o.workers(), 1), device));
            EarlyStopping earlyStop = ValidationSplit.earlyStopping(v);
            if (earlyStop != null) b.callback(earlyStop);
            if (rankZero) {
                b.callback(new ProgressBar(out, out == System.out && ProgressBar.stdoutIsTerminal(), 10));
                if (o.log() != null) b.callback(MetricsLog.forFile(o.log()));
                // Every rank holds the same model; one writer, and Checkpoint writes atomically.
                if (o.checkpointDir() != null) b.callback(new Checkpoint(o.checkpointDir()));
            }
            Trainer trainer = b.build();

            String ranks = group == null ? "" : ", " + group.size() + " processes (" + group.backend() + "), batch " + o.batchSize() + " per process";
            String where = parallel == null ? deviceName(device) : parallel.names();
            String how = parallel == null ? "" : parallel.parallelCriterion() ? " (DataParallelModel + DataParallelCriterion)" : " (DataParallel)";
            out.println("train: " + recipe(o, trainSet.size()) + ", " + model.parameterCount() + " parameters, on " + where + how + ranks);
            long start = System.nanoTime();
            if (o.resume()) {
                checkSameModel(o);
                trainer.restore(o.checkpointDir());
                out.println("train: resuming from " + o.checkpointDir() + " after epoch " + trainer.startEpoch());
            }
            trainer.fit();
            double secs = (System.nanoTime() - start) / 1e9;
            out.println(String.format(Locale.ROOT, "train: done in %s", ProgressBar.formatDuration(secs)));
            if (earlyStop != null) out.println(earlyStopLine(earlyStop));
            // Each rank evaluates its share of the test set; the sums make the whole set's accuracy.
            Map<String, Double> r = Trainer.evaluate(model, test, ce::forward, device, group);
            out.println(accuracyLine(r.get(Logs.ACCURACY), o.model(), o.epochs() + (o.epochs() == 1 ? " epoch" : " epochs"), where));
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** The module, or its data-parallel wrapper on the listed devices (its first device holds the module). */
    private static Module wrap(Module model, DevicesOption.Parallel parallel) {
        if (parallel == null) return model;
        return parallel.parallelCriterion() ? new DataParallelModel(model, parallel.devices()) : new DataParallel(model, parallel.devices());
    }

    private static Trainer.Builder builder(Module model, Optimizer opt, CrossEntropyLoss ce, DevicesOption.Parallel parallel) {
        if (parallel != null && parallel.parallelCriterion()) {
            return Trainer.builder((DataParallelModel) model, opt, new DataParallelCriterion(ce, parallel.devices()));
        }
        return Trainer.builder(model, opt, ce::forward);
    }

    private static void checkSameModel(Options o) throws IOException {
        Map<String, String> meta = CheckpointIO.metadata(o.checkpointDir());
        String saved = meta.get("model");
        if (saved != null && !saved.equals(o.model())) {
            throw new CommandException("--resume: the checkpoint in " + o.checkpointDir() + " is of model " + saved + ", not " + o.model()
                    + "; pass --model " + saved);
        }
    }

    static Optimizer optimizer(Options o, Module model) {
        return switch (o.optimizer()) {
            case "sgd" -> new SGD(model.parameters(), o.lr(), o.momentum(), 0, o.weightDecay(), false);
            case "adam" -> new Adam(model.parameters(), o.lr(), 0.9, 0.999, 1e-8, o.weightDecay(), false);
            case "adamw" -> new AdamW(model.parameters(), o.lr(), 0.9, 0.999, 1e-8, o.weightDecay(), false);
            case "rmsprop" -> new RMSprop(model.parameters(), o.lr(), 0.99, 1e-8, o.weightDecay(), o.momentum(), false);
            default -> throw new UsageException("--optimizer: unknown '" + o.optimizer() + "'");
        };
    }

    /** The recipe in one line, so that a run can be repeated (or mirrored in another framework). */
    static String recipe(Options o, long trainSize) {
        StringBuilder sb = new StringBuilder();
        sb.append(o.model()).append(" on fashion-mnist (").append(trainSize).append(" training images), ")
                .append(o.epochs()).append(o.epochs() == 1 ? " epoch" : " epochs").append(", batch ").append(o.batchSize())
                .append(", ").append(o.optimizer()).append(" lr ").append(o.lr());
        if (o.optimizer().equals("sgd") || o.optimizer().equals("rmsprop")) sb.append(" momentum ").append(o.momentum());
        sb.append(" weight decay ").append(o.weightDecay()).append(", ").append(o.schedule()).append(" schedule");
        if (o.augment()) sb.append(", augmented");
        if (o.amp() != null) sb.append(", amp ").append(o.amp()).append(' ').append(o.ampDtype());
        return sb.append(", seed ").append(o.seed()).toString();
    }

    /** What --early-stop did, in one line (epochs counted from 1). */
    static String earlyStopLine(EarlyStopping es) {
        String when = es.stoppedEpoch() >= 0 ? "stopped after epoch " + (es.stoppedEpoch() + 1) : "ran every epoch";
        return String.format(Locale.ROOT, "early stop: %s; best validation loss %.4f at epoch %d, whose weights are kept", when, es.best(),
                es.bestEpoch() + 1);
    }

    /** "cpu" for the CPU, "cuda:N" for a GPU. */
    static String deviceName(Device d) { return d.isCpu() ? "cpu" : d.toString(); }

    static String accuracyLine(double accuracy, String model, String what, Device device) {
        return accuracyLine(accuracy, model, what, deviceName(device));
    }

    /** The same, naming where it ran in words ("cpu", "cpu:0,cpu:1"). */
    static String accuracyLine(double accuracy, String model, String what, String where) {
        return String.format(Locale.ROOT, "test accuracy: %.4f (%s, %s, %s)", accuracy, model, what, where);
    }
}
