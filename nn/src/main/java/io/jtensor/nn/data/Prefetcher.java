package io.jtensor.nn.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Worker threads that produce batches 0..count-1 ahead of the consumer. Workers claim batch numbers in order; a
 * semaphore with {@code prefetch} permits bounds how many batches are claimed but not yet taken, so memory stays
 * bounded however slow the consumer is. Each batch lands in its own future, and the consumer takes them in
 * order, so the sequence is the same whichever worker made which batch.
 *
 * <p>Closing stops the workers (without interrupting them: an interrupt would close a dataset's file channels),
 * waits for them, and closes every batch made but never taken. Holds no reference to the iterator that uses it,
 * so that a {@link java.lang.ref.Cleaner} can close it when an abandoned iterator becomes unreachable.
 */
final class Prefetcher {
    private final int count;
    private final IntFunction<Batch> producer;
    private final Semaphore permits;
    private final AtomicInteger nextClaim = new AtomicInteger();
    private final ConcurrentHashMap<Integer, CompletableFuture<Batch>> slots = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Set<Prefetcher> registry;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set on close or after a failure: workers claim no more batches. */
    private volatile boolean stopping;

    Prefetcher(String threadName, int workers, int prefetch, int count, IntFunction<Batch> producer, Set<Prefetcher> registry) {
        this.count = count;
        this.producer = producer;
        this.permits = new Semaphore(prefetch);
        this.registry = registry;
        registry.add(this);
        for (int i = 0; i < workers; i++) {
            threads.add(Thread.ofPlatform().name(threadName + "-" + i).daemon().unstarted(this::work));
        }
        threads.forEach(Thread::start);
    }

    private CompletableFuture<Batch> slot(int k) { return slots.computeIfAbsent(k, x -> new CompletableFuture<>()); }

    private void work() {
        while (!stopping) {
            try {
                permits.acquire();
            } catch (InterruptedException e) {
                return;
            }
            if (stopping) return;
            int k = nextClaim.getAndIncrement();
            if (k >= count) {
                permits.release(); // let the other workers see the end too
                return;
            }
            CompletableFuture<Batch> f = slot(k);
            try {
                f.complete(producer.apply(k));
            } catch (Throwable t) {
                f.completeExceptionally(t);
                stopping = true; // the consumer will stop at this batch; making later ones is wasted work
                return;
            }
        }
    }

    /** Waits for batch k (batches must be taken in order 0, 1, ...) and hands it over. */
    Batch take(int k) {
        if (closed.get()) throw new DataLoaderException("DataLoader: the loader was closed", null);
        CompletableFuture<Batch> f = slot(k);
        if (closed.get()) throw new DataLoaderException("DataLoader: the loader was closed", null); // raced with close()
        Batch b;
        try {
            b = f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new DataLoaderException("DataLoader: a worker failed to produce batch " + k + ": " + cause, cause);
        } catch (CancellationException e) {
            throw new DataLoaderException("DataLoader: the loader was closed while waiting for batch " + k, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataLoaderException("DataLoader: interrupted while waiting for batch " + k, e);
        }
        if (!slots.remove(k, f)) {
            // close() on another thread claimed this slot first and closes the batch; it is not ours to return
            throw new DataLoaderException("DataLoader: the loader was closed while batch " + k + " was handed over", null);
        }
        permits.release();
        return b;
    }

    /** Stops and joins the workers and closes every batch they made that was not taken. Idempotent. */
    void close() {
        if (!closed.compareAndSet(false, true)) return;
        stopping = true;
        permits.release(threads.size()); // wake workers blocked on a permit
        boolean interrupted = false;
        for (Thread t : threads) {
            if (t == Thread.currentThread()) continue;
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // finish joining: returning early would leak the thread and its batch
                }
            }
        }
        // Removing each slot before acting on it decides, against a concurrent take(), who owns its batch.
        for (Integer k : List.copyOf(slots.keySet())) {
            CompletableFuture<Batch> f = slots.remove(k);
            if (f == null) continue;
            if (!f.isDone()) {
                f.cancel(false); // wakes a consumer blocked in take() on another thread
            } else if (!f.isCompletedExceptionally()) {
                f.join().close();
            }
        }
        registry.remove(this);
        if (interrupted) Thread.currentThread().interrupt();
    }

    boolean isClosed() { return closed.get(); }

    List<Thread> threads() { return List.copyOf(threads); }
}
