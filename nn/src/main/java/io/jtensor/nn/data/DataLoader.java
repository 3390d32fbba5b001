package io.jtensor.nn.data;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.data.BatchProducer.FieldTransform;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Serves a {@link Dataset} in batches, PyTorch style:
 * <pre>{@code
 * try (DataLoader loader = DataLoader.builder(train).batchSize(128).shuffle(true).seed(42)
 *         .numWorkers(2).transform(0, new RandomCrop(28, 4)).build()) {
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         for (Batch b : loader) {
 *             try (b) { ... b.get(0) ... b.get(1) ... }
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p><b>Order and randomness.</b> Each pass (one {@link #iterator()} call) is an epoch: the loader passes its
 * epoch number to the sampler ({@link Sampler#setEpoch}) and then advances it, or the caller sets it with
 * {@link #setEpoch}. Per-example transforms get a generator derived from (seed, epoch, position in the epoch),
 * per-batch transforms one from (seed, epoch, batch number), so a seed fixes every pass exactly, with any number
 * of workers. Without an explicit seed the loader takes the default {@link Generator}'s seed at build time.
 *
 * <p><b>Workers.</b> With {@code numWorkers > 0}, that many daemon threads make up to {@code prefetch} batches
 * ahead (transforms, collation and the copy to the target {@link Builder#device device} included); an exception
 * in a worker is rethrown on the consumer's thread as a {@link DataLoaderException} when its batch is reached.
 * With 0 workers batches are made on the consumer's thread when asked for.
 *
 * <p><b>Memory.</b> The consumer owns each batch it receives and closes it; a batch is also registered with the
 * consumer thread's innermost open {@link MemoryScope}, as if created by {@code next()}. Batches made ahead but
 * never taken are closed when the iteration ends: when it is exhausted, {@linkplain BatchIterator#close() closed},
 * superseded by a new {@link #iterator()} call (one iteration at a time per loader), garbage collected, or when
 * the loader is closed.
 */
public final class DataLoader implements Iterable<Batch>, AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final Cleaner CLEANER = Cleaner.create();

    private final Dataset dataset;
    private final Sampler sampler;
    private final int batchSize;
    private final boolean dropLast;
    private final int numWorkers;
    private final int prefetch;
    private final BatchProducer producer;
    private final String threadName;
    /** Prefetchers of iterations still running: closed when a new iteration starts or the loader closes. */
    private final Set<Prefetcher> live = ConcurrentHashMap.newKeySet();

    private long nextEpoch;
    private WeakReference<BatchIterator> current = new WeakReference<>(null);
    private boolean closed;

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.dropLast = b.dropLast;
        this.numWorkers = b.numWorkers;
        this.prefetch = b.prefetch > 0 ? b.prefetch : Math.max(2 * b.numWorkers, 1);
        long seed = b.seed != null ? b.seed : Generator.defaultGenerator().seed();
        if (b.sampler != null) {
            this.sampler = b.sampler;
        } else {
            this.sampler = b.shuffle ? new RandomSampler(dataset.size(), seed) : new SequentialSampler(dataset.size());
        }
        this.producer = new BatchProducer(dataset, b.collate, b.exampleTransforms, b.batchTransforms, b.device, seed);
        this.threadName = "jtensor-data-loader-" + IDS.incrementAndGet() + "-worker";
    }

    public static Builder builder(Dataset dataset) { return new Builder(dataset); }

    public Dataset dataset() { return dataset; }
    public Sampler sampler() { return sampler; }
    public int batchSize() { return batchSize; }

    /** Batches per epoch. */
    public long size() {
        long n = sampler.length();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The epoch the next {@link #iterator()} call runs; later calls continue from it. */
    public synchronized void setEpoch(long epoch) { this.nextEpoch = epoch; }

    /** The epoch the next {@link #iterator()} call will run. */
    public synchronized long nextEpoch() { return nextEpoch; }

    /** Thread-name prefix of this loader's workers; for diagnostics and tests. */
    public String workerThreadName() { return threadName; }

    /** Starts the next epoch, ending any iteration of this loader still running. */
    @Override public synchronized BatchIterator iterator() {
        if (closed) throw new IllegalStateException("DataLoader: iterator() after close()");
        stopIterations();
        long epoch = nextEpoch++;
        sampler.setEpoch(epoch);
        List<long[]> batches = split(sampler.indices());
        BatchIterator it = new BatchIterator(batches, epoch);
        current = new WeakReference<>(it);
        return it;
    }

    /** Stops the workers and closes every batch made but not taken. Batches already handed out stay open. */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        stopIterations();
    }

    private void stopIterations() {
        BatchIterator prev = current.get();
        if (prev != null) prev.close();
        for (Prefetcher p : List.copyOf(live)) p.close(); // iterations whose iterator was already collected
    }

    private List<long[]> split(long[] order) {
        List<long[]> out = new ArrayList<>();
        for (int at = 0; at < order.length; at += batchSize) {
            int len = Math.min(batchSize, order.length - at);
            if (len < batchSize && dropLast) break;
            long[] b = new long[len];
            System.arraycopy(order, at, b, 0, len);
            out.add(b);
        }
        return out;
    }

    /**
     * The workers' batch function. Static, so that it cannot capture the iterator: the worker threads reach it,
     * and an iterator reachable from them would never be collected and cleaned.
     */
    private static IntFunction<Batch> maker(BatchProducer producer, List<long[]> batches, long epoch, int batchSize) {
        return k -> producer.produce(batches.get(k), epoch, k, (long) k * batchSize);
    }

    /** One epoch's batches, in order. Close it to stop early; it closes itself after the last batch. */
    public final class BatchIterator implements Iterator<Batch>, AutoCloseable {
        private final List<long[]> batches;
        private final long epoch;
        private final Prefetcher prefetcher;
        private final Cleaner.Cleanable cleanable;
        private int delivered;
        private volatile boolean done;

        private BatchIterator(List<long[]> batches, long epoch) {
            this.batches = batches;
            this.epoch = epoch;
            if (numWorkers > 0 && !batches.isEmpty()) {
                Prefetcher p = new Prefetcher(threadName, numWorkers, prefetch, batches.size(), maker(producer, batches, epoch, batchSize), live);
                this.prefetcher = p;
                this.cleanable = CLEANER.register(this, p::close); // must not capture this iterator
            } else {
                this.prefetcher = null;
                this.cleanable = null;
            }
        }

        /** The epoch this iteration runs. */
        public long epoch() { return epoch; }

        /** The number of batches this iteration yields in all. */
        public int batchCount() { return batches.size(); }

        private Batch produce(int k) {
            return producer.produce(batches.get(k), epoch, k, (long) k * batchSize);
        }

        @Override public boolean hasNext() { return !done && delivered < batches.size(); }

        @Override public Batch next() {
            if (done) throw new NoSuchElementException("DataLoader: this iteration was closed (a new one started, or the loader closed)");
            if (delivered >= batches.size()) throw new NoSuchElementException("DataLoader: epoch " + epoch + " has no more batches");
            Batch b;
            try {
                if (prefetcher != null) {
                    b = prefetcher.take(delivered);
                } else {
                    try {
                        b = produce(delivered);
                    } catch (RuntimeException | Error e) {
                        throw new DataLoaderException("DataLoader: failed to produce batch " + delivered + ": " + e, e);
                    }
                }
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
            delivered++;
            if (delivered == batches.size()) close(); // release the worker threads as soon as the epoch is out
            for (NDArray f : b.fields()) {
                // Exactly once in the innermost scope: without workers the arrays were made on this thread and are
                // tracked already, and a second entry would close an array the consumer had kept.
                MemoryScope.untrack(f);
                MemoryScope.track(f);
            }
            return b;
        }

        /** Stops this iteration's workers and closes the batches they made ahead. Idempotent. */
        @Override public void close() {
            done = true;
            if (cleanable != null) cleanable.clean();
        }
    }

    public static final class Builder {
        private final Dataset dataset;
        private int batchSize = 1;
        private boolean shuffle;
        private Long seed;
        private boolean dropLast;
        private Sampler sampler;
        private int numWorkers;
        private int prefetch;
        private Device device;
        private Collate collate;
        private final List<FieldTransform> exampleTransforms = new ArrayList<>();
        private final List<FieldTransform> batchTransforms = new ArrayList<>();

        private Builder(Dataset dataset) { this.dataset = Objects.requireNonNull(dataset, "dataset"); }

        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("DataLoader: expected batchSize >= 1, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** A new random order each epoch (a {@link RandomSampler} on the loader's seed). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /** Seeds the shuffle and every transform's generator. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Drops a last batch smaller than batchSize. */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Which indices each epoch visits; excludes {@link #shuffle}. */
        public Builder sampler(Sampler sampler) {
            this.sampler = Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /** Background threads making batches; 0 makes them on the consumer's thread. */
        public Builder numWorkers(int numWorkers) {
            if (numWorkers < 0) throw new IllegalArgumentException("DataLoader: expected numWorkers >= 0, got " + numWorkers);
            this.numWorkers = numWorkers;
            return this;
        }

        /** How many batches the workers may make ahead of the consumer (default 2 per worker). */
        public Builder prefetch(int batches) {
            if (batches < 1) throw new IllegalArgumentException("DataLoader: expected prefetch >= 1, got " + batches);
            this.prefetch = batches;
            return this;
        }

        /** Copies every batch to this device before handing it out (in a worker when there are workers). */
        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        /** How examples become a batch (default {@link Collate#stack()}). */
        public Builder collate(Collate collate) {
            this.collate = Objects.requireNonNull(collate, "collate");
            return this;
        }

        /** Applies {@code t} to field {@code field} of every example before collation; transforms run in the order added. */
        public Builder transform(int field, Transform t) {
            if (field < 0) throw new IllegalArgumentException("DataLoader: expected field >= 0, got " + field);
            exampleTransforms.add(new FieldTransform(field, Objects.requireNonNull(t, "transform")));
            return this;
        }

        /** Applies {@code t} to field {@code field} of every collated batch, after the per-example transforms. */
        public Builder batchTransform(int field, Transform t) {
            if (field < 0) throw new IllegalArgumentException("DataLoader: expected field >= 0, got " + field);
            batchTransforms.add(new FieldTransform(field, Objects.requireNonNull(t, "transform")));
            return this;
        }

        public DataLoader build() {
            if (sampler != null && shuffle) {
                throw new IllegalArgumentException("DataLoader: shuffle(true) and sampler(...) exclude each other; shuffle through the sampler");
            }
            return new DataLoader(this);
        }
    }
}
