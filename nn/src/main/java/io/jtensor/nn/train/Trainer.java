package io.jtensor.nn.train;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Module;
import io.jtensor.nn.amp.Amp;
import io.jtensor.nn.amp.GradScaler;
import io.jtensor.nn.data.Batch;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.optim.GradClip;
import io.jtensor.nn.optim.LrScheduler;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.Scheduler;
import io.jtensor.nn.parallel.DataParallelCriterion;
import io.jtensor.nn.parallel.DataParallelModel;
import io.jtensor.nn.parallel.ModuleWrapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A training loop in the spirit of Keras' {@code fit}: epochs of training batches (field 0 the input, field 1 the
 * target), an optional validation pass after each, running loss and accuracy, a learning-rate {@link Scheduler}
 * stepped once per epoch (or per batch), and {@link Callback}s that share one logs map.
 * <pre>{@code
 * Trainer t = Trainer.builder(model, optimizer, Tensor::crossEntropy)
 *         .trainData(trainLoader).validationData(testLoader).epochs(10)
 *         .callbacks(new ProgressBar(), new Checkpoint(dir)).build();
 * History h = t.fit();            // or t.resume(dir) to continue a checkpointed run
 * }</pre>
 *
 * <p>Each training step runs inside its own {@link MemoryScope}, so every array it makes (activations, the graph,
 * temporaries) is released at the end of the step: memory stays flat from the second step on. Accuracy is reported
 * when the model outputs class scores [N, C] and the targets are integer class indices [N].
 *
 * <p>Data parallelism: a {@link io.jtensor.nn.parallel.DataParallel} model trains as any module (its output is
 * gathered on its first device, where the loss runs); a {@link DataParallelModel} with a {@link DataParallelCriterion}
 * ({@link #builder(DataParallelModel, Optimizer, DataParallelCriterion)}) computes the loss on every device and
 * evaluates through the gathered output with the criterion's loss. Checkpoints hold the wrapped module's state.
 *
 * <p>A {@link DataLoader} is told the epoch number before each pass ({@link DataLoader#setEpoch}), so that the
 * order of an epoch depends only on the loader's seed and the epoch, which is what makes a resumed run the same run.
 */
public final class Trainer {
    /** The loss of a batch: the model's output and the target, both on the training device. */
    @FunctionalInterface
    public interface LossFunction {
        Tensor apply(Tensor output, Tensor target);
    }

    private final Module model;
    private final Optimizer optimizer;
    private final LossFunction loss;
    /** With a DataParallelModel: the loss of a training step, computed on every device; null otherwise. */
    private final DataParallelCriterion parallelCriterion;
    private final Iterable<Batch> trainData;
    private final Iterable<Batch> validationData;
    private final int epochs;
    private final Device device;
    private final Scheduler scheduler;
    private final boolean schedulePerBatch;
    private final double clipNorm;
    private final List<Callback> callbacks;
    private final Map<String, String> checkpointMetadata;
    private final ProcessGroup group;
    private final Amp amp;

    private int startEpoch;
    private int epoch;
    private boolean stopRequested;

    private Trainer(Builder b) {
        this.model = b.model;
        this.optimizer = b.optimizer;
        this.loss = b.loss;
        this.parallelCriterion = b.parallelCriterion;
        this.trainData = Objects.requireNonNull(b.trainData, "Trainer: trainData is required");
        this.validationData = b.validationData;
        this.epochs = b.epochs;
        this.device = b.device != null ? b.device : b.model.device();
        this.scheduler = b.scheduler;
        this.schedulePerBatch = b.schedulePerBatch;
        this.clipNorm = b.clipNorm;
        this.callbacks = List.copyOf(b.callbacks);
        this.checkpointMetadata = Map.copyOf(b.checkpointMetadata);
        this.group = b.group;
        this.amp = b.amp;
        if (amp != null && parallelCriterion != null) {
            throw new IllegalArgumentException("Trainer: mixed precision with a DataParallelCriterion is not supported; "
                    + "train a DataParallel (outputs gathered) under Amp instead");
        }
        // Every rank must skip the same steps: the scaler's found-inf flag is all-reduced over the job.
        if (amp != null && group != null) amp.scaler().processGroup(group);
    }

    public static Builder builder(Module model, Optimizer optimizer, LossFunction loss) { return new Builder(model, optimizer, loss); }

    /**
     * Training steps through {@link DataParallelModel#forwardAll} and the parallel criterion (no gather: each
     * device's output meets its chunk of the targets there); evaluation through the gathered output and the
     * criterion's loss.
     */
    public static Builder builder(DataParallelModel model, Optimizer optimizer, DataParallelCriterion criterion) {
        Objects.requireNonNull(criterion, "Trainer: criterion is required");
        Builder b = new Builder(model, optimizer, criterion.loss()::forward);
        b.parallelCriterion = criterion;
        return b;
    }

    // ------------------------------------------------------------------ what callbacks can see and do

    public Module model() { return model; }
    public Optimizer optimizer() { return optimizer; }
    public Scheduler scheduler() { return scheduler; }
    public Device device() { return device; }
    /** Total epochs of the run (a resumed run counts the epochs done before the restart). */
    public int epochs() { return epochs; }
    /** The epoch this call of fit/resume started at (0, or the checkpoint's epoch). */
    public int startEpoch() { return startEpoch; }
    /** The epoch running now (from 0). */
    public int epoch() { return epoch; }
    /** Batches per epoch, or -1 when the training data does not say. */
    public int stepsPerEpoch() { return sizeOf(trainData); }
    /** Metadata every checkpoint of this run carries (model name, recipe...), for tools that reload it. */
    public Map<String, String> checkpointMetadata() { return checkpointMetadata; }
    public Iterable<Batch> trainData() { return trainData; }
    /** The mixed-precision setup of the run, or null for plain fp32 training. */
    public Amp amp() { return amp; }

    /** Ends training after the current epoch (its end-of-epoch callbacks still run). */
    public void stopTraining() { stopRequested = true; }

    public boolean stopRequested() { return stopRequested; }

    // ------------------------------------------------------------------ fit

    /**
     * Trains from where the run stands (epoch 0, the epoch {@link #restore} loaded, or where the previous fit ended)
     * to {@link #epochs()}; returns the logs of the epochs run by this call.
     */
    public History fit() {
        History history = new History();
        Map<String, Double> logs = new LinkedHashMap<>();
        stopRequested = false;
        model.train();
        for (Callback c : callbacks) c.onTrainBegin(this, logs);
        try {
            for (epoch = startEpoch; epoch < epochs && !stopRequested; epoch++) {
                logs.clear();
                for (Callback c : callbacks) c.onEpochBegin(epoch, logs);
                double lr = optimizer.paramGroups().get(0).lr();
                long start = System.nanoTime();
                Metrics train = runTrainEpoch(logs).sumOver(group, device);
                double secs = (System.nanoTime() - start) / 1e9;
                logs.clear();
                logs.put(Logs.LOSS, train.meanLoss());
                if (train.hasAccuracy()) logs.put(Logs.ACCURACY, train.accuracy());
                if (validationData != null) {
                    Metrics val = runEvaluation(validationData).sumOver(group, device);
                    logs.put(Logs.VAL_LOSS, val.meanLoss());
                    if (val.hasAccuracy()) logs.put(Logs.VAL_ACCURACY, val.accuracy());
                }
                logs.put(Logs.LR, lr);
                logs.put(Logs.SAMPLES_PER_SEC, train.samples / Math.max(secs, 1e-9));
                logs.put(Logs.EPOCH_TIME, secs);
                if (scheduler != null && !schedulePerBatch) scheduler.epochEnd(logs);
                history.add(epoch, logs);
                for (Callback c : callbacks) c.onEpochEnd(epoch, logs);
            }
        } finally {
            for (Callback c : callbacks) c.onTrainEnd(logs);
        }
        startEpoch = epoch;
        return history;
    }

    /** Restores the run saved in {@code dir} by a {@link Checkpoint} callback and trains on to {@link #epochs()}. */
    public History resume(Path dir) throws IOException {
        restore(dir);
        return fit();
    }

    /** Loads model, optimizer, scheduler, random state and epoch from a checkpoint; the next fit() continues it. */
    public void restore(Path dirOrFile) throws IOException {
        startEpoch = CheckpointIO.restore(CheckpointIO.resolve(dirOrFile), this);
    }

    /** Writes a checkpoint of the run after {@code epochsDone} epochs into {@code dir}; returns the file. */
    public Path saveCheckpoint(Path dir, int epochsDone) throws IOException {
        return CheckpointIO.save(dir, this, epochsDone);
    }

    private Metrics runTrainEpoch(Map<String, Double> logs) {
        if (trainData instanceof DataLoader dl) dl.setEpoch(epoch);
        Metrics m = new Metrics();
        long start = System.nanoTime();
        Iterator<Batch> it = trainData.iterator();
        int batchIndex = 0;
        try {
            while (!stopRequested) {
                try (MemoryScope scope = MemoryScope.open()) {
                    if (!it.hasNext()) break;
                    Batch b = it.next();
                    try (b) {
                        trainStep(b, m);
                    }
                }
                if (schedulePerBatch) ((LrScheduler) scheduler).step();
                double secs = (System.nanoTime() - start) / 1e9;
                logs.put(Logs.LOSS, m.meanLoss());
                if (m.hasAccuracy()) logs.put(Logs.ACCURACY, m.accuracy());
                logs.put(Logs.SAMPLES, (double) m.samples);
                logs.put(Logs.SAMPLES_PER_SEC, m.samples / Math.max(secs, 1e-9));
                for (Callback c : callbacks) c.onBatchEnd(batchIndex, logs);
                batchIndex++;
            }
        } finally {
            if (it instanceof AutoCloseable ac) closeQuietly(ac);
        }
        if (m.samples == 0) throw new IllegalStateException("Trainer.fit: the training data gave no batches in epoch " + epoch);
        return m;
    }

    private void trainStep(Batch b, Metrics m) {
        NDArray x = b.get(0), y = b.get(1);
        Tensor input = Tensor.wrap(x.to(device));
        Tensor target = Tensor.wrap(y.to(device));
        if (parallelCriterion != null) {
            List<Tensor> outs = ((DataParallelModel) model).forwardAll(input);
            Tensor l = parallelCriterion.forward(outs, target);
            backwardAndStep(l);
            m.addChunks(l.item(), outs, target.data());
            return;
        }
        if (amp != null) {
            ampStep(input, target, m);
            return;
        }
        Tensor out = model.forward(input);
        Tensor l = loss.apply(out, target);
        backwardAndStep(l);
        m.add(l.item(), out.data(), target.data());
    }

    /** The fp32 step after the forward: fresh gradients of {@code l}, clipped when asked, then the optimizer. */
    private void backwardAndStep(Tensor l) {
        optimizer.zeroGrad();
        l.backward();
        if (clipNorm > 0) GradClip.clipGradNorm(optimizer.params(), clipNorm);
        optimizer.step();
    }

    /** The same step with mixed precision: the forward in the level's scope, the loss scaled, the step by the scaler. */
    private void ampStep(Tensor input, Tensor target, Metrics m) {
        Tensor out, l;
        try (AutoCloseable scope = amp.forwardScope()) {
            out = amp.castOutput(model.forward(amp.castInput(input)));
            l = loss.apply(out, target);
        } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
        GradScaler scaler = amp.scaler();
        optimizer.zeroGrad();
        scaler.scale(l).backward();
        if (clipNorm > 0) {
            scaler.unscale(optimizer);
            GradClip.clipGradNorm(optimizer.params(), clipNorm);
        }
        scaler.step(optimizer);
        scaler.update();
        m.add(l.item(), out.data(), target.data());
    }

    /** Loss and accuracy over a dataset, in eval mode and without gradients; the model's mode is restored. */
    public Map<String, Double> evaluate(Iterable<Batch> data) { return evaluate(model, data, loss, device); }

    /**
     * Loss and accuracy (when the model outputs class scores) of {@code model} over batches of (input, target),
     * moved to {@code device}, in eval mode and without gradients; the model's mode is restored.
     */
    public static Map<String, Double> evaluate(Module model, Iterable<Batch> data, LossFunction loss, Device device) {
        Metrics m = runEvaluation(model, data, loss, device);
        Map<String, Double> r = new LinkedHashMap<>();
        r.put(Logs.LOSS, m.meanLoss());
        if (m.hasAccuracy()) r.put(Logs.ACCURACY, m.accuracy());
        r.put(Logs.SAMPLES, (double) m.samples);
        return r;
    }

    /**
     * {@link #evaluate(Module, Iterable, LossFunction, Device)} over every rank's share of a dataset: the sums are
     * added over {@code group}, so every rank gets the figures of the whole dataset (each rank's share must be
     * disjoint, and together complete, e.g. a {@link io.jtensor.nn.data.ShardSampler}); null: this process alone.
     */
    public static Map<String, Double> evaluate(Module model, Iterable<Batch> data, LossFunction loss, Device device, ProcessGroup group) {
        Metrics m = runEvaluation(model, data, loss, device).sumOver(group, device);
        Map<String, Double> r = new LinkedHashMap<>();
        r.put(Logs.LOSS, m.meanLoss());
        if (m.hasAccuracy()) r.put(Logs.ACCURACY, m.accuracy());
        r.put(Logs.SAMPLES, (double) m.samples);
        return r;
    }

    private Metrics runEvaluation(Iterable<Batch> data) { return runEvaluation(model, data, loss, device); }

    private static Metrics runEvaluation(Module model, Iterable<Batch> data, LossFunction loss, Device device) {
        boolean wasTraining = model.isTraining();
        model.eval();
        Metrics m = new Metrics();
        Iterator<Batch> it = data.iterator();
        try (var g = GradMode.noGrad()) {
            while (true) {
                try (MemoryScope scope = MemoryScope.open()) {
                    if (!it.hasNext()) break;
                    try (Batch b = it.next()) {
                        Tensor input = Tensor.wrap(b.get(0).to(device));
                        Tensor target = Tensor.wrap(b.get(1).to(device));
                        Tensor out = model.forward(inModelType(model, input));
                        if (out.dtype() == DType.F16 || out.dtype() == DType.BF16) out = out.to(DType.F32);
                        Tensor l = loss.apply(out, target);
                        m.add(l.item(), out.data(), target.data());
                    }
                }
            }
        } finally {
            if (it instanceof AutoCloseable ac) closeQuietly(ac);
            model.train(wasTraining);
        }
        if (m.samples == 0) throw new IllegalArgumentException("Trainer.evaluate: the data gave no batches");
        return m;
    }

    /** A floating input in the dtype of a half model (one trained at AMP O2 or O3); other inputs as they are. */
    private static Tensor inModelType(Module model, Tensor x) {
        DType t = model.dtype();
        boolean halfModel = t == DType.F16 || t == DType.BF16;
        return halfModel && x.dtype().isFloating() && x.dtype() != t ? x.to(t) : x;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // Closing an iterator only releases prefetched batches; nothing to report.
        }
    }

    static int sizeOf(Iterable<?> data) {
        if (data instanceof DataLoader dl) return (int) dl.size();
        if (data instanceof Collection<?> c) return c.size();
        return -1;
    }

    /** Sums over an epoch: loss weighted by batch size, and correct predictions when they apply. */
    static final class Metrics {
        double lossSum;
        long samples;
        long correct;
        long counted;

        void add(double batchLoss, NDArray out, NDArray target) {
            long n = out.dim() == 0 ? 1 : out.size(0);
            lossSum += batchLoss * n;
            samples += n;
            if (out.dim() == 2 && target.dim() == 1 && !target.dtype().isFloating() && target.size(0) == n) {
                correct += countCorrect(out, target);
                counted += n;
            }
        }

        /** The same for a batch whose outputs stayed on their devices, chunk i matching the next rows of target. */
        void addChunks(double batchLoss, List<Tensor> outs, NDArray target) {
            long n = target.dim() == 0 ? 1 : target.size(0);
            lossSum += batchLoss * n;
            samples += n;
            long at = 0;
            for (Tensor o : outs) {
                long rows = o.size(0);
                if (o.dim() == 2 && target.dim() == 1 && !target.dtype().isFloating()) {
                    try (NDArray part = target.narrow(0, at, rows); NDArray t = part.to(o.device())) {
                        correct += countCorrect(o.data(), t);
                    }
                    counted += rows;
                }
                at += rows;
            }
        }

        /**
         * The sums of every rank of {@code group} (null: unchanged), so that the epoch's logs, and the decisions
         * callbacks take from them (early stopping, plateau schedules), are the whole job's and equal on every rank.
         */
        Metrics sumOver(ProcessGroup group, Device device) {
            if (group == null || group.size() == 1) return this;
            try (NDArray host = NDArray.of(new double[] {lossSum, samples, correct, counted}, 4); NDArray sums = host.to(device)) {
                group.allReduce(sums, ProcessGroup.ReduceOp.SUM);
                double[] v = sums.toDoubleArray();
                lossSum = v[0];
                samples = (long) v[1];
                correct = (long) v[2];
                counted = (long) v[3];
            }
            return this;
        }

        boolean hasAccuracy() { return counted > 0; }
        double accuracy() { return counted == 0 ? Double.NaN : correct / (double) counted; }
        double meanLoss() { return samples == 0 ? Double.NaN : lossSum / samples; }
    }

    /** How many rows' highest score is at the target class. */
    static long countCorrect(NDArray scores, NDArray target) {
        try (NDArray pred = scores.argmax(1, false); NDArray t = target.to(DType.I64); NDArray hit = pred.eq(t);
             NDArray count = hit.sum()) {
            return (long) count.item();
        }
    }

    // ------------------------------------------------------------------ builder

    public static final class Builder {
        private final Module model;
        private final Optimizer optimizer;
        private final LossFunction loss;
        private DataParallelCriterion parallelCriterion;
        private Iterable<Batch> trainData;
        private Iterable<Batch> validationData;
        private int epochs = 1;
        private Device device;
        private Scheduler scheduler;
        private boolean schedulePerBatch;
        private double clipNorm;
        private final List<Callback> callbacks = new ArrayList<>();
        private final Map<String, String> checkpointMetadata = new LinkedHashMap<>();
        private ProcessGroup group;
        private Amp amp;

        private Builder(Module model, Optimizer optimizer, LossFunction loss) {
            this.model = Objects.requireNonNull(model, "Trainer: model is required");
            this.optimizer = Objects.requireNonNull(optimizer, "Trainer: optimizer is required");
            this.loss = Objects.requireNonNull(loss, "Trainer: loss is required");
        }

        public Builder trainData(Iterable<Batch> data) {
            this.trainData = data;
            return this;
        }

        public Builder validationData(Iterable<Batch> data) {
            this.validationData = data;
            return this;
        }

        public Builder epochs(int epochs) {
            if (epochs < 1) throw new IllegalArgumentException("Trainer: expected epochs >= 1, got " + epochs);
            this.epochs = epochs;
            return this;
        }

        /** Where batches are moved before the forward pass; defaults to the model's device. */
        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        /** A schedule stepped once per epoch, after validation (ReduceLROnPlateau reads the epoch's logs). */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = scheduler;
            this.schedulePerBatch = false;
            return this;
        }

        /** A closed-form schedule stepped after every batch instead (warm-up and cosine over steps, not epochs). */
        public Builder schedulerPerBatch(LrScheduler scheduler) {
            this.scheduler = scheduler;
            this.schedulePerBatch = scheduler != null;
            return this;
        }

        /** Clips the gradients' joint 2-norm to maxNorm before each step (0: off). */
        public Builder clipGradNorm(double maxNorm) {
            if (!(maxNorm >= 0)) throw new IllegalArgumentException("Trainer: expected clipGradNorm >= 0, got " + maxNorm);
            this.clipNorm = maxNorm;
            return this;
        }

        public Builder callbacks(Callback... cs) {
            callbacks.addAll(List.of(cs));
            return this;
        }

        public Builder callback(Callback c) {
            callbacks.add(Objects.requireNonNull(c));
            return this;
        }

        public Builder checkpointMetadata(String key, String value) {
            checkpointMetadata.put(key, value);
            return this;
        }

        /**
         * Distributed training: the model is a DistributedDataParallel over {@code group}, each rank reads its own
         * share (a DistributedSampler), and the epoch's loss and accuracy are summed over the ranks.
         */
        public Builder processGroup(ProcessGroup group) {
            this.group = group;
            return this;
        }

        /**
         * Mixed precision: an {@link Amp#initialize} of this builder's model and optimizer (null: fp32). Checkpoints then
         * hold the fp32 masters (O2) and the loss scaler's state.
         */
        public Builder amp(Amp amp) {
            if (amp != null && ((amp.model() != model && amp.model() != ModuleWrapper.unwrap(model)) || amp.optimizer() != optimizer)) {
                throw new IllegalArgumentException("Trainer: expected an Amp initialized for this trainer's model (or the module it wraps) and optimizer");
            }
            this.amp = amp;
            return this;
        }

        public Trainer build() { return new Trainer(this); }
    }
}
