package io.jtensor.nn.parallel;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import java.util.List;

/**
 * One all-reduce bucket: the gradients of some parameters of one dtype and device, packed into one contiguous array
 * so that a single collective carries them. The flat array lives as long as the bucket (it is reused every step).
 */
final class GradBucket implements AutoCloseable {
    final int index;
    /** Indices into the Reducer's parameter list, in packing order. */
    final List<Integer> members;
    private final long[] offsets;
    private final NDArray flat;
    /** Members whose gradient is not ready yet in this pass. */
    int pending;
    private ProcessGroup.Work work;

    GradBucket(int index, List<Integer> members, List<Tensor> params) {
        this.index = index;
        this.members = members;
        this.offsets = new long[members.size() + 1];
        for (int j = 0; j < members.size(); j++) offsets[j + 1] = offsets[j] + params.get(members.get(j)).numel();
        Tensor first = params.get(members.get(0));
        this.flat = NDArray.zeros(first.dtype(), first.device(), offsets[members.size()]).keep();
        this.pending = members.size();
    }

    long numel() { return offsets[offsets.length - 1]; }

    long bytes() { return numel() * flat.dtype().byteSize(); }

    boolean launched() { return work != null; }

    /**
     * Packs the members' gradients (zeros for a member without one: a parameter unused on this rank contributes
     * nothing), divides by the world size before the reduction, so that a sum of fp16 gradients cannot overflow
     * where their mean would not, and starts the all-reduce.
     */
    void launch(List<Tensor> params, ProcessGroup group) {
        for (int j = 0; j < members.size(); j++) {
            Tensor g = params.get(members.get(j)).grad();
            try (NDArray slice = flat.narrow(0, offsets[j], offsets[j + 1] - offsets[j])) {
                if (g == null) {
                    slice.fill(0);
                } else {
                    if (g.dtype() != flat.dtype() || !g.device().equals(flat.device())) {
                        // copyFrom would convert silently and the averaged gradient would come back in another dtype.
                        throw new IllegalStateException("DistributedDataParallel: a " + g.dtype() + " gradient on " + g.device()
                                + " reached bucket " + index + ", built for " + flat.dtype() + " on " + flat.device()
                                + ": the parameters changed dtype or device after the model was wrapped; cast or move the model"
                                + " (Amp.initialize, to(...)) before new DistributedDataParallel(...)");
                    }
                    try (NDArray src = g.data().reshape(-1)) {
                        slice.copyFrom(src);
                    }
                }
            }
        }
        if (group.size() > 1) flat.mulInPlace(1.0 / group.size());
        work = group.allReduceAsync(flat, ProcessGroup.ReduceOp.SUM);
    }

    /** Waits for the all-reduce started by {@link #launch}; the flat array then holds the averaged gradients. */
    void await(ProcessGroup group) {
        ProcessGroup.Work w = work;
        work = null;
        if (w != null) w.await(group.timeout());
    }

    /** Writes the averaged gradient of member j into {@code grad}'s array. */
    void unpack(int j, NDArray grad) {
        try (NDArray slice = flat.narrow(0, offsets[j], offsets[j + 1] - offsets[j]); NDArray shaped = slice.view(grad.shape())) {
            grad.copyFrom(shaped);
        }
    }

    /** The averaged gradient of member j as a fresh array of {@code shape} (for a parameter that had none locally). */
    NDArray copyOf(int j, long[] shape) {
        try (NDArray slice = flat.narrow(0, offsets[j], offsets[j + 1] - offsets[j]); NDArray shaped = slice.view(shape)) {
            return shaped.copy();
        }
    }

    /** Forgets this pass: every member pending again. */
    void reset() {
        pending = members.size();
        work = null;
    }

    @Override public void close() { flat.close(); }
}
