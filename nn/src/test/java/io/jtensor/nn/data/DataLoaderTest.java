package io.jtensor.nn.data;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.data.transforms.Normalize;
import io.jtensor.nn.data.transforms.RandomCrop;
import io.jtensor.nn.data.transforms.RandomHorizontalFlip;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DataLoaderTest {

    /** Example i: an image [1, 4, 4] holding i*16 + k at flat position k, and the label i (I64 scalar). */
    static final class ImageDataset implements Dataset {
        final int n;
        final long failAt;
        final AtomicInteger gets = new AtomicInteger();

        ImageDataset(int n) { this(n, -1); }

        ImageDataset(int n, long failAt) {
            this.n = n;
            this.failAt = failAt;
        }

        @Override public long size() { return n; }

        @Override public Example get(long i) {
            gets.incrementAndGet();
            Dataset.checkIndex("ImageDataset", i, n);
            if (i == failAt) throw new IllegalStateException("boom at " + i);
            float[] px = new float[16];
            for (int k = 0; k < 16; k++) px[k] = i * 16 + k;
            return Example.of(NDArray.of(px, 1, 4, 4), NDArray.scalar(i, DType.I64, Device.cpu()));
        }
    }

    /** Collates by stacking and remembers every batch it made, to check later that each was closed. */
    static final class RecordingCollate implements Collate {
        final ConcurrentLinkedQueue<Batch> made = new ConcurrentLinkedQueue<>();

        @Override public Batch apply(List<Example> examples) {
            Batch b = Collate.stack().apply(examples);
            made.add(b);
            return b;
        }

        void assertAllClosed() {
            for (Batch b : made) for (NDArray f : b.fields()) assertTrue(f.isClosed(), "a batch the loader made was left open: " + b);
        }
    }

    private static List<Thread> liveWorkers(DataLoader loader) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(loader.workerThreadName()) && t.isAlive()).toList();
    }

    /** The labels of every batch of one epoch, batch by batch. */
    private static List<long[]> labels(DataLoader loader) {
        List<long[]> out = new ArrayList<>();
        for (Batch b : loader) {
            try (b) {
                out.add(b.get(1).toLongArray());
            }
        }
        return out;
    }

    private static long[] flat(List<long[]> batches) {
        return batches.stream().flatMapToLong(Arrays::stream).toArray();
    }

    // ------------------------------------------------------------------ batching and order

    @Test
    void batchesInOrderWithAndWithoutDropLast() {
        ImageDataset ds = new ImageDataset(10);
        try (DataLoader keep = DataLoader.builder(ds).batchSize(4).build();
             DataLoader drop = DataLoader.builder(ds).batchSize(4).dropLast(true).build()) {
            assertEquals(3, keep.size());
            List<long[]> got = labels(keep);
            assertEquals(3, got.size());
            assertArrayEquals(new long[] {0, 1, 2, 3}, got.get(0));
            assertArrayEquals(new long[] {4, 5, 6, 7}, got.get(1));
            assertArrayEquals(new long[] {8, 9}, got.get(2));
            assertEquals(2, drop.size());
            assertEquals(2, labels(drop).size());

            try (Batch b = keep.iterator().next()) {
                assertArrayEquals(new long[] {4, 1, 4, 4}, b.get(0).shape());
                assertEquals(DType.F32, b.get(0).dtype());
                assertEquals(1 * 16 + 5, b.get(0).getDouble(1, 0, 1, 1), "example 1, pixel (1,1) = 16 + 5");
            }
        }
    }

    @Test
    void shuffleCoversEveryIndexIsSeededAndChangesPerEpoch() {
        ImageDataset ds = new ImageDataset(37);
        try (DataLoader a = DataLoader.builder(ds).batchSize(5).shuffle(true).seed(3).build();
             DataLoader b = DataLoader.builder(ds).batchSize(5).shuffle(true).seed(3).build();
             DataLoader c = DataLoader.builder(ds).batchSize(5).shuffle(true).seed(4).build()) {
            long[] a0 = flat(labels(a));
            long[] sorted = a0.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < 37; i++) assertEquals(i, sorted[i]);
            assertArrayEquals(a0, flat(labels(b)), "same seed, same order");
            long[] a1 = flat(labels(a));
            assertFalse(Arrays.equals(a0, a1), "the next epoch reshuffles");
            assertFalse(Arrays.equals(a0, flat(labels(c))), "another seed, another order");
            a.setEpoch(0);
            assertArrayEquals(a0, flat(labels(a)), "setEpoch(0) replays epoch 0");
            assertEquals(1, a.nextEpoch());
        }
    }

    @Test
    void workersReproduceTheSameBatchesAsTheConsumerThread() {
        ImageDataset ds = new ImageDataset(23);
        List<float[]> serial = images(ds, 0, 11), parallel = images(ds, 3, 11), otherSeed = images(ds, 3, 12);
        assertEquals(serial.size(), parallel.size());
        for (int i = 0; i < serial.size(); i++) assertArrayEquals(serial.get(i), parallel.get(i), "batch " + i);
        boolean differs = false;
        for (int i = 0; i < serial.size(); i++) differs |= !Arrays.equals(serial.get(i), otherSeed.get(i));
        assertTrue(differs, "another seed gives other augmentations");
    }

    /** Two epochs of augmented images from a loader with the given worker count and seed. */
    private static List<float[]> images(Dataset ds, int workers, long seed) {
        List<float[]> out = new ArrayList<>();
        try (DataLoader loader = DataLoader.builder(ds).batchSize(4).shuffle(true).seed(seed).numWorkers(workers).prefetch(2)
                .transform(0, new RandomCrop(4, 1)).transform(0, new RandomHorizontalFlip(0.5))
                .batchTransform(0, new Normalize(8, 2)).build()) {
            for (int epoch = 0; epoch < 2; epoch++) {
                for (Batch b : loader) {
                    try (b) {
                        out.add(b.get(0).toFloatArray());
                    }
                }
            }
        }
        return out;
    }

    @Test
    void transformsSeeEachExample() {
        ImageDataset ds = new ImageDataset(2);
        try (DataLoader loader = DataLoader.builder(ds).batchSize(2).transform(0, new RandomHorizontalFlip(1)).build();
             Batch b = loader.iterator().next()) {
            // example 0, row 0 was 0 1 2 3; flipped 3 2 1 0
            assertArrayEquals(new double[] {3, 2, 1, 0}, new double[] {b.get(0).getDouble(0, 0, 0, 0), b.get(0).getDouble(0, 0, 0, 1),
                    b.get(0).getDouble(0, 0, 0, 2), b.get(0).getDouble(0, 0, 0, 3)});
            assertEquals(16 + 7, b.get(0).getDouble(1, 0, 1, 0), "example 1, row 1 flipped starts with 16 + 7");
        }
    }

    // ------------------------------------------------------------------ workers

    @Test
    void aWorkerExceptionSurfacesOnTheConsumerThread() {
        for (int workers : new int[] {0, 2}) {
            ImageDataset ds = new ImageDataset(12, 7);
            try (DataLoader loader = DataLoader.builder(ds).batchSize(2).numWorkers(workers).build()) {
                Iterator<Batch> it = loader.iterator();
                for (int i = 0; i < 3; i++) it.next().close(); // batches [0,1], [2,3], [4,5]
                DataLoaderException e = assertThrows(DataLoaderException.class, it::next);
                assertInstanceOf(IllegalStateException.class, e.getCause());
                assertEquals("boom at 7", e.getCause().getMessage());
                assertTrue(e.getMessage().contains("batch 3"), e.getMessage());
                assertFalse(it.hasNext(), "the failed iteration is over");
                assertTrue(liveWorkers(loader).isEmpty(), "workers stopped after the failure");
            }
        }
    }

    @Test
    void prefetchingIsBounded() throws InterruptedException {
        ImageDataset ds = new ImageDataset(50);
        try (DataLoader loader = DataLoader.builder(ds).batchSize(1).numWorkers(3).prefetch(2).build()) {
            Iterator<Batch> it = loader.iterator();
            it.next().close();
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (ds.gets.get() < 3 && System.nanoTime() < deadline) Thread.sleep(5);
            Thread.sleep(150); // give over-eager workers time to show themselves
            assertEquals(3, ds.gets.get(), "one batch taken plus two prefetched");
            assertEquals(3, liveWorkers(loader).size());
        }
    }

    @Test
    void closingTheLoaderStopsWorkersAndClosesUnconsumedBatches() throws InterruptedException {
        RecordingCollate collate = new RecordingCollate();
        DataLoader loader = DataLoader.builder(new ImageDataset(40)).batchSize(2).numWorkers(2).prefetch(4).collate(collate).build();
        Iterator<Batch> it = loader.iterator();
        it.next().close();
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (collate.made.size() < 5 && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(5, collate.made.size(), "one taken and four made ahead");
        loader.close();
        assertTrue(liveWorkers(loader).isEmpty(), "no worker outlives close()");
        collate.assertAllClosed();
        assertFalse(it.hasNext());
        assertThrows(IllegalStateException.class, loader::iterator);
    }

    @Test
    void aNewIterationEndsTheAbandonedOne() throws InterruptedException {
        RecordingCollate collate = new RecordingCollate();
        try (DataLoader loader = DataLoader.builder(new ImageDataset(40)).batchSize(2).numWorkers(1).prefetch(3).collate(collate).build()) {
            DataLoader.BatchIterator first = loader.iterator();
            Batch kept = first.next();
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (collate.made.size() < 4 && System.nanoTime() < deadline) Thread.sleep(5);
            DataLoader.BatchIterator second = loader.iterator(); // abandons `first`
            assertFalse(first.hasNext());
            assertThrows(NoSuchElementException.class, first::next);
            assertEquals(1, second.epoch());
            second.close();
            assertTrue(liveWorkers(loader).isEmpty());
            assertFalse(kept.get(0).isClosed(), "a batch already handed out belongs to the consumer");
            kept.close();
            collate.assertAllClosed();
        }
    }

    @Test
    void anExhaustedIterationReleasesItsWorkers() {
        try (DataLoader loader = DataLoader.builder(new ImageDataset(9)).batchSize(2).numWorkers(2).build()) {
            assertEquals(List.of(2, 2, 2, 2, 1), labels(loader).stream().map(l -> l.length).toList());
            assertTrue(liveWorkers(loader).isEmpty());
        }
    }

    @Test
    void anUnreachableIterationIsCleanedUp() throws InterruptedException {
        RecordingCollate collate = new RecordingCollate();
        try (DataLoader loader = DataLoader.builder(new ImageDataset(40)).batchSize(2).numWorkers(2).prefetch(2).collate(collate).build()) {
            startAndDrop(loader);
            for (int i = 0; i < 100 && !liveWorkers(loader).isEmpty(); i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertTrue(liveWorkers(loader).isEmpty(), "the cleaner stopped the workers of a collected iterator");
            collate.assertAllClosed();
        }
    }

    private static void startAndDrop(DataLoader loader) {
        Iterator<Batch> it = loader.iterator();
        it.next().close();
    }

    // ------------------------------------------------------------------ devices, scopes, samplers

    @Test
    void batchesAreCopiedToTheTargetDevice() {
        try (DataLoader loader = DataLoader.builder(new ImageDataset(4)).batchSize(2).numWorkers(1).device(Device.cpu(1)).build()) {
            for (Batch b : loader) {
                try (b) {
                    assertEquals(Device.cpu(1), b.get(0).device());
                    assertEquals(Device.cpu(1), b.get(1).device());
                }
            }
        }
    }

    @Test
    void aDeliveredBatchBelongsToTheConsumersScope() {
        for (int workers : new int[] {0, 1}) {
            try (DataLoader loader = DataLoader.builder(new ImageDataset(4)).batchSize(2).numWorkers(workers).build()) {
                Iterator<Batch> it = loader.iterator();
                Batch b;
                try (MemoryScope scope = MemoryScope.open()) {
                    b = it.next();
                    assertFalse(b.get(0).isClosed());
                }
                assertTrue(b.get(0).isClosed(), "closing the scope closed the batch (workers=" + workers + ")");
                assertTrue(b.get(1).isClosed());
            }
        }
    }

    @Test
    void aKeptBatchOutlivesTheScopeWithOrWithoutWorkers() {
        for (int workers : new int[] {0, 1}) {
            try (DataLoader loader = DataLoader.builder(new ImageDataset(4)).batchSize(2).numWorkers(workers).build()) {
                Iterator<Batch> it = loader.iterator();
                Batch b;
                try (MemoryScope scope = MemoryScope.open()) {
                    b = it.next();
                    for (NDArray f : b.fields()) scope.keep(f);
                }
                assertFalse(b.get(0).isClosed(), "kept arrays survive the scope (workers=" + workers + ")");
                assertFalse(b.get(1).isClosed());
                b.close();
            }
        }
    }

    @Test
    void distributedLoadersSplitTheDataAndReshuffleEachEpoch() {
        ImageDataset ds = new ImageDataset(21);
        List<Set<Long>> epochs = new ArrayList<>();
        List<long[]> rank0Orders = new ArrayList<>();
        DataLoader[] loaders = new DataLoader[2];
        for (int r = 0; r < 2; r++) {
            loaders[r] = DataLoader.builder(ds).batchSize(4).numWorkers(r).sampler(new DistributedSampler(21, r, 2, true, 6, false)).build();
        }
        try {
            for (int epoch = 0; epoch < 2; epoch++) {
                Set<Long> union = new HashSet<>();
                for (int r = 0; r < 2; r++) {
                    long[] got = flat(labels(loaders[r]));
                    assertEquals(11, got.length, "ceil(21 / 2) each");
                    for (long l : got) union.add(l);
                    if (r == 0) rank0Orders.add(got);
                }
                assertEquals(21, union.size(), "the ranks cover the dataset");
                epochs.add(union);
            }
            assertFalse(Arrays.equals(rank0Orders.get(0), rank0Orders.get(1)), "the loader advanced the sampler's epoch");
        } finally {
            for (DataLoader l : loaders) l.close();
        }
    }

    @Test
    void rejectsConflictingOptions() {
        ImageDataset ds = new ImageDataset(3);
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(ds).shuffle(true).sampler(new SequentialSampler(3)).build());
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(ds).batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(ds).numWorkers(-1));
        try (DataLoader bad = DataLoader.builder(ds).transform(5, new RandomHorizontalFlip(1)).build()) {
            DataLoaderException e = assertThrows(DataLoaderException.class, () -> bad.iterator().next());
            assertTrue(e.getCause().getMessage().contains("field 5 but examples have 2 fields"), e.getCause().getMessage());
        }
    }
}
