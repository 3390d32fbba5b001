package io.jtensor.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The CPU backend's one thread pool (daemon threads, one per core) and the two ways work is spread over it: a range
 * cut into one piece per thread ({@link #forRange}, for elementwise ops and reductions), and a list of jobs taken
 * from a shared counter ({@link #forEach}, for GEMM tiles, images of a convolution, pooling planes), so that a core
 * slowed by other load simply takes fewer of them. The calling thread always works too. Calls made from inside the
 * pool run inline: its threads are already busy with the outer loop.
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
        if (pieces <= 1 || !available()) {
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
        rethrow(failure[0]);
    }

    /** True when a parallel run would actually use more than one thread. */
    static boolean available() {
        return POOL != null && !(Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL);
    }

    /** Runs job(0) .. job(count - 1), each exactly once, spread over the threads; rethrows the first failure. */
    static void forEach(int count, IntConsumer job) {
        if (count <= 0) return;
        if (count == 1 || !available()) {
            for (int i = 0; i < count; i++) job.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Throwable[] failure = new Throwable[1];
        Runnable worker = () -> {
            try {
                for (int i; (i = next.getAndIncrement()) < count; ) job.accept(i);
            } catch (Throwable t) {
                next.set(count); // the others stop taking jobs
                keepFirst(failure, t);
            }
        };
        int helpers = Math.min(THREADS, count) - 1;
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) tasks[h] = POOL.submit(worker);
        worker.run();
        for (ForkJoinTask<?> t : tasks) t.join();
        rethrow(failure[0]);
    }

    /** Keeps the first failure as thrown, so the caller sees the original exception and message. */
    private static void runCatching(Range body, long s, long e, Throwable[] failure) {
        try {
            body.run(s, e);
        } catch (Throwable t) {
            keepFirst(failure, t);
        }
    }

    private static void keepFirst(Throwable[] failure, Throwable t) {
        synchronized (failure) {
            if (failure[0] == null) failure[0] = t;
        }
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }

    private static final class Factory implements ForkJoinPool.ForkJoinWorkerThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("jtensor-cpu-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
