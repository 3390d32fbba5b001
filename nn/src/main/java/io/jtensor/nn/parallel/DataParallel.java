package io.jtensor.nn.parallel;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Module;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PyTorch's {@code nn.DataParallel}: each forward pass {@link Comm#scatter scatters} the input along dim 0 over the
 * devices, {@linkplain Module#replicate replicates} the module onto them (parameters broadcast, buffers copied),
 * runs the replicas concurrently, one thread per device (on CUDA each on its device's current stream, so the
 * replicas' kernels overlap), and {@link Comm#gather gathers} the outputs onto {@code outputDevice} (the first device
 * by default). Backward runs through the gather, the replicas and the broadcasts, so the gradients of all replicas
 * land summed in the wrapped module's parameters' {@code grad}; an optimizer over {@link #parameters()} (the wrapped
 * module's) then steps the one model.
 * <pre>{@code
 * Module model = new MLP(784, 256, 10).to(Device.cpu(0));
 * DataParallel dp = new DataParallel(model, List.of(Device.cpu(0), Device.cpu(1)));
 * Tensor loss = dp.forward(x).crossEntropy(y);   // y on cpu:0, where the output is gathered
 * }</pre>
 *
 * <p>As in PyTorch:
 * <ul>
 *   <li>the module's parameters and buffers must be on the first device, and the replica there shares their storage:
 *       in-place updates it makes, such as batch-norm running statistics, are kept; the other replicas' are
 *       discarded. Batch norm in training mode normalises each replica's chunk with that chunk's statistics (not
 *       the whole batch's);</li>
 *   <li>a batch of n items over k devices is cut as {@code torch.chunk} cuts it ({@link Comm#chunkSizes}): pieces
 *       of ceil(n / k), so a small batch uses fewer devices (5 over 4 devices: 2, 2, 1 on three); a batch that
 *       makes one piece runs the module itself, unreplicated;</li>
 *   <li>one device in the list means no replication at all: the module runs as it is (its output moved to
 *       {@code outputDevice} if that is another device).</li>
 * </ul>
 * Not supported: modules whose forward takes more than one tensor, or returns something other than one tensor
 * batched along dim 0 (use their own forward on one device); nested data parallelism (a DataParallel inside a
 * replica fails); modules that keep per-call state other than buffers (a replica's changes to it are not seen by
 * the module). Backward runs on the thread that calls it, as every backward does; on CUDA its kernels go to each
 * device's stream and overlap there, on logical CPU devices the replicas' backward passes run one after another.
 * Dropout in replicas draws from the generator its module holds, shared by all replicas (each draw takes its own
 * offsets, so masks differ, but which replica gets which depends on thread timing).
 */
public class DataParallel extends Module implements ModuleWrapper {
    private final Module module;
    private final List<Device> devices;
    private final Device outputDevice;

    /** Replicas on {@code devices}, output gathered on the first of them. */
    public DataParallel(Module module, List<Device> devices) {
        this(module, devices, devices == null || devices.isEmpty() ? null : devices.get(0));
    }

    /** Replicas on {@code devices}, output gathered on {@code outputDevice} (any device, in the list or not). */
    public DataParallel(Module module, List<Device> devices, Device outputDevice) {
        String op = getClass().getSimpleName();
        this.devices = DeviceList.check(op, devices);
        if (module == null) throw new IllegalArgumentException(op + ": the module is null");
        if (outputDevice == null) throw new IllegalArgumentException(op + ": the output device is null");
        checkOnFirstDevice(op, module, this.devices.get(0));
        this.outputDevice = outputDevice;
        this.module = registerModule("module", module);
    }

    @Override public Module module() { return module; }

    /** The devices the replicas run on, in order. */
    public List<Device> devices() { return devices; }

    /** Where {@link #forward} gathers the outputs. */
    public Device outputDevice() { return outputDevice; }

    /** The module's outputs on every chunk of the batch, gathered along dim 0 on {@link #outputDevice()}. */
    @Override public Tensor forward(Tensor input) {
        List<Tensor> outs = forwardReplicas(input);
        if (outs.size() == 1) {
            Tensor o = outs.get(0);
            return o.device().equals(outputDevice) ? o : o.to(outputDevice);
        }
        try {
            return Comm.gather(outs, 0, outputDevice);
        } finally {
            for (Tensor o : outs) o.close(); // the gather keeps nothing of its inputs
        }
    }

    /**
     * Scatter, replicate, run: one output per device used (fewer than {@link #devices()} for a small batch), each on
     * its own device. The caller owns them (they also belong to its memory scope).
     */
    protected final List<Tensor> forwardReplicas(Tensor input) {
        String op = getClass().getSimpleName();
        if (input == null) throw new IllegalArgumentException(op + ".forward: the input is null");
        if (input.isClosed()) throw new IllegalArgumentException(op + ".forward: the input was closed");
        Device first = devices.get(0);
        checkOnFirstDevice(op, module, first);
        if (devices.size() == 1) return List.of(module.forward(input.device().equals(first) ? input : input.to(first)));
        if (input.dim() == 0) throw new IllegalArgumentException(op + ".forward: expected an input batched along dim 0, got a scalar");
        List<Tensor> chunks = Comm.scatter(input, devices);
        if (chunks.size() == 1) {
            // One piece: the module itself on the first device, as PyTorch does for a batch that fills one device.
            return List.of(module.forward(chunks.get(0)));
        }
        List<Device> used = devices.subList(0, chunks.size());
        List<Tensor> outs = null;
        Replicas replicas = Replicas.of(module, used);
        try {
            outs = ReplicaThreads.apply(op, used, i -> checkOutput(op, replicas.module(i).forward(chunks.get(i)), used.get(i)));
            return outs;
        } finally {
            replicas.close(outs);
            Set<Tensor> returned = Collections.newSetFromMap(new IdentityHashMap<>());
            if (outs != null) returned.addAll(outs);
            for (Tensor c : chunks) if (!returned.contains(c)) c.close(); // the graph keeps its own references
        }
    }

    private static Tensor checkOutput(String op, Tensor out, Device device) {
        if (out == null) throw new IllegalStateException(op + ": the module returned null on " + device);
        if (out.dim() == 0) throw new IllegalStateException(op + ": the module returned a scalar on " + device + "; outputs are gathered along dim 0");
        return out;
    }

    /** PyTorch's check: the module's parameters and buffers all live on the first device. */
    static void checkOnFirstDevice(String op, Module module, Device first) {
        for (Map.Entry<String, Tensor> e : module.namedParameters().entrySet()) {
            if (!e.getValue().device().equals(first)) {
                throw new IllegalArgumentException(op + ": expected the module's parameters and buffers on " + first
                        + " (the first device), but parameter '" + e.getKey() + "' is on " + e.getValue().device());
            }
        }
        for (Map.Entry<String, NDArray> e : module.namedBuffers().entrySet()) {
            if (!e.getValue().device().equals(first)) {
                throw new IllegalArgumentException(op + ": expected the module's parameters and buffers on " + first
                        + " (the first device), but buffer '" + e.getKey() + "' is on " + e.getValue().device());
            }
        }
    }

    @Override protected String extraRepr() {
        List<String> names = new ArrayList<>();
        for (Device d : devices) names.add(d.toString());
        return "devices=" + names + (outputDevice.equals(devices.get(0)) ? "" : ", output_device=" + outputDevice);
    }
}
