package io.jtensor.nn.parallel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.BiFunction;

/** Runs one body per rank, each on a thread of its own with its own {@link ThreadProcessGroup}; bounded. */
final class ThreadRanks {
    private ThreadRanks() {}

    /**
     * Runs {@code body(rank, group)} on {@code n} threads and returns the results by rank. Fails, naming the rank,
     * when a body throws (the first failure, with the others as suppressed) or when one is still running after
     * {@code limit} (with its stack).
     */
    static <T> List<T> run(int n, Duration collectiveTimeout, Duration limit, BiFunction<Integer, ThreadProcessGroup, T> body) {
        AtomicReferenceArray<Object> results = new AtomicReferenceArray<>(n);
        AtomicReferenceArray<Throwable> errors = new AtomicReferenceArray<>(n);
        List<Thread> threads = new ArrayList<>();
        try (ThreadProcessGroup.World world = new ThreadProcessGroup.World(n, collectiveTimeout)) {
            for (int r = 0; r < n; r++) {
                int rank = r;
                Thread t = new Thread(() -> {
                    try {
                        results.set(rank, body.apply(rank, world.group(rank)));
                    } catch (Throwable e) {
                        errors.set(rank, e);
                    }
                }, "rank-" + r);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            long deadline = System.nanoTime() + limit.toNanos();
            for (int r = 0; r < n; r++) {
                Thread t = threads.get(r);
                try {
                    t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (t.isAlive()) {
                    StackTraceElement[] stack = t.getStackTrace();
                    threads.forEach(Thread::interrupt);
                    throw new AssertionError("rank " + r + " stalled: still running after " + limit.toMillis() + " ms at\n  "
                            + String.join("\n  ", Arrays.stream(stack).limit(12).map(String::valueOf).toList()));
                }
            }
        }
        AssertionError failure = null;
        for (int r = 0; r < n; r++) {
            Throwable e = errors.get(r);
            if (e == null) continue;
            if (failure == null) failure = new AssertionError("rank " + r + " failed: " + e, e);
            else failure.addSuppressed(new AssertionError("rank " + r + " failed: " + e, e));
        }
        if (failure != null) throw failure;
        List<T> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            @SuppressWarnings("unchecked") T v = (T) results.get(r);
            out.add(v);
        }
        return out;
    }

    /** The exception rank {@code r}'s body threw (for tests that expect failures). */
    static Throwable failureOf(AssertionError e, int rank) {
        String prefix = "rank " + rank + " failed";
        if (e.getMessage() != null && e.getMessage().startsWith(prefix)) return e.getCause();
        for (Throwable s : e.getSuppressed()) if (s.getMessage() != null && s.getMessage().startsWith(prefix)) return s.getCause();
        return null;
    }
}
