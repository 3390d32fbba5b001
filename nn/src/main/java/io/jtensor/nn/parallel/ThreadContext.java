package io.jtensor.nn.parallel;

import io.jtensor.Device;
import io.jtensor.autograd.GradMode;
import io.jtensor.backend.cuda.CudaStream;
import io.jtensor.backend.cuda.CudaStreams;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.amp.Autocast;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The thread-local state of a thread that asks for replica work, captured on that thread and put in force on the
 * replica threads that do the work: the one place where that hand-over happens. What it carries, and why:
 * <ul>
 *   <li>{@link GradMode}: a forward under {@code noGrad} (evaluation) must not record a graph on the replicas;</li>
 *   <li>the CUDA current stream of each device ({@link CudaStreams}): a replica queues its kernels on the stream the
 *       caller would have used for that device, so the caller's scatter (before) and gather and backward (after),
 *       which run on those streams, are ordered with them without a host wait; each logical device has streams of
 *       its own, so the replicas overlap on the GPU;</li>
 *   <li>the {@link MemoryScope}: arrays a replica creates belong to the caller's innermost scope (a training step's),
 *       so they are closed with the step: the replica thread opens a scope of its own, hands it off when the work
 *       ends ({@link MemoryScope#handOff}), and the caller {@link #adopt}s what it held once all replicas are done;</li>
 *   <li>the {@link Autocast} state: a forward under autocast runs each replica's ops in the precision the caller's
 *       scope gives them (each replica thread opens a scope of its own, with its own cast cache).</li>
 * </ul>
 * A new thread-local mechanism that ops consult is carried by adding it here: capture its state in {@link #capture}
 * and put it in force around the work in {@link #call}.
 */
final class ThreadContext {
    private final boolean gradEnabled;
    private final Map<Device, CudaStream> streams;
    private final Autocast.Snapshot autocast;

    private ThreadContext(boolean gradEnabled, Map<Device, CudaStream> streams, Autocast.Snapshot autocast) {
        this.gradEnabled = gradEnabled;
        this.streams = streams;
        this.autocast = autocast;
    }

    /** The calling thread's state, for work on {@code devices}. */
    static ThreadContext capture(List<Device> devices) {
        Map<Device, CudaStream> streams = new HashMap<>();
        for (Device d : devices) if (d.isCuda()) streams.put(d, CudaStreams.current(d));
        return new ThreadContext(GradMode.isEnabled(), streams, Autocast.current());
    }

    /** What a piece of work gave: its value or its failure, and the resources it created (for the caller's scope). */
    record Outcome<T>(T value, Throwable failure, List<AutoCloseable> created) {}

    /** Runs work on this (replica) thread under the captured state, for {@code device}; never throws. */
    <T> Outcome<T> call(Device device, Callable<T> work) {
        MemoryScope scope = MemoryScope.open();
        T value = null;
        Throwable failure = null;
        try (GradMode.Guard g = gradEnabled ? GradMode.enableGrad() : GradMode.noGrad();
             CudaStreams.Scope s = device.isCuda() ? CudaStreams.use(streams.get(device)) : null;
             Autocast a = autocast.enabled() ? autocast.open() : null) {
            value = work.call();
        } catch (Throwable t) {
            failure = t;
        }
        List<AutoCloseable> created;
        try {
            created = scope.handOff();
        } catch (IllegalStateException e) {
            // The work left a scope of its own open (a bug in it): report that rather than hide it.
            created = new ArrayList<>();
            if (failure == null) failure = e;
        }
        return new Outcome<>(value, failure, created);
    }

    /** On the calling thread, after the work: its innermost scope (if any) takes over what the replicas created. */
    static void adopt(List<AutoCloseable> created) {
        for (AutoCloseable c : created) MemoryScope.track(c);
    }
}
