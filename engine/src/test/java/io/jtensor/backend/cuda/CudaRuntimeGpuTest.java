package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import org.junit.jupiter.api.Test;

/** Streams, events, transfers, the caching allocator and device errors on a real GPU. */
class CudaRuntimeGpuTest {
    @Test
    void transfersRoundTripHeapAndNativeMemory() {
        Device g = gpu();
        float[] v = new float[(int) (PinnedPool.CHUNK / 4 * 2 + 17)];  // more than two staging chunks
        for (int i = 0; i < v.length; i++) v[i] = i * 0.5f - 3;
        try (NDArray c = NDArray.of(v, v.length); NDArray d = c.to(g)) {
            float[] back = d.toFloatArray();
            assertEquals(v.length, back.length);
            for (int i = 0; i < v.length; i += 9973) assertEquals(v[i], back[i], "element " + i);
            assertEquals(v[v.length - 1], back[v.length - 1]);
            try (NDArray host = d.to(Device.cpu())) {  // native destination: direct DMA
                assertClose("native round trip", c, host, 0, 0);
            }
        }
    }

    @Test
    void streamsEventsAndTheCurrentStream() {
        Device g = gpu();
        CudaStream def = CudaStreams.current(g);
        assertSame(CudaStreams.defaultStream(g), def);
        try (CudaStream s = CudaStream.create(g)) {
            NDArray r;
            CudaEvent start, end;
            try (var use = CudaStreams.use(s)) {
                assertSame(s, CudaStreams.current(g));
                start = s.record();
                try (NDArray a = NDArray.rand(new Generator(5), DType.F32, g, 1 << 20); NDArray b = a.mul(2)) {
                    r = b.sum();
                }
                end = s.record();
                s.synchronize();
                assertTrue(s.query());
            }
            assertSame(def, CudaStreams.current(g), "the scope restores the previous stream");
            float ms = start.elapsedMillis(end);
            assertTrue(ms >= 0 && ms < 10_000, "elapsed " + ms);
            // the default stream waits for s before reading the result
            def.waitFor(s);
            try (r) {
                assertTrue(Math.abs(r.item() - (1 << 20)) < 3000, "sum of 2*U(0,1) over 2^20: " + r.item());
            }
            start.close();
            end.close();
        }
    }

    @Test
    void memoryStaysFlatOverManySteps() {
        Device g = gpu();
        MemoryStats stats = Backends.cuda().memoryStats(g);
        try (NDArray w = NDArray.randn(new Generator(1), DType.F32, g, 256, 256)) {
            long before = stats.allocated();
            long reservedAfterFirst = -1;
            for (int step = 0; step < 200; step++) {
                try (var scope = MemoryScope.open()) {
                    NDArray x = NDArray.randn(new Generator(step), DType.F32, g, 64, 256);
                    NDArray y = x.matmul(w).relu().softmax(1);
                    NDArray loss = y.mul(y).sum();
                    loss.item();
                }
                assertEquals(before, stats.allocated(), "live bytes after step " + step);
                if (step == 0) reservedAfterFirst = stats.reserved();
            }
            assertEquals(reservedAfterFirst, stats.reserved(), "the cache serves every later step");
        }
    }

    @Test
    void outOfMemoryIsAJavaErrorAndTheDeviceKeepsWorking() {
        Device g = gpu();
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> NDArray.empty(DType.F32, g, 1L << 40));
        assertTrue(e.getMessage().startsWith("CUDA out of memory on cuda:0"), e.getMessage());
        try (NDArray a = NDArray.ones(DType.F32, g, 3); NDArray b = a.add(1)) {
            assertClose("after OOM", NDArray.full(2, DType.F32, Device.cpu(), 3), b, 0, 0);
        }
    }

    @Test
    void emptyCacheReturnsFreeSegments() {
        Device g = gpu();
        MemoryStats stats = Backends.cuda().memoryStats(g);
        try (NDArray big = NDArray.zeros(DType.F32, g, 64L << 20)) {
            assertTrue(stats.reserved() >= 256L << 20);
        }
        long cached = Backends.cuda().cachedBytes(g);
        assertTrue(cached >= 256L << 20, "freed block is cached: " + cached);
        Backends.cuda().emptyCache();
        assertTrue(Backends.cuda().cachedBytes(g) < cached);
    }

    @Test
    void anotherDeviceIndexIsRejectedClearly() {
        gpu();
        int n = Backends.cuda().deviceCount();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.cuda(n));
        assertTrue(e.getMessage().startsWith("Device.cuda(" + n + "): this machine has " + n + " CUDA device(s)"), e.getMessage());
        assertNotSame(null, Backends.cuda().describe(Device.cuda(0)));
    }
}
