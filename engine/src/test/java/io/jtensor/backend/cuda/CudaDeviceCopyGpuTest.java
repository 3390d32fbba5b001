package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertSameBytes;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.DeviceCopyTest;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.backend.cuda.CudaBackend.CopyRoute;
import io.jtensor.memory.MemoryStats;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Copies between CUDA devices (NDArray.to -> CudaBackend.copyBetweenDevices): values against the CPU source, stream
 * ordering on both sides, and memory accounting.
 *
 * <p>Most tests need two logical devices on one GPU: a JVM started with -Djtensor.cuda.logicalDevices=2
 * (scripts/gpu/run-on-gpu.sh runs this class in one, next to CudaLogicalDevicesGpuTest). There, every route is
 * forced in turn, since a peer copy and a staged copy also work within one context; so one GPU checks all three
 * paths. The two-GPU test needs two physical GPUs and no logical devices. Each test says which it lacks when skipped.
 *
 * <p>The ordering tests catch a missing fence only when launches are asynchronous: run-on-gpu.sh sets
 * CUDA_LAUNCH_BLOCKING=1 by default (JTENSOR_LAUNCH_BLOCKING=0 turns that off), under which every kernel has finished
 * before the copy is queued and they check values only.
 */
class CudaDeviceCopyGpuTest {
    /** Elements of the ordering tests' array (128 MiB of F32): each add takes ~60 us of GPU time on an H100/H200. */
    private static final long ORDERING_ELEMENTS = 32L << 20;
    /** Adds queued before the copy: ~13 ms of GPU work, several times what the host needs to queue them. */
    private static final int ADDS = 200;

    /** cuda:0 and cuda:1 as two logical devices of one GPU, or a skip that says so. */
    private static void logicalDevices() {
        gpu();
        assumeTrue(Integer.getInteger(CudaBackend.LOGICAL_DEVICES_PROPERTY, 0) >= 2,
                "needs a CUDA GPU split into logical devices: -D" + CudaBackend.LOGICAL_DEVICES_PROPERTY + "=2");
    }

    private static MemoryStats stats(Device d) { return Backends.cuda().memoryStats(d); }

