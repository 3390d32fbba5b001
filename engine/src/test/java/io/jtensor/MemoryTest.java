package io.jtensor;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import org.junit.jupiter.api.Test;

/**
 * Lifetime and accounting. Each test works on its own logical CPU device, so arrays that other tests leave to the
 * garbage collector cannot move these counters.
 */
class MemoryTest {
    private static MemoryStats stats(Device d) { return Backends.of(d).allocator().stats(d); }

    @Test
    void closeReturnsMemoryAndViewsKeepStorageAlive() {
        Device d = Device.cpu(5);
        MemoryStats st = stats(d);
        long before = st.allocated(), count = st.count();
        NDArray a = NDArray.zeros(DType.F32, d, 1000);
        assertEquals(before + 4000, st.allocated());
        assertEquals(count + 1, st.count());
        NDArray v = a.narrow(0, 10, 5);
        assertSame(a.storage(), v.storage());
        v.fill(7);
        assertEquals(7, a.getDouble(12));
        a.close();
        assertEquals(before + 4000, st.allocated(), "a live view keeps the storage");
        assertEquals(7, v.getDouble(2), "and stays readable");
        v.close();
        assertEquals(before, st.allocated());
        assertEquals(count, st.count());
        assertTrue(st.peak() >= before + 4000);
    }

    @Test
    void logicalDevicesKeepSeparateAccounts() {
        Device d6 = Device.cpu(6), d7 = Device.cpu(7);
        long b6 = stats(d6).allocated(), b7 = stats(d7).allocated();
        try (NDArray a = NDArray.ones(DType.F64, d6, 100); NDArray b = a.to(d7)) {
            assertEquals(b6 + 800, stats(d6).allocated());
            assertEquals(b7 + 800, stats(d7).allocated());
            assertEquals(d7, b.device());
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
            try (NDArray c = a.to(d6)) {
                assertSame(a.storage(), c.storage(), "to() the same device shares");
            }
        }
        assertEquals(b6, stats(d6).allocated());
        assertEquals(b7, stats(d7).allocated());
    }

