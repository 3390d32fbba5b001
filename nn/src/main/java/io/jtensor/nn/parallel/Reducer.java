package io.jtensor.nn.parallel;

import io.jtensor.NDArray;
import io.jtensor.autograd.BackwardCallbacks;
import io.jtensor.autograd.GraphLeaves;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Averages the gradients of one model's parameters over a process group while backward runs, PyTorch's
 * {@code Reducer}. The parameters are split into buckets ({@link BucketAssignment}); each parameter gets a
 * leaf-gradient hook ({@link Tensor#registerHook}) that marks it ready; when every member of a bucket is ready
 * the bucket may be launched (packed, divided by the world size, all-reduced asynchronously) while the backward
 * engine goes on computing the gradients of earlier layers. A callback queued on the pass
 * ({@link BackwardCallbacks}) waits for every bucket and writes the averages back, so that when
 * {@code backward()} returns every gradient is the group's mean.
 *
 * <p><b>When a gradient counts as ready.</b> A parameter is ready in a pass when the backward engine has added the
 * pass's last contribution to its {@code grad} (the hook fires then); with {@code findUnusedParameters}, a
 * parameter that the forward's outputs do not reach ({@link GraphLeaves}) is ready from the first hook of the pass
 * on, with a zero contribution. A pass is prepared by {@link #prepareForBackward} (the DDP forward); a backward
 * that was not prepared (a forward under {@code noSync}) leaves the gradients local and they accumulate.
 *
 * <p><b>Launch order.</b> Buckets are launched strictly in bucket order: bucket {@code k} starts only after
 * buckets {@code 0..k-1} have started, even when it became ready first. The order in which gradients become
 * ready depends on the graph the engine walks and can differ between ranks (a data-dependent branch, ops with
 * equal priority); collectives, however, are matched by their position in each rank's sequence, so launching in
 * ready order would pair rank 0's bucket 1 with rank 1's bucket 2 (a wrong sum, or a hang when their sizes
 * differ). Bucket order is the same on every rank because the buckets are (re)built from rank 0's order. The
 * figure: in {@code DistributedDataParallelTest}'s two-branch model, where rank 1 computes the branches in the other
 * order, launching by readiness gave rank 1 the order [0, 1, 2, 3, 6, 7, 4, 5] against rank 0's [0, 1, ..., 7], so
 * each rank added its branch-a gradients to the other's branch-b ones (equal sizes: no error, wrong weights).
 *
 * <p><b>Rebuilding.</b> The first buckets follow reverse registration order, a guess at the order of backward.
 * During the first synchronised pass the order in which gradients actually became ready is recorded; at its end
 * rank 0's order is broadcast and every rank rebuilds its buckets from it (once), so that later passes launch
 * each bucket as early as the graph allows.
 */
final class Reducer implements AutoCloseable {
    private final ProcessGroup group;
    private final List<Tensor> params;
    private final List<String> names;
    private final boolean findUnusedParameters;
    private final long firstBucketBytes;
    private final long bucketCapBytes;

    private List<GradBucket> buckets = List.of();
    /** For each parameter: its bucket and its position in it. */
    private int[] bucketOf;
    private int[] slotOf;
    private boolean rebuilt;
    private boolean closed;

    // -------- the pass in progress
    private boolean prepared;
    private boolean started;
    private boolean[] ready;
    private int nextToLaunch;
    private final List<Integer> readyOrder = new ArrayList<>();
    private Set<Tensor> reached;
    private NDArray usedMap;
    private ProcessGroup.Work usedMapWork;
    private final List<Integer> launchOrder = new ArrayList<>();
    private final List<Integer> readyCountAtLaunch = new ArrayList<>();

    Reducer(ProcessGroup group, List<Tensor> params, List<String> names, boolean findUnusedParameters, long firstBucketBytes,
            long bucketCapBytes) {
        this.group = group;
        this.params = List.copyOf(params);
        this.names = List.copyOf(names);
        this.findUnusedParameters = findUnusedParameters;
        this.firstBucketBytes = firstBucketBytes;
        this.bucketCapBytes = bucketCapBytes;
        this.ready = new boolean[params.size()];
        List<Integer> reverse = new ArrayList<>();
        for (int i = params.size() - 1; i >= 0; i--) reverse.add(i);
        buildBuckets(reverse);
        for (int i = 0; i < params.size(); i++) {
            int index = i;
            params.get(i).registerHook(g -> onGradReady(index));
        }
    }

    private void buildBuckets(List<Integer> order) {
        buckets.forEach(GradBucket::close);
        List<BucketAssignment.Slot> slots = new ArrayList<>();
        for (Tensor p : params) slots.add(new BucketAssignment.Slot(p.dtype(), p.device(), p.numel() * p.dtype().byteSize()));
        List<List<Integer>> assignment = BucketAssignment.bySize(slots, order, firstBucketBytes, bucketCapBytes);
        List<GradBucket> built = new ArrayList<>();
        bucketOf = new int[params.size()];
        slotOf = new int[params.size()];
        for (int b = 0; b < assignment.size(); b++) {
            List<Integer> members = assignment.get(b);
            built.add(new GradBucket(b, members, params));
            for (int j = 0; j < members.size(); j++) {
                bucketOf[members.get(j)] = b;
                slotOf[members.get(j)] = j;
            }
        }
        buckets = List.copyOf(built);
    }

    // ------------------------------------------------------------------ the forward's side

    /**
     * Arms the next backward pass to reduce; {@code outputs} are the forward's results, from which
     * {@code findUnusedParameters} learns which parameters this pass will not reach. A pass left unfinished by a
     * failed backward is discarded first (its launched collectives are waited for, so that no rank runs ahead).
     */
    void prepareForBackward(List<Tensor> outputs) {
        if (closed) throw new IllegalStateException("DistributedDataParallel: used after close()");
        if (started) abandonPass();
        resetPass();
        prepared = true;
        reached = findUnusedParameters ? GraphLeaves.reachableFrom(outputs) : null;
    }

    /** Disarms a prepared pass that no backward will run (a forward under noSync). */
    void skipPass() {
        if (started) abandonPass();
        resetPass();
    }

    private void resetPass() {
        prepared = false;
        started = false;
        Arrays.fill(ready, false);
        nextToLaunch = 0;
        launchOrder.clear();
        readyCountAtLaunch.clear();
        for (GradBucket b : buckets) b.reset();
        closeUsedMap();
    }

    private void abandonPass() {
        for (GradBucket b : buckets) {
            try {
                b.await(group);
            } catch (RuntimeException ignored) {
                // The pass failed already; its error was reported by the backward that failed.
            }
        }
        if (usedMapWork != null) {
            try {
                usedMapWork.await(group.timeout());
            } catch (RuntimeException ignored) {
                // as above
            }
        }
    }

    // ------------------------------------------------------------------ the backward's side

    private void onGradReady(int index) {
        if (closed || !prepared) return;
        if (!started) startPass();
        markReady(index);
    }

    /** The first hook of a pass: the end-of-pass callback, and with findUnusedParameters the unused marked ready. */
    private void startPass() {
        started = true;
        BackwardCallbacks.queue(this::finishPass);
        if (!findUnusedParameters) return;
        double[] used = new double[params.size()];
        for (int i = 0; i < params.size(); i++) used[i] = reached.contains(params.get(i)) ? 1 : 0;
        try (NDArray host = NDArray.of(used, used.length)) {
            usedMap = host.to(params.get(0).device()).keep();
        }
        // Started before any bucket on every rank, so the collectives line up.
        usedMapWork = group.allReduceAsync(usedMap, ProcessGroup.ReduceOp.MAX);
        for (int i = 0; i < params.size(); i++) if (used[i] == 0) markReady(i);
    }

    private void markReady(int index) {
        if (ready[index]) {
            throw new IllegalStateException("DistributedDataParallel: parameter " + names.get(index) + " was marked ready twice in one "
                    + "backward pass (a second backward through the same forward?); run the forward again before each backward");
        }
        ready[index] = true;
        if (!rebuilt) readyOrder.add(index);
        GradBucket b = buckets.get(bucketOf[index]);
        if (--b.pending > 0) return;
        int readyCount = countReady();
        while (nextToLaunch < buckets.size() && buckets.get(nextToLaunch).pending == 0) {
            GradBucket next = buckets.get(nextToLaunch++);
            next.launch(params, group);
            launchOrder.add(next.index);
            readyCountAtLaunch.add(readyCount);
        }
    }

    private int countReady() {
        int n = 0;
        for (boolean r : ready) if (r) n++;
        return n;
    }

    /** End of the pass: every bucket awaited and written back, or an error naming the parameters without a gradient. */
    private void finishPass() {
        if (!started) return;
        try {
            if (nextToLaunch < buckets.size()) {
                abandonPass();
                throw unusedError();
            }
            boolean[] globallyUsed = null;
            if (usedMapWork != null) {
                usedMapWork.await(group.timeout());
                usedMapWork = null;
                double[] u = usedMap.toDoubleArray();
                globallyUsed = new boolean[u.length];
                for (int i = 0; i < u.length; i++) globallyUsed[i] = u[i] > 0;
            }
            for (GradBucket b : buckets) {
                b.await(group);
                for (int j = 0; j < b.members.size(); j++) {
                    Tensor p = params.get(b.members.get(j));
                    if (p.grad() != null) {
                        b.unpack(j, p.grad().data());
                    } else if (globallyUsed != null && globallyUsed[b.members.get(j)]) {
                        // Unused here but used elsewhere: the average is this rank's gradient too.
                        try (Tensor avg = Tensor.wrap(b.copyOf(j, p.shape()))) {
                            p.setGrad(avg);
                        }
                    }
                }
            }
            if (!rebuilt) rebuildFromRankZero();
        } finally {
            List<Integer> order = List.copyOf(launchOrder), counts = List.copyOf(readyCountAtLaunch);
            resetPass();
            launchOrder.addAll(order);
            readyCountAtLaunch.addAll(counts);
        }
    }

    private IllegalStateException unusedError() {
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) if (!ready[i]) missing.add(names.get(i));
        return new IllegalStateException("DistributedDataParallel: rank " + group.rank() + ": parameters that received no gradient in "
                + "this backward pass: " + String.join(", ", missing) + ". Every parameter that requires grad must take part in the loss "
                + "on every rank before the gradients can be averaged; if some take no part in some steps, construct "
                + "DistributedDataParallel with findUnusedParameters(true), or call requiresGrad(false) on parameters that are never trained");
    }

    /** Rebuilds the buckets in the order rank 0's gradients became ready, the same on every rank. */
    private void rebuildFromRankZero() {
        rebuilt = true;
        double[] order = new double[params.size()];
        for (int p = 0; p < order.length; p++) order[p] = readyOrder.get(p);
        List<Integer> agreed = new ArrayList<>();
        try (NDArray host = NDArray.of(order, order.length); NDArray local = host.to(params.get(0).device())) {
            group.broadcast(local, 0);
            for (double v : local.toDoubleArray()) agreed.add((int) v);
        }
        readyOrder.clear();
        buildBuckets(agreed);
    }

    private void closeUsedMap() {
        if (usedMap != null) usedMap.close();
        usedMap = null;
        usedMapWork = null;
    }

    // ------------------------------------------------------------------ what tests and logs can see

    /** Parameter names per bucket, in bucket (launch) order. */
    List<List<String>> bucketNames() {
        List<List<String>> out = new ArrayList<>();
        for (GradBucket b : buckets) {
            List<String> n = new ArrayList<>();
            for (int i : b.members) n.add(names.get(i));
            out.add(n);
        }
        return out;
    }

    /** The buckets' sizes in bytes, in bucket order. */
    List<Long> bucketBytes() {
        List<Long> out = new ArrayList<>();
        for (GradBucket b : buckets) out.add(b.bytes());
        return out;
    }

    /** The bucket indices in the order the last finished pass launched them. */
    List<Integer> lastLaunchOrder() { return Collections.unmodifiableList(launchOrder); }

    /** For each launch of the last pass, how many parameters were ready when it started (fewer than all: overlap). */
    List<Integer> lastReadyCountAtLaunch() { return Collections.unmodifiableList(readyCountAtLaunch); }

    boolean rebuilt() { return rebuilt; }

    @Override public void close() {
        if (closed) return;
        if (started) abandonPass();
        closed = true;
        buckets.forEach(GradBucket::close);
        closeUsedMap();
    }
}
