package io.jtensor.nn.parallel;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.Module;
import io.jtensor.nn.StateDictException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Data parallelism over processes, PyTorch's {@code DistributedDataParallel}: each rank of {@code group} holds a
 * replica of {@code module} and trains it on its own share of every batch; gradients are averaged over the ranks
 * while backward is still running, so that after {@code loss.backward()} every rank holds the same (mean)
 * gradients and the same optimizer step keeps the replicas identical. Nothing else for the user to call:
 * <pre>{@code
 * var group = ProcessGroup.init("mpi");
 * var ddp = new DistributedDataParallel(model, group);
 * var opt = new SGD(ddp.parameters(), 0.1);
 * ddp.forward(x).crossEntropy(y).backward();   // gradients are now averaged over the ranks
 * opt.step();
 * }</pre>
 *
 * <p>At construction every rank checks that all ranks wrap the same parameter names, shapes and dtypes (the error
 * names the first difference and the ranks) and receives rank 0's parameters and buffers, so the replicas start
 * equal. The averaging is done by the {@link Reducer} (buckets, hooks, launch order: see there).
 *
 * <p>Options (Java has no keyword arguments, so a {@link #builder}): {@code bucketCapMb} (25),
 * {@code findUnusedParameters} (off), {@code broadcastBuffers} (on: rank 0's buffers, such as batch-norm running
 * statistics, are copied to every rank at the start of each training forward).
 *
 * <p>{@link #stateDict()} and {@link #loadStateDict} are the wrapped module's, without PyTorch's {@code module.}
 * prefix, so that a checkpoint written under DDP loads into the plain model (and {@code jtensor eval}).
 */
public class DistributedDataParallel extends Module implements ModuleWrapper {
    private final Module module;
    private final ProcessGroup group;
    private final boolean broadcastBuffers;
    private final Reducer reducer;
    private boolean syncGradients = true;

    /** With PyTorch's defaults: 25 MB buckets, no search for unused parameters, buffers broadcast each forward. */
    public DistributedDataParallel(Module module, ProcessGroup group) { this(builder(module, group)); }

    private DistributedDataParallel(Builder b) {
        this.module = registerModule("module", b.module);
        this.group = b.group;
        this.broadcastBuffers = b.broadcastBuffers;
        List<String> names = new ArrayList<>();
        List<Tensor> params = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        List<DType> dtypes = new ArrayList<>();
        for (var e : module.namedParameters().entrySet()) {
            if (!e.getValue().requiresGrad()) continue;
            names.add(e.getKey());
            params.add(e.getValue());
            shapes.add(e.getValue().shape());
            dtypes.add(e.getValue().dtype());
        }
        ParameterCheck.requireSameOnAllRanks(group, ParameterCheck.describe(names, shapes, dtypes), module.device());
        syncModuleStates();
        long cap = (long) (b.bucketCapMb * 1024 * 1024);
        this.reducer = new Reducer(group, params, names, b.findUnusedParameters, Math.min(b.firstBucketBytes, cap), cap);
    }

    public static Builder builder(Module module, ProcessGroup group) { return new Builder(module, group); }

    /** The wrapped model, as the caller built it (for saving, evaluation, or calling its other methods). */
    @Override public Module module() { return module; }

    public ProcessGroup processGroup() { return group; }

    // ------------------------------------------------------------------ forward

    @Override public Tensor forward(Tensor input) { return forward(m -> m.forward(input)); }

    /**
     * The forward of a model with another signature ({@code ddp.forward(m -> ((Bert) m).forward(ids, mask))}):
     * buffers broadcast, the call, then the Reducer armed for the backward of its result.
     */
    public Tensor forward(Function<Module, Tensor> call) {
        boolean recording = GradMode.isEnabled();
        if (recording && isTraining() && broadcastBuffers && group.size() > 1) broadcastBuffers();
        Tensor out = call.apply(module);
        if (recording && syncGradients) reducer.prepareForBackward(List.of(out));
        else reducer.skipPass();
        return out;
    }

    /**
     * A scope in which forwards do not arm the reduction: their backwards accumulate gradients locally, and the
     * first backward of a forward after the scope averages the sum (gradient accumulation over several micro-batches
     * with one all-reduce), PyTorch's {@code no_sync()}. {@code try (var s = ddp.noSync()) { ... }}.
     */
    public NoSync noSync() {
        boolean previous = syncGradients;
        syncGradients = false;
        return () -> syncGradients = previous;
    }

    /** The scope {@link #noSync()} returns; closing it restores synchronisation. */
    public interface NoSync extends AutoCloseable {
        @Override void close();
    }

    // ------------------------------------------------------------------ state

    @Override public LinkedHashMap<String, NDArray> stateDict() { return module.stateDict(); }

    @Override public StateDictException.Report loadStateDict(Map<String, NDArray> state, boolean strict) {
        return module.loadStateDict(state, strict);
    }

    /** Parameter names per gradient bucket, in launch order (for logs and tests). */
    public List<List<String>> bucketParameterNames() { return reducer.bucketNames(); }

    /** Bytes per gradient bucket, in launch order. */
    public List<Long> bucketBytes() { return reducer.bucketBytes(); }

    /** The bucket indices in the order the last backward launched them (0, 1, 2, ... on every rank). */
    public List<Integer> lastLaunchOrder() { return reducer.lastLaunchOrder(); }

    /** For each launch of the last backward, how many parameters were ready then (fewer than all: it overlapped). */
    public List<Integer> lastReadyCountAtLaunch() { return reducer.lastReadyCountAtLaunch(); }

    /** Whether the buckets have been rebuilt in the order gradients became ready (after the first synchronised step). */
    public boolean bucketsRebuilt() { return reducer.rebuilt(); }

    /** Stops reducing (the hooks stay on the parameters but do nothing) and frees the buckets. */
    public void close() { reducer.close(); }

    /** Rank 0's parameters and buffers to every rank. */
    private void syncModuleStates() { broadcastModuleStates(module, group); }

    /**
     * Rank 0's parameters and buffers to every rank of {@code group}, in place (the broadcast the constructor does).
     * For mixed precision call it before {@code Amp.initialize}, which comes before the wrap (Apex's order, so that
     * the buckets see the half dtypes): O2 makes each rank's fp32 masters from its own parameters, and the
     * constructor's later broadcast reaches only the half copies, so the masters would differ between ranks unless
     * the ranks start equal. Syncing the source, not repairing the masters afterwards, keeps Amp free of any
     * knowledge of process groups. Every rank must call it (a collective).
     */
    public static void broadcastModuleStates(Module module, ProcessGroup group) {
        if (group.size() == 1) return;
        for (Tensor p : module.parameters()) group.broadcast(p.data(), 0);
        for (NDArray b : module.namedBuffers().values()) group.broadcast(b, 0);
    }

    private void broadcastBuffers() {
        for (NDArray b : module.namedBuffers().values()) group.broadcast(b, 0);
    }

    @Override protected String extraRepr() { return "world_size=" + group.size() + ", rank=" + group.rank(); }

    // ------------------------------------------------------------------ builder

    /** The options PyTorch takes as keyword arguments. */
    public static final class Builder {
        private final Module module;
        private final ProcessGroup group;
        private double bucketCapMb = BucketAssignment.DEFAULT_BUCKET_CAP_MB;
        private long firstBucketBytes = BucketAssignment.DEFAULT_FIRST_BUCKET_BYTES;
        private boolean findUnusedParameters;
        private boolean broadcastBuffers = true;

        private Builder(Module module, ProcessGroup group) {
            this.module = Objects.requireNonNull(module, "DistributedDataParallel: module is null");
            this.group = Objects.requireNonNull(group, "DistributedDataParallel: group is null");
        }

        /** Bucket size in MiB after the first bucket (default 25). */
        public Builder bucketCapMb(double mb) {
            if (!(mb > 0)) throw new IllegalArgumentException("DistributedDataParallel: expected bucketCapMb > 0, got " + mb);
            this.bucketCapMb = mb;
            return this;
        }

        /** Size of the first bucket in bytes (default 1 MiB; never above the cap). */
        public Builder firstBucketBytes(long bytes) {
            if (bytes < 1) throw new IllegalArgumentException("DistributedDataParallel: expected firstBucketBytes >= 1, got " + bytes);
            this.firstBucketBytes = bytes;
            return this;
        }

        /** Marks parameters the forward's output does not reach as ready (at the cost of a graph walk per forward). */
        public Builder findUnusedParameters(boolean on) {
            this.findUnusedParameters = on;
            return this;
        }

        public Builder broadcastBuffers(boolean on) {
            this.broadcastBuffers = on;
            return this;
        }

        public DistributedDataParallel build() { return new DistributedDataParallel(this); }
    }
}
