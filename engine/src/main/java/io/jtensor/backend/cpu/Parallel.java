package io.jtensor.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits a range of work across the cores with one small shared pool. Work below {@link #MIN_WORK} units runs on
 * the calling thread, so that small ops never pay for a hand-off to another thread.
 */
final class Parallel {
    /**
     * Below this much work (units of about one cheap element-op, ~0.1-0.3 ns) one thread is faster than waking
     * others: handing a piece to a parked pool thread was measured at 0.6 us when it is still spinning but tens of
     * microseconds when it must be woken (in this VM), so a split must save more than that. Expensive ops declare a
     * higher cost per element and split sooner. Overridable with -Djtensor.cpu.minParallelWork.
     */
    static final long MIN_WORK = Long.getLong("jtensor.cpu.minParallelWork", 128 * 1024);

    static final int THREADS = Math.max(1, Integer.getInteger("jtensor.cpu.threads", Runtime.getRuntime().availableProcessors()));

    private static final ForkJoinPool POOL = THREADS == 1 ? null : new ForkJoinPool(THREADS, new Factory(), null, false);

    private Parallel() {}

    /** The body of a parallel loop: handles items [start, end). */
    @FunctionalInterface
    interface Range {
        void run(long start, long end);
    }

    /** Runs body over [0, n), split when n * costPerItem is large enough. */
    static void forRange(long n, long costPerItem, Range body) {
        forRange(n, costPerItem, 1, body);
    }

    /**
     * Runs body over [0, n) in at most {@link #THREADS} pieces whose boundaries are multiples of {@code align}
     * (for kernels that work in blocks, such as Philox's four numbers per counter).
     */
    static void forRange(long n, long costPerItem, long align, Range body) {
        if (n <= 0) return;
        long work = n * Math.max(costPerItem, 1);
        int pieces = (int) Math.min(THREADS, Math.max(1, work / MIN_WORK));
        if (pieces <= 1 || POOL == null || insidePool()) {
            body.run(0, n);
            return;
        }
        long per = (n + pieces - 1) / pieces;
        per = (per + align - 1) / align * align;
        Throwable[] failure = new Throwable[1];
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[pieces];
        int started = 0;
        for (int p = 1; p < pieces; p++) {
            long s = p * per, e = Math.min(n, s + per);
            if (s >= e) break;
            tasks[started++] = POOL.submit(() -> runCatching(body, s, e, failure));
        }
        runCatching(body, 0, Math.min(n, per), failure);
        for (int i = 0; i < started; i++) tasks[i].join();
        Throwable t = failure[0];
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }

    /** Keeps the first failure as thrown, so the caller sees the original exception and message. */
    private static void runCatching(Range body, long s, long e, Throwable[] failure) {
        try {
            body.run(s, e);
        } catch (Throwable t) {
            synchronized (failure) {
                if (failure[0] == null) failure[0] = t;
            }
        }
    }

    /** Nested parallel loops run inline: the pool's threads are already busy with the outer loop. */
    private static boolean insidePool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL;
    }

    private static final class Factory implements ForkJoinPool.ForkJoinWorkerThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("jtensor-cpu-" + count.incrementAndGet());
            return t;
        }
    }
}
