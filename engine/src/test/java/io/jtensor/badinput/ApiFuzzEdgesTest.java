package io.jtensor.badinput;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The part of {@link ApiFuzzTest} that its generator did not reach: calls racing a close on another thread, shapes
 * whose sizes are huge or whose element count overflows, integer draws over ranges anywhere in the long range,
 * saved statistics in strided layouts, and memory scopes opened and closed in random orders. Each family has its
 * own oracle written here (BigInteger element counts, the documented randint range, the contiguous result, the
 * list of scopes that must remain), seeded like ApiFuzzTest ({@code -Djtensor.fuzz.seed}).
 */
class ApiFuzzEdgesTest {
    private static final long SEED = Long.getLong("jtensor.fuzz.seed", 0x5EED_BAD1L);
    private static final Device HOME = Device.cpu(9);
    private static final long[] SIZES = {0, 1, 2, 3, 7, 1L << 20, 1L << 31, 1L << 40, (1L << 62) - 1, 1L << 62, Long.MAX_VALUE};
    private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private static long live() { return BadInput.stats(HOME).count(); }

    private static long[] randomShape(Random r) {
        long[] s = new long[1 + r.nextInt(4)];
        for (int i = 0; i < s.length; i++) s[i] = r.nextInt(3) == 0 ? SIZES[r.nextInt(SIZES.length)] : 1 + r.nextInt(3);
        return s;
    }

    /** The oracle's element count: exact, or null when it does not fit a long (the call must fail). */
    private static Long count(long[] shape) {
        BigInteger n = BigInteger.ONE;
        for (long s : shape) {
            if (s == 0) return 0L;
            n = n.multiply(BigInteger.valueOf(s));
        }
        return n.compareTo(MAX) > 0 ? null : n.longValueExact();
    }

    @Test
    void hugeAndOverflowingShapesFailNamingTheOpOrHaveExactlyTheirElementCount() {
        Random r = new Random(SEED);
        long before = live();
        for (int call = 0; call < 3000; call++) {
            long[] target = randomShape(r);
            Long n = count(target);
            int kind = r.nextInt(3);
            String op = kind == 0 ? "expand" : kind == 1 ? "zeros" : "reshape";
            try (MemoryScope scope = MemoryScope.open()) {
                NDArray result;
                try {
                    result = switch (kind) {
                        case 0 -> NDArray.ones(DType.F32, HOME, 1).expand(target);
                        case 1 -> n != null && n > 0 && n < 64 ? NDArray.zeros(DType.F32, HOME, target) : zerosIfEmpty(target, n);
                        default -> NDArray.zeros(DType.F32, HOME, 0).reshape(target);
                    };
                } catch (IllegalArgumentException e) {
                    boolean mayFail = n == null || (kind == 2 && n != 0) || (kind == 1 && n != null && n >= 64);
                    if (!mayFail) throw new AssertionError("call " + call + ": " + op + " " + Arrays.toString(target) + " failed: " + e, e);
                    assertTrue(e.getMessage().startsWith(op + ":"), "call " + call + ": " + e.getMessage());
                    continue;
                }
                if (result == null) continue; // a shape too large to allocate, not asked for
                if (n == null) fail("call " + call + ": " + op + " " + Arrays.toString(target) + " overflows a long but was accepted");
                assertEquals((long) n, result.numel(), "call " + call + ": " + op + " " + Arrays.toString(target));
                assertArrayEquals(target, result.shape());
                if (n == 0) assertEquals(0, result.exp().sum().item(), "call " + call);
            } catch (RuntimeException e) {
                if (e instanceof IllegalArgumentException) throw e;
                throw new AssertionError("call " + call + ": " + op + " " + Arrays.toString(target) + " threw " + e, e);
            }
        }
        assertEquals(before, live());
    }

    /** zeros for empty shapes and overflowing ones (which must fail); null for a large non-empty shape. */
    private static NDArray zerosIfEmpty(long[] target, Long n) {
        if (n != null && n != 0) return null;
        return NDArray.zeros(DType.F32, HOME, target);
    }

    @Test
    void integerDrawsAnywhereInTheLongRangeStayInside() {
        Random r = new Random(SEED);
        Generator g = new Generator(SEED);
        for (int call = 0; call < 400; call++) {
            long a = edgeOrRandom(r), b = edgeOrRandom(r);
            if (a == b) continue;
            long lo = Math.min(a, b), hi = Math.max(a, b);
            try (NDArray x = NDArray.randint(g, lo, hi, HOME, 64)) {
                for (long v : x.toLongArray()) assertTrue(v >= lo && v < hi, "call " + call + ": " + v + " outside [" + lo + ", " + hi + ")");
            }
        }
    }

    private static long edgeOrRandom(Random r) {
        long[] edges = {Long.MIN_VALUE, Long.MIN_VALUE + 1, -(1L << 62), -(1L << 53), -1, 0, 1, 1L << 53, (1L << 53) + 1, 1L << 62,
                Long.MAX_VALUE - 1, Long.MAX_VALUE};
        long base = edges[r.nextInt(edges.length)];
        return r.nextBoolean() ? base : base + r.nextInt(5) - 2; // wraps at the ends: still a long
    }