    static Stream<Arguments> dtypesAndLayouts() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType t : new DType[] {DType.F32, DType.F16, DType.I64}) {
            b.add(Arguments.of(t, "contiguous", (Function<NDArray, NDArray>) NDArray::share));
            b.add(Arguments.of(t, "contiguous at an offset", (Function<NDArray, NDArray>) a -> a.narrow(0, 3, 500)));
            b.add(Arguments.of(t, "transposed", (Function<NDArray, NDArray>) a -> a.transpose(0, 1)));
            b.add(Arguments.of(t, "every other column", (Function<NDArray, NDArray>) a -> a.slice(1, 1, 777, 2)));
        }
        return b.build();
    }

    /** NDArray.to from cuda:0 to cuda:1 and back, of a source view on cuda:0, against the same view on the CPU. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dtypesAndLayouts")
    void toCopiesEveryLayoutBetweenLogicalDevices(DType t, String layout, Function<NDArray, NDArray> view) {
        logicalDevices();
        Device d0 = Device.cuda(0), d1 = Device.cuda(1);
        assertEquals(CopyRoute.SAME_CONTEXT, Backends.cuda().copyRoute(d0, d1), "logical devices share their GPU's context");
        long a0 = stats(d0).allocated(), a1 = stats(d1).allocated();
        try (NDArray host = DeviceCopyTest.hostValues(t, 1000, 777); NDArray onD0 = host.to(d0); NDArray src = view.apply(onD0);
             NDArray ref = view.apply(host); NDArray got = src.to(d1); NDArray back = got.to(d0)) {
            assertEquals(d1, got.device());
            assertEquals(d0, back.device());
            assertSameBytes(layout + " on " + d1, ref, got);
            assertSameBytes(layout + " back on " + d0, ref, back);
        }
        assertEquals(a0, stats(d0).allocated(), "cuda:0 is flat after closing");
        assertEquals(a1, stats(d1).allocated(), "cuda:1 is flat after closing");
    }

    static Stream<Arguments> routesAndDtypes() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (CopyRoute r : CopyRoute.values()) {
            for (DType t : new DType[] {DType.F32, DType.F16, DType.I64}) b.add(Arguments.of(r, t));
        }
        return b.build();
    }

    /**
     * Every route between logical devices, over more bytes than the staging buffers hold together (I64: six 8 MiB
     * chunks through four buffers, so buffers are reused mid-copy), into a poisoned target.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("routesAndDtypes")
    void everyRouteCopiesTheBytes(CopyRoute route, DType t) {
        logicalDevices();
        Device d0 = Device.cuda(0), d1 = Device.cuda(1);
        long n = 3 * PinnedPool.CHUNK / 4 + 123;
        long a0 = stats(d0).allocated(), a1 = stats(d1).allocated();
        try (NDArray host = DeviceCopyTest.hostValues(t, n); NDArray src = host.to(d0); NDArray dst = NDArray.full(-1, t, d1, n)) {
            Backends.cuda().copyBetweenDevices(src, dst, route);
            assertSameBytes(route + " " + t, host, dst);
        }
        assertEquals(a0, stats(d0).allocated(), "cuda:0 is flat after closing");
        assertEquals(a1, stats(d1).allocated(), "cuda:1 is flat after closing");
    }

    /** The stream fences of every route, between logical devices of one GPU. */
    @ParameterizedTest
    @MethodSource("routes")
    void copiesAreOrderedOnBothDevices(CopyRoute route) {
        logicalDevices();
        assertOrdered(Device.cuda(0), Device.cuda(1), route);
    }

    static Stream<CopyRoute> routes() { return Stream.of(CopyRoute.values()); }

    @Test
    void twoGpusCopyPeerToPeerOrThroughPinnedMemory() {
        gpu();
        CudaBackend cuda = Backends.cuda();
        boolean logical = Integer.getInteger(CudaBackend.LOGICAL_DEVICES_PROPERTY, 0) > 0;
        assumeTrue(!logical && cuda.deviceCount() >= 2, "needs two CUDA GPUs (this JVM has "
                + (logical ? "logical devices on one GPU" : cuda.deviceCount() + " GPU") + ")");
        Device d0 = Device.cuda(0), d1 = Device.cuda(1);
        CopyRoute route = cuda.copyRoute(d0, d1);
        assertNotEquals(CopyRoute.SAME_CONTEXT, route, "two GPUs have two contexts");
        assertEquals(route, cuda.copyRoute(d1, d0), "peer access is enabled both ways or not at all");
        long a0 = stats(d0).allocated(), a1 = stats(d1).allocated();
        for (DType t : new DType[] {DType.F32, DType.F16, DType.I64}) {
            try (NDArray host = DeviceCopyTest.hostValues(t, 1000, 777); NDArray onD0 = host.to(d0); NDArray view = onD0.transpose(0, 1);
                 NDArray ref = host.transpose(0, 1); NDArray got = view.to(d1); NDArray back = got.to(d0)) {
                assertSameBytes(route + " " + t + " to " + d1, ref, got);
                assertSameBytes(route + " " + t + " back to " + d0, ref, back);
            }
        }
        assertOrdered(d0, d1, route);
        assertOrdered(d1, d0, route);
        if (route == CopyRoute.PEER) assertOrdered(d0, d1, CopyRoute.STAGED);  // the fallback works between these GPUs too
        assertEquals(a0, stats(d0).allocated(), "cuda:0 is flat after closing");
        assertEquals(a1, stats(d1).allocated(), "cuda:1 is flat after closing");
    }

    /**
     * Queues ADDS additions of 1 to a large zeroed array on from, copies it along route into a target on to that
     * was filled with -1 just before (on to's stream), closes the source and at once fills a new array of its size on
     * from with -7 (the caching allocator hands it the source's block, on the same stream), then reads the target back
     * on to. Every element must be exactly ADDS:
     * <ul>
     *   <li>a copy that did not wait for from's stream would catch the adds half done (values below ADDS);</li>
     *   <li>a read on to that did not wait for the copy would see the -1;</li>
     *   <li>a source block reused before the copy read it would show -7.</li>
     * </ul>
     * Memory on both devices is flat afterwards.
     */
    private static void assertOrdered(Device from, Device to, CopyRoute route) {
        long a0 = stats(from).allocated(), a1 = stats(to).allocated();
        long n = ORDERING_ELEMENTS;
        NDArray x = NDArray.zeros(DType.F32, from, n);
        for (int i = 0; i < ADDS; i++) {
            NDArray y = x.add(1);
            x.close();
            x = y;
        }
        float[] got;
        try (NDArray dst = NDArray.full(-1, DType.F32, to, n)) {
            try {
                Backends.cuda().copyBetweenDevices(x, dst, route);
            } finally {
                x.close();
            }
            try (NDArray clobber = NDArray.full(-7, DType.F32, from, n)) {
                got = dst.toFloatArray();
            }
        }
        int wrong = 0, first = -1;
        for (int i = 0; i < got.length; i++) {
            if (got[i] != ADDS) {
                if (first < 0) first = i;
                wrong++;
            }
        }
        if (wrong > 0) {
            fail(route + " copy " + from + " -> " + to + ": " + wrong + " of " + n + " elements are not " + ADDS
                    + "; the first, element " + first + ", is " + got[first]);
        }
        assertEquals(a0, stats(from).allocated(), from + " is flat after closing");
        assertEquals(a1, stats(to).allocated(), to + " is flat after closing");
    }
}