    @Test
    void memoryScopeClosesWhatItCreatedExceptKept() {
        Device d = Device.cpu(8);
        MemoryStats st = stats(d);
        long before = st.allocated();
        NDArray kept, dropped, outerKept;
        try (MemoryScope outer = MemoryScope.open()) {
            try (MemoryScope scope = MemoryScope.open()) {
                NDArray a = NDArray.ones(DType.F32, d, 10);
                NDArray b = a.add(a);
                dropped = b.mul(3);
                kept = scope.keep(b.mul(2));
                assertTrue(st.allocated() > before + 40 * 3);
            }
            assertTrue(dropped.isClosed());
            assertFalse(kept.isClosed());
            assertEquals(before + 40, st.allocated(), "only the kept array is left");
            assertArrayEquals(new float[] {4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, kept.toFloatArray());
            outerKept = NDArray.zeros(DType.F32, d, 2).keep();
        }
        assertTrue(kept.isClosed(), "keep() moves an array to the enclosing scope, which closes it");
        assertFalse(outerKept.isClosed(), "NDArray.keep() detaches from every scope");
        outerKept.close();
        assertEquals(before, st.allocated());
    }

    private static void closeAll(Object r) {
        if (r instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        } else if (r instanceof java.util.List<?> l) {
            l.forEach(MemoryTest::closeAll);
        }
    }

    @Test
    void opsLeaveNothingBehind() {
        // Outside any MemoryScope, so that an intermediate an op forgets to close shows up in the count.
        Device d = Device.cpu(10);
        MemoryStats st = stats(d);
        Generator g = new Generator(1);
        try (NDArray a = NDArray.rand(g, DType.F32, d, 4, 6); NDArray idx = NDArray.randint(g, 0, 4, d, 2, 6);
             NDArray ones = NDArray.ones(DType.F32, d, 2, 6); NDArray cols = NDArray.arange(0, 3, 1, DType.I64, d);
             NDArray zero = NDArray.zeros(DType.F32, d, 1); NDArray mask = a.gt(0.5); NDArray y = a.softmax(1);
             NDArray c = NDArray.zeros(DType.F32, d, 4, 6)) {
            long before = st.allocated();
            java.util.Map<String, java.util.function.Supplier<Object>> ops = new java.util.LinkedHashMap<>();
            ops.put("add", () -> a.add(a));
            ops.put("scalars", () -> java.util.List.of(a.mul(2.5), a.sub(1), a.div(3), a.rdiv(1), a.rsub(2), a.pow(2), a.lt(0.5), a.eq(a)));
            ops.put("sums", () -> java.util.List.of(a.sum(), a.sum(new int[] {0, 1}, true), a.mean(1, false), a.var(0, true), a.std(1, false)));
            ops.put("norms", () -> java.util.List.of(a.norm(), a.norm(3, new int[] {1}, false), a.norm(Double.POSITIVE_INFINITY, new int[] {0}, true)));
            ops.put("extremes", () -> java.util.List.of(a.max(1, true), a.min(0, false), a.argmin(0, false), a.logsumexp(1, false), a.any(), a.max()));
            ops.put("softmax", () -> java.util.List.of(a.softmax(1), a.logSoftmax(0), NDArray.softmaxBackward(y, a, 1, false)));
            ops.put("softmaxRepack", () -> {
                try (NDArray big = NDArray.rand(g, DType.F32, d, 100, 80); NDArray t = big.t()) {
                    return t.softmax(1); // large and strided: repacked through scratch memory
                }
            });
            ops.put("host", () -> java.util.List.of(a.toFloatArray(), a.toDoubleArray(), a.toLongArray(), a.toIntArray(), a.toBooleanArray(),
                    a.getDouble(1, 2), a.toString(), a.toBytes()));
            ops.put("layout", () -> {
                try (NDArray t = a.t(); NDArray h = a.to(DType.F16); NDArray other = a.to(Device.cpu(11))) {
                    return java.util.List.of(t.contiguous(), t.reshape(24), h.to(DType.F32), other.to(d), a.flatten(0, 1));
                }
            });
            ops.put("join", () -> java.util.List.of(NDArray.cat(java.util.List.of(a, a), 0), NDArray.stack(java.util.List.of(a, a), 1), a.split(2, 1), a.chunk(3, 0)));
            ops.put("index", () -> java.util.List.of(a.gather(0, idx), a.scatterAdd(0, idx, ones), a.indexSelect(1, cols), a.embedding(cols), idx.oneHot(4)));
            ops.put("factories", () -> java.util.List.of(NDArray.eye(3, DType.F32, d), NDArray.arange(0, 5, 1, DType.F16, d),
                    NDArray.bernoulli(g, 0.5, DType.F32, d, 5), NDArray.dropoutMask(g, 0.5, DType.F32, d, 5), NDArray.randint(g, 0, 3, d, 4)));
            ops.put("unary", () -> java.util.List.of(NDArray.where(mask, a, zero), a.clamp(0.2, 0.8), a.gelu(), a.relu(), idx.exp(), idx.isnan()));
            ops.put("inPlace", () -> c.copyFrom(a).addInPlace(a).addInPlace(a, 0.5).mulInPlace(2).mulInPlace(a).subInPlace(a).divInPlace(a).addInPlace(1.0).fill(0));
            for (var e : ops.entrySet()) {
                Object r = e.getValue().get();
                if (r != c) closeAll(r);
                assertEquals(before, st.allocated(), e.getKey() + " left memory behind");
            }
        }
    }

    @Test
    void useAfterCloseThrowsNamingTheOp() {
        NDArray a = NDArray.ones(3);
        NDArray b = NDArray.ones(3);
        a.close();
        IllegalStateException add = assertThrows(IllegalStateException.class, () -> b.add(a));
        assertTrue(add.getMessage().startsWith("add") && add.getMessage().contains("closed"), add.getMessage());
        IllegalStateException sum = assertThrows(IllegalStateException.class, a::sum);
        assertTrue(sum.getMessage().startsWith("sum"), sum.getMessage());
        IllegalStateException exp = assertThrows(IllegalStateException.class, a::exp);
        assertTrue(exp.getMessage().contains("closed"), exp.getMessage());
        a.close(); // closing twice is harmless
        b.close();
    }

    @Test
    void failedAllocationNamesTheBytes() {
        Device d = Device.cpu(9);
        long before = stats(d).allocated();
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> NDArray.empty(DType.F32, d, 1L << 50));
        assertTrue(e.getMessage().contains(Long.toString(4L << 50)) && e.getMessage().contains("cpu:9"), e.getMessage());
        assertEquals(before, stats(d).allocated());
    }

    @Test
    void largeBlocksAreCachedReusedAndReleased() {
        Device d = Device.cpu(12);
        MemoryStats st = stats(d);
        long before = st.allocated();
        long first;
        try (NDArray big = NDArray.empty(DType.F32, d, 2 << 20)) { // 8 MiB
            first = big.storage().address();
            assertEquals(0, first % (2 << 20), "large blocks are huge-page aligned");
        }
        assertEquals(before, st.allocated());
        assertTrue(st.reserved() >= before + (8 << 20), "the freed block stays reserved in the cache: " + st);
        try (NDArray again = NDArray.empty(DType.F32, d, 2 << 20)) {
            assertEquals(first, again.storage().address(), "a same-size request reuses the cached block");
            assertEquals(before + (8 << 20), st.allocated());
        }
        Backends.of(d).emptyCache();
        assertEquals(st.allocated(), st.reserved(), "emptyCache gives cached blocks back: " + st);
    }

    @Test
    void allocationIsAlignedAndZeroSizedArraysWork() {
        try (NDArray a = NDArray.empty(DType.U8, 3); NDArray b = NDArray.empty(DType.F64, 0); NDArray c = NDArray.empty(DType.F32, 1)) {
            assertEquals(0, a.storage().address() % 64);
            assertEquals(0, c.storage().address() % 64);
            assertEquals(0, b.numel());
        }
    }

    @Test
    void tinyOpsStayCheap() {
        // Not a benchmark: a loose bound that catches accidental per-op work such as thread hand-offs or big buffers.
        try (NDArray a = NDArray.ones(4); NDArray b = NDArray.ones(4)) {
            for (int i = 0; i < 20_000; i++) a.add(b).close();
            long t0 = System.nanoTime();
            int n = 20_000;
            for (int i = 0; i < n; i++) a.add(b).close();
            double micros = (System.nanoTime() - t0) / 1e3 / n;
            assertTrue(micros < 50, "a 4-element add took " + micros + " us");
        }
    }
}
