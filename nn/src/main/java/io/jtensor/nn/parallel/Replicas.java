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
 * One step's replicas of a module on several devices (PyTorch's {@code replicate}): each parameter is
 * {@link Comm#broadcast broadcast} (differentiably, so its replicas' gradients are summed into the parameter's
 * {@code grad}) and each buffer copied; the replica on the module's own device shares every parameter's and buffer's
 * storage with the module, so in-place changes it makes (batch-norm running statistics) are kept, while those of
 * the other replicas land in copies that {@link #close} releases. Made on the calling thread, for one forward pass.
 */
final class Replicas implements AutoCloseable {
    private final List<Module> modules;
    private final List<Tensor> tensors = new ArrayList<>();
    private final List<NDArray> arrays = new ArrayList<>();

    private Replicas(Module module, List<Device> devices) {
        Map<Tensor, List<Tensor>> params = new IdentityHashMap<>();
        Map<NDArray, List<NDArray>> buffers = new IdentityHashMap<>();
        List<Module> ms = new ArrayList<>(devices.size());
        try {
            for (int i = 0; i < devices.size(); i++) {
                int index = i;
                ms.add(module.replicate(
                        p -> params.computeIfAbsent(p, k -> keep(tensors, Comm.broadcast(k, devices))).get(index),
                        b -> buffers.computeIfAbsent(b, k -> keep(arrays, Comm.broadcast(k, devices))).get(index)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.modules = ms;
    }

    static Replicas of(Module module, List<Device> devices) { return new Replicas(module, devices); }

    private static <T> List<T> keep(List<T> all, List<T> made) {
        all.addAll(made);
        return made;
    }

    /** The replica on device i. */
    Module module(int i) { return modules.get(i); }

    /**
     * Releases the replicas' parameter and buffer arrays once the forward pass is over (the graph keeps what its
     * backward needs), except any that the pass returned as they are ({@code results}).
     */
    void close(List<Tensor> results) {
        Set<Object> spare = Collections.newSetFromMap(new IdentityHashMap<>());
        if (results != null) {
            for (Tensor t : results) {
                if (t == null) continue;
                spare.add(t);
                spare.add(t.data());
            }
        }
        for (Tensor t : tensors) if (!spare.contains(t)) t.close();
        for (NDArray a : arrays) if (!spare.contains(a)) a.close();
        tensors.clear();
        arrays.clear();
    }

    @Override public void close() { close(null); }
}
