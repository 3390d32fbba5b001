package io.jtensor.nn.parallel;

import io.jtensor.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * One long-lived daemon thread per device that runs that device's replica work (PyTorch's {@code parallel_apply}
 * starts a thread per device and call; a thread of one's own per device keeps its thread-local workspaces, such as
 * the CPU GEMM's packing buffers, from being allocated again at every step). Work on different devices runs
 * concurrently; two callers that use the same device take turns on its thread.
 */
final class ReplicaThreads {
    private static final ConcurrentHashMap<Device, ExecutorService> WORKERS = new ConcurrentHashMap<>();
    private static final ThreadLocal<Boolean> ON_REPLICA_THREAD = ThreadLocal.withInitial(() -> false);

    private ReplicaThreads() {}

    /**
     * Runs {@code work.apply(i)} for device i of {@code devices}, each on its device's thread under the caller's
     * {@link ThreadContext}, waits for all, hands what they created to the caller's memory scope, and returns the
     * results in device order. If any failed, the first failure (in device order) is rethrown, naming its device,
     * once all have finished. One device runs on the calling thread.
     */
    static <T> List<T> apply(String op, List<Device> devices, IntFunction<T> work) {
        if (devices.size() == 1) return List.of(work.apply(0));
        if (ON_REPLICA_THREAD.get()) {
            throw new IllegalStateException(op + ": called from inside a replica (nested data parallelism is not supported)");
        }
        ThreadContext context = ThreadContext.capture(devices);
        List<Future<ThreadContext.Outcome<T>>> futures = new ArrayList<>(devices.size());
        for (int i = 0; i < devices.size(); i++) {
            int index = i;
            Device d = devices.get(i);
            futures.add(worker(d).submit(() -> context.call(d, () -> work.apply(index))));
        }
        List<T> results = new ArrayList<>(devices.size());
        RuntimeException failure = null;
        for (int i = 0; i < futures.size(); i++) {
            ThreadContext.Outcome<T> o = awaitUninterruptibly(futures.get(i));
            ThreadContext.adopt(o.created());
            results.add(o.value());
            if (o.failure() != null && failure == null) {
                failure = new IllegalStateException(op + ": the replica on " + devices.get(i) + " failed: " + o.failure(), o.failure());
            }
        }
        if (failure != null) throw failure;
        return results;
    }

    /**
     * Waits for the work even when interrupted (it uses the caller's arrays, so the caller must not go on before it
     * ends), then restores the interrupt.
     */
    private static <T> T awaitUninterruptibly(Future<T> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    // ThreadContext.call catches everything the work throws; only an Error in the executor lands here.
                    throw new IllegalStateException("replica thread failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static ExecutorService worker(Device d) {
        return WORKERS.computeIfAbsent(d, dev -> Executors.newSingleThreadExecutor(r -> Thread.ofPlatform()
                .name("jtensor-replica-" + dev).daemon(true).unstarted(() -> {
                    ON_REPLICA_THREAD.set(true);
                    r.run();
                })));
    }
}