    @Test
    void savedStatisticsInRandomLayoutsGiveTheContiguousGradients() {
        Random r = new Random(SEED);
        for (int call = 0; call < 40; call++) {
            try (MemoryScope scope = MemoryScope.open()) {
                long n = 1 + r.nextInt(3), c = 1 + r.nextInt(4), s = 1 + r.nextInt(3);
                Generator g = new Generator(SEED + call);
                NDArray x = NDArray.randn(g, DType.F32, HOME, n, c, s), gy = NDArray.randn(g, DType.F32, HOME, n, c, s);
                NDArray[] bn = x.batchNorm(null, null, 1e-5);
                NDArray[] want = NDArray.batchNormBackward(gy, x, bn[1], bn[2], null, 1e-5, true, true, true);
                NDArray[] got = NDArray.batchNormBackward(gy, x, strided(r, bn[1]), strided(r, bn[2]), null, 1e-5, true, true, true);
                for (int k = 0; k < 3; k++) assertArrayEquals(want[k].toFloatArray(), got[k].toFloatArray(), 1e-6f, "call " + call + " batchNorm " + k);
                NDArray[] ln = x.layerNorm((int) s, null, null, 1e-5);
                NDArray[] lw = NDArray.layerNormBackward(gy, x, ln[1], ln[2], null, (int) s, true, true, true);
                NDArray[] lg = NDArray.layerNormBackward(gy, x, strided(r, ln[1]), strided(r, ln[2]), null, (int) s, true, true, true);
                for (int k = 0; k < 3; k++) assertArrayEquals(lw[k].toFloatArray(), lg[k].toFloatArray(), 1e-6f, "call " + call + " layerNorm " + k);
            }
        }
    }

    /** The same values as stat in a random layout: inside a wider array, every k-th element, reversed by a flip, F64. */
    private static NDArray strided(Random r, NDArray stat) {
        long n = stat.numel();
        int k = 1 + r.nextInt(3);
        NDArray wide = NDArray.zeros(stat.dtype(), stat.device(), n * k + 3);
        NDArray view = wide.slice(0, 3, 3 + n * k, k);
        view.copyFrom(stat);
        return r.nextBoolean() ? view : view.to(DType.F64);
    }

    @Test
    void scopesOpenedAndClosedInRandomOrdersLeaveNothingBehind() {
        Random r = new Random(SEED);
        long before = live();
        for (int round = 0; round < 300; round++) {
            List<MemoryScope> open = new ArrayList<>();
            for (int step = 0; step < 12; step++) {
                if (open.isEmpty() || r.nextInt(3) > 0) {
                    open.add(MemoryScope.open());
                    NDArray.zeros(DType.F32, HOME, 1 + r.nextInt(10));
                } else {
                    int i = r.nextInt(open.size());
                    MemoryScope s = open.get(i);
                    boolean outOfOrder = i != open.size() - 1;
                    try {
                        s.close();
                        assertFalse(outOfOrder, "round " + round + ": closing scope " + i + " of " + open.size() + " did not fail");
                    } catch (IllegalStateException e) {
                        assertTrue(outOfOrder && e.getMessage().contains("out of order"), "round " + round + ": " + e.getMessage());
                    }
                    open.subList(i, open.size()).clear(); // it and every scope opened inside it are closed now
                    assertEquals(!open.isEmpty(), MemoryScope.active(), "round " + round);
                }
            }
            if (!open.isEmpty()) {
                try {
                    open.get(0).close();
                } catch (IllegalStateException e) {
                    assertTrue(open.size() > 1 && e.getMessage().contains("out of order"), e.getMessage());
                }
            }
            assertFalse(MemoryScope.active(), "round " + round + " left a scope open");
            assertEquals(before, live(), "round " + round + " left arrays allocated");
        }
    }

    @Test
    void opsRacingACloseOnAnotherThreadFailCleanlyOrSucceed() throws Exception {
        Random r = new Random(SEED);
        List<Function<NDArray, Object>> ops = List.of(NDArray::exp, NDArray::sum, x -> x.add(x), x -> x.mul(2.0), NDArray::copy,
                x -> x.reshape(-1), x -> x.narrow(0, 1, 2), x -> x.mean(), x -> x.softmax(0), x -> x.toFloatArray(), x -> x.max(0, false),
                x -> x.to(DType.F64), x -> x.std(0, false), x -> x.sub(1.0), x -> x.contiguous(), x -> x.expand(2, x.numel()));
        long before = live();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            for (int call = 0; call < 300; call++) {
                Function<NDArray, Object> op = ops.get(r.nextInt(ops.size()));
                NDArray x = NDArray.full(1.5, DType.F32, HOME, 4 + r.nextInt(1 << 16));
                Future<Object> f = pool.submit(() -> {
                    try {
                        Object out = op.apply(x);
                        if (out instanceof AutoCloseable c) c.close();
                        return null;
                    } catch (IllegalStateException e) {
                        return e.getMessage().contains("closed") ? null : e;
                    } catch (Throwable t) {
                        return t;
                    }
                });
                if (r.nextBoolean()) Thread.onSpinWait();
                x.close();
                Object problem;
                try {
                    problem = f.get(30, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    throw new AssertionError("call " + call + ": the op thread stalled", e);
                }
                if (problem != null) throw new AssertionError("call " + call + ": " + problem, (Throwable) problem);
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS), "the op thread did not stop");
        }
        assertEquals(before, live(), "an array was left allocated (or a block freed twice)");
    }
}
