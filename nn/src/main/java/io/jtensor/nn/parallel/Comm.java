package io.jtensor.nn.parallel;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.Shapes;
import io.jtensor.autograd.Recorder;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collectives between the devices of one process, differentiable, each with PyTorch's backward
 * ({@code torch.nn.parallel._functions}):
 * <pre>
 *   broadcast(x, devices)        copies of x          backward: reduce-add of the copies' gradients onto x's device
 *   scatter(x, devices, sizes)   chunks of x along dim backward: gather of the chunks' gradients onto x's device
 *   gather(parts, dim, dst)      parts concatenated    backward: scatter of the gradient back to each part's device
 *   reduceAdd(parts, dst)        sum of the parts      backward: broadcast of the gradient to each part's device
 * </pre>
 * Every copy is {@link NDArray#to(Device)}, so between devices of one kind it is {@code Backend.copyBetweenDevices}:
 * on CUDA ordered by events between the two devices' current streams, without blocking the host. Each result that
 * lives on the source device is a view of the input (broadcast, scatter), as in PyTorch, so an in-place change
 * through it reaches the input. Graph nodes here have one output each (the engine's model), so a broadcast or
 * scatter to n devices records n nodes; the gradients they send back meet on the input's device, where the engine
 * sums them: that sum is broadcast's reduce-add, and scatter's gather (each chunk's gradient lands in its own
 * stretch of an input-sized array: n such arrays on the source during backward, which matters only for a large
 * input that requires grad; a batch of data does not).
 */
public final class Comm {
    private Comm() {}

    // ------------------------------------------------------------------ broadcast

    /** A copy of x on each device, in order; the one on x's own device shares x's storage. */
    public static List<Tensor> broadcast(Tensor x, List<Device> devices) {
        checkOpen("Comm.broadcast", x, -1);
        List<Device> ds = DeviceList.check("Comm.broadcast", devices);
        Device source = x.device();
        List<Tensor> out = new ArrayList<>(ds.size());
        for (Device d : ds) {
            NDArray copy = x.data().to(d);
            // d(copy_d)/dx = I on every device: each copy's gradient goes back to the source, where they are summed.
            out.add(Recorder.record("broadcast", copy, x, s -> (g, need) -> new NDArray[] {g.to(source)}));
        }
        return out;
    }

    /** The same for an array that is not differentiated (a module's buffers): plain copies, x's own device shared. */
    public static List<NDArray> broadcast(NDArray x, List<Device> devices) {
        if (x.isClosed()) throw new IllegalArgumentException("Comm.broadcast: the array " + Arrays.toString(x.shape()) + " was closed");
        List<Device> ds = DeviceList.check("Comm.broadcast", devices);
        List<NDArray> out = new ArrayList<>(ds.size());
        for (Device d : ds) out.add(x.to(d));
        return out;
    }

    // ------------------------------------------------------------------ scatter

    /** Chunks of x along dim 0 as {@link #chunkSizes} cuts them, chunk i on devices[i] (fewer than the devices for a small x). */
    public static List<Tensor> scatter(Tensor x, List<Device> devices) { return scatter(x, devices, null, 0); }

    /**
     * Consecutive chunks of x along {@code dim}, chunk i (of {@code chunkSizes[i]}, positive, summing to the size of
     * dim) on devices[i]; with null sizes, as {@link #chunkSizes} cuts that dim for the number of devices.
     */
    public static List<Tensor> scatter(Tensor x, List<Device> devices, long[] chunkSizes, int dim) {
        checkOpen("Comm.scatter", x, -1);
        List<Device> ds = DeviceList.check("Comm.scatter", devices);
        if (x.dim() == 0) throw new IllegalArgumentException("Comm.scatter: expected a tensor of rank >= 1, got a scalar");
        int d = Shapes.normalizeDim("Comm.scatter", dim, x.dim());
        long n = x.size(d);
        long[] sizes = chunkSizes == null ? chunkSizes(n, ds.size()) : checkSizes(chunkSizes, n, d, ds.size());
        Device source = x.device();
        long[] shape = x.shape();
        List<Tensor> out = new ArrayList<>(sizes.length);
        long at = 0;
        for (int i = 0; i < sizes.length; i++) {
            long start = at, len = sizes[i];
            at += len;
            NDArray chunk;
            try (NDArray view = x.data().narrow(d, start, len)) {
                chunk = view.to(ds.get(i));
            }
            // The chunk's gradient fills its own stretch of dim on the source; the engine sums the stretches.
            out.add(Recorder.record("scatter", chunk, x, s -> (g, need) -> {
                NDArray gx = NDArray.zeros(g.dtype(), source, shape);
                try (NDArray dst = gx.narrow(d, start, len); NDArray moved = g.to(source)) {
                    dst.copyFrom(moved);
                }
                return new NDArray[] {gx};
            }));
        }
        return out;
    }

    /**
     * How {@code torch.chunk} cuts n items into {@code chunks}: pieces of ceil(n / chunks), the last one smaller;
     * fewer than {@code chunks} pieces when n is small (5 items over 4 devices are 2, 2, 1: three devices used).
     */
    public static long[] chunkSizes(long n, int chunks) {
        if (chunks < 1) throw new IllegalArgumentException("Comm.chunkSizes: expected chunks >= 1, got " + chunks);
        if (n < 1) throw new IllegalArgumentException("Comm.chunkSizes: expected at least one item to split, got " + n);
        long size = (n + chunks - 1) / chunks;
        int pieces = (int) ((n + size - 1) / size);
        long[] out = new long[pieces];
        for (int i = 0; i < pieces; i++) out[i] = Math.min(size, n - i * size);
        return out;
    }

    private static long[] checkSizes(long[] sizes, long n, int dim, int devices) {
        if (sizes.length == 0 || sizes.length > devices) {
            throw new IllegalArgumentException("Comm.scatter: expected 1 to " + devices + " chunk sizes (one per device), got " + sizes.length);
        }
        long total = 0;
        for (long s : sizes) {
            if (s < 1) throw new IllegalArgumentException("Comm.scatter: expected positive chunk sizes, got " + Arrays.toString(sizes));
            total += s;
        }
        if (total != n) {
            throw new IllegalArgumentException("Comm.scatter: chunk sizes " + Arrays.toString(sizes) + " add to " + total + " but dim " + dim + " has size " + n);
        }
        return sizes.clone();
    }

    // ------------------------------------------------------------------ gather

    /** The parts concatenated along {@code dim} on {@code destination}; they may sit on different devices. */
    public static Tensor gather(List<Tensor> parts, int dim, Device destination) {
        if (parts == null || parts.isEmpty()) throw new IllegalArgumentException("Comm.gather: expected at least one tensor");
        if (destination == null) throw new IllegalArgumentException("Comm.gather: the destination device is null");
        Tensor first = parts.get(0);
        checkOpen("Comm.gather", first, 0);
        if (first.dim() == 0) throw new IllegalArgumentException("Comm.gather: expected tensors of rank >= 1, got a scalar (part 0)");
        int d = Shapes.normalizeDim("Comm.gather", dim, first.dim());
        long[] outShape = first.shape();
        long[] starts = new long[parts.size()], lengths = new long[parts.size()];
        Device[] from = new Device[parts.size()];
        long total = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor p = parts.get(i);
            checkOpen("Comm.gather", p, i);
            if (p.dtype() != first.dtype()) {
                throw new IllegalArgumentException("Comm.gather: expected one dtype, got " + first.dtype() + " (part 0) and " + p.dtype() + " (part " + i + ")");
            }
            long[] s = p.shape();
            boolean fits = s.length == outShape.length;
            for (int k = 0; fits && k < s.length; k++) fits = k == d || s[k] == outShape[k];
            if (!fits) {
                throw new IllegalArgumentException("Comm.gather: expected shapes that differ only in dim " + d + ", got "
                        + Arrays.toString(outShape) + " (part 0) and " + Arrays.toString(s) + " (part " + i + ")");
            }
            starts[i] = total;
            lengths[i] = s[d];
            from[i] = p.device();
            total += s[d];
        }
        outShape[d] = total;
        NDArray out = NDArray.empty(first.dtype(), destination, outShape);
        try {
            for (int i = 0; i < parts.size(); i++) {
                try (NDArray moved = parts.get(i).data().to(destination); NDArray dst = out.narrow(d, starts[i], lengths[i])) {
                    dst.copyFrom(moved);
                }
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return Recorder.record("gather", out, parts, s -> (g, need) -> {
            NDArray[] r = new NDArray[need.length];
            for (int i = 0; i < need.length; i++) {
                if (!need[i]) continue;
                try (NDArray piece = g.narrow(d, starts[i], lengths[i])) {
                    r[i] = piece.to(from[i]);
                }
            }
            return r;
        });
    }

    // ------------------------------------------------------------------ reduce-add

    /** The sum of same-shaped, same-dtype parts (on any devices) on {@code destination}. */
    public static Tensor reduceAdd(List<Tensor> parts, Device destination) {
        if (parts == null || parts.isEmpty()) throw new IllegalArgumentException("Comm.reduceAdd: expected at least one tensor");
        if (destination == null) throw new IllegalArgumentException("Comm.reduceAdd: the destination device is null");
        Tensor first = parts.get(0);
        Device[] from = new Device[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            Tensor p = parts.get(i);
            checkOpen("Comm.reduceAdd", p, i);
            if (!Arrays.equals(p.shape(), first.shape()) || p.dtype() != first.dtype()) {
                throw new IllegalArgumentException("Comm.reduceAdd: expected one shape and dtype, got " + Arrays.toString(first.shape()) + " "
                        + first.dtype() + " (part 0) and " + Arrays.toString(p.shape()) + " " + p.dtype() + " (part " + i + ")");
            }
            from[i] = p.device();
        }
        DType dtype = first.dtype();
        NDArray out = NDArray.zeros(dtype, destination, first.shape());
        try {
            for (Tensor p : parts) {
                try (NDArray moved = p.data().to(destination)) {
                    out.addInPlace(moved);
                }
            }
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        // d(sum)/d(part_i) = I: the gradient is broadcast to every part's device.
        return Recorder.record("reduceAdd", out, parts, s -> (g, need) -> {
            NDArray[] r = new NDArray[need.length];
            for (int i = 0; i < need.length; i++) if (need[i]) r[i] = g.to(from[i]);
            return r;
        });
    }

    private static void checkOpen(String op, Tensor t, int index) {
        String which = index < 0 ? "the tensor" : "part " + index;
        if (t == null) throw new IllegalArgumentException(op + ": " + which + " is null");
        if (t.isClosed()) throw new IllegalArgumentException(op + ": " + which + " " + Arrays.toString(t.shape()) + " was closed");
    }
}
