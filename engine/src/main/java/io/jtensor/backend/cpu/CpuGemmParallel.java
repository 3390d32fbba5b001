package io.jtensor.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs the jobs of a GEMM or convolution on all cores. The calling thread works too, and jobs are taken from a
 * shared counter, so a core slowed by other load simply takes fewer of them. The pool's threads are daemons.
 * Calls made from inside the pool (a convolution's per-image GEMMs) run inline.
 */
final class CpuGemmParallel {
    static final int THREADS = Math.max(1, Integer.getInteger("jtensor.cpu.threads", Runtime.getRuntime().availableProcessors()));

    private static final ForkJoinPool POOL = THREADS == 1 ? null
            : new ForkJoinPool(THREADS, pool -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("jtensor-gemm-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private CpuGemmParallel() {}

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
                synchronized (failure) {
                    if (failure[0] == null) failure[0] = t;
                }
            }
        };
        int helpers = Math.min(THREADS, count) - 1;
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) tasks[h] = POOL.submit(worker);
        worker.run();
        for (ForkJoinTask<?> t : tasks) t.join();
        Throwable t = failure[0];
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }
}
