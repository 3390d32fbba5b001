package io.jtensor.badinput;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * One thread closes an array while another thread's op reads it. The op holds the storage while it runs, so the
 * close only drops the caller's reference: the op either fails naming "closed" (when the close came first) or
 * finishes with the right value, and the block is freed once, after both. Without the hold a 64 MB block went back
 * to libc mid-kernel and the JVM died (SIGSEGV); with the CPU block cache on, a freed block reused by the next round
 * would instead give wrong values, which the value check catches.
 */
class ConcurrentCloseTest {
    /** A device of its own, so that the allocation count shows exactly what this test leaves. */
    private static final Device HOME = Device.cpu(7);

    @Test
    void closingWhileAnotherThreadComputesNeverFreesTheBlockUnderIt() throws Exception {
        long before = BadInput.stats(HOME).count();
        List<Function<NDArray, NDArray>> ops = List.of(x -> x.pow(2.5), NDArray::exp, NDArray::sum, x -> x.mul(3.0), NDArray::copy,
                x -> x.div(2.0), x -> x.add(x), x -> x.to(DType.F64), x -> x.softmax(0), x -> { try (NDArray v = x.reshape(-1, 2)) { return v.mean(1, false); } });
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < ops.size() * 2; round++) {
                Function<NDArray, NDArray> op = ops.get(round % ops.size());
                NDArray x = NDArray.full(2, DType.F32, HOME, 1L << 24); // 64 MB
                CountDownLatch started = new CountDownLatch(1);
                Future<Object> computing = pool.submit(() -> {
                    started.countDown();
                    try (NDArray r = op.apply(x)) {
                        return r.numel() > 1 ? r.getDouble(r.numel() - 1) : r.item();
                    } catch (IllegalStateException e) {
                        return e;
                    }
                });
                if (!started.await(30, TimeUnit.SECONDS)) fail("round " + round + ": the computing thread never started");
                Thread.sleep(round % 3); // close before, during or after the kernel
                x.close();
                Object result;
                try {
                    result = computing.get(60, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    computing.cancel(true);
                    throw new AssertionError("round " + round + ": the computing thread stalled", e);
                }
                if (result instanceof IllegalStateException e) {
                    assertTrue(e.getMessage().contains("closed"), "round " + round + ": " + e.getMessage());
                } else {
                    double v = (Double) result;
                    assertTrue(Double.isFinite(v) && v != 0, "round " + round + ": a value read from freed memory? " + v);
                }
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the computing thread did not stop");
        }
        assertEquals(before, BadInput.stats(HOME).count(), "a block was left allocated (or freed twice)");
    }

    /**
     * The block of an array closed while an op reads it stays allocated until the op is done. (With the CPU block
     * cache a block freed under a running kernel is not returned to libc, so the values alone cannot show the fault;
     * the allocation count can: without the hold it drops at the close, while the kernel still reads the block.)
     */
    @Test
    void aClosedInputStaysAllocatedWhileTheOpRuns() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            int observed = 0;
            for (int round = 0; round < 6 && observed < 2; round++) {
                long before = BadInput.stats(HOME).count();
                NDArray x = NDArray.full(2, DType.F32, HOME, 1L << 25); // 128 MB: pow takes long enough to be caught running
                CountDownLatch started = new CountDownLatch(1);
                Future<Double> f = pool.submit(() -> {
                    started.countDown();
                    try (NDArray r = x.pow(2.5)) {
                        return r.getDouble(0);
                    }
                });
                assertTrue(started.await(30, TimeUnit.SECONDS), "round " + round + ": the op thread never started");
                Thread.sleep(30); // the op allocates its output, then runs its kernel
                x.close();
                long during = BadInput.stats(HOME).count();
                boolean stillRunning = !f.isDone();
                if (stillRunning) {
                    observed++;
                    assertEquals(before + 2, during, "round " + round + ": the input's block was freed while the op was still reading it");
                }
                assertEquals(Math.pow(2, 2.5), f.get(60, TimeUnit.SECONDS), 1e-5, "round " + round);
                assertEquals(before, BadInput.stats(HOME).count(), "round " + round + ": the op's release did not free the block");
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the op thread did not stop");
        }
    }

    @Test
    void twoThreadsClosingOneArrayReleaseItsReferenceOnce() throws Exception {
        long before = BadInput.stats(HOME).count();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 200; round++) {
                NDArray x = NDArray.full(1, DType.F32, HOME, 8);
                NDArray view = x.reshape(2, 4); // shares the block: a double release would free it under the view
                CountDownLatch go = new CountDownLatch(1);
                Future<?> a = pool.submit(() -> { go.await(); x.close(); return null; });
                Future<?> b = pool.submit(() -> { go.await(); x.close(); return null; });
                go.countDown();
                a.get(30, TimeUnit.SECONDS);
                b.get(30, TimeUnit.SECONDS);
                assertTrue(!view.isClosed(), "round " + round + ": the view lost its storage");
                try (NDArray sum = view.sum()) {
                    assertEquals(8.0, sum.item(), "round " + round);
                }
                view.close();
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        }
        assertEquals(before, BadInput.stats(HOME).count(), "a block was left allocated");
    }
}
