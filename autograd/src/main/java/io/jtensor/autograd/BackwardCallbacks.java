package io.jtensor.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Work to run once the backward pass now running on this thread has finished, PyTorch's
 * {@code Variable._execution_engine.queue_callback}: a gradient hook that starts something asynchronous (the
 * distributed Reducer's all-reduce of a bucket) queues here what must happen before {@code backward()} returns
 * (wait for every bucket, write the averaged gradients back).
 *
 * <p>The contract: {@link #queue} is legal only while a backward pass runs on the calling thread (from a hook or a
 * rule); the callbacks of a pass run on that thread, in the order queued, after the pass's last rule and leaf hook
 * and before {@code backward()} returns; a callback may queue another, which runs after it. When the pass fails,
 * its callbacks do not run. A nested backward (started from a hook) has callbacks of its own.
 */
public final class BackwardCallbacks {
    private static final ThreadLocal<ArrayDeque<List<Runnable>>> PASSES = ThreadLocal.withInitial(ArrayDeque::new);

    private BackwardCallbacks() {}

    /** Runs {@code callback} when the backward pass running on this thread ends. */
    public static void queue(Runnable callback) {
        ArrayDeque<List<Runnable>> passes = PASSES.get();
        if (passes.isEmpty()) {
            throw new IllegalStateException("BackwardCallbacks.queue: no backward pass is running on this thread "
                    + "(call it from a gradient hook or a backward rule)");
        }
        passes.peek().add(callback);
    }

    /** Whether a backward pass is running on this thread. */
    public static boolean inBackward() { return !PASSES.get().isEmpty(); }

    /** Runs {@code pass} as one backward pass, then its callbacks unless it failed. */
    static void around(Runnable pass) {
        ArrayDeque<List<Runnable>> passes = PASSES.get();
        List<Runnable> callbacks = new ArrayList<>();
        passes.push(callbacks);
        try {
            pass.run();
            for (int i = 0; i < callbacks.size(); i++) callbacks.get(i).run();
        } finally {
            passes.pop();
        }
    }
}
