package io.jtensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryStats;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * NDArray.to between two logical CPU devices, which goes through Backend.copyBetweenDevices. These devices (cpu:21,
 * cpu:22) belong to this class alone, so that arrays other tests leave to the garbage collector cannot move the
 * memory figures checked here.
 */
public class DeviceCopyTest {
    private static final Device FROM = Device.cpu(21), TO = Device.cpu(22);

    private static MemoryStats stats(Device d) { return Backends.of(d).allocator().stats(d); }

    /** Values of t on the CPU with every byte in play: I64 spans all 64 bits, floats are not integers. */
    public static NDArray hostValues(DType t, long... shape) {
        int n = Math.toIntExact(Shapes.numel(shape));
        if (t == DType.I64) {
            long[] v = new long[n];
            for (int i = 0; i < n; i++) v[i] = (i + 1) * 0x9E3779B97F4A7C15L;
            return NDArray.of(v, shape);
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (Math.sin(i * 0.37) * 1000);
        NDArray f = NDArray.of(v, shape);
        if (t == DType.F32) return f;
        try (f) {
            return f.to(t);
        }
    }

    /** Layouts of a source: each view of a [4,6] array, by name. */
    static Stream<Arguments> dtypesAndLayouts() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType t : new DType[] {DType.F32, DType.F16, DType.I64}) {
            b.add(Arguments.of(t, "contiguous", (Function<NDArray, NDArray>) NDArray::share));
            b.add(Arguments.of(t, "offset rows 1..3", (Function<NDArray, NDArray>) a -> a.narrow(0, 1, 3)));
            b.add(Arguments.of(t, "transposed", (Function<NDArray, NDArray>) a -> a.transpose(0, 1)));
            b.add(Arguments.of(t, "every other column", (Function<NDArray, NDArray>) a -> a.slice(1, 1, 6, 2)));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dtypesAndLayouts")
    void copiesEveryLayoutBetweenLogicalCpuDevices(DType t, String layout, Function<NDArray, NDArray> view) {
        long from0 = stats(FROM).allocated(), to0 = stats(TO).allocated();
        try (NDArray host = hostValues(t, 4, 6); NDArray onFrom = host.to(FROM); NDArray src = view.apply(onFrom);
             NDArray ref = view.apply(host); NDArray got = src.to(TO)) {
            assertEquals(TO, got.device());
            assertEquals(t, got.dtype());
            assertTrue(got.isContiguous());
            assertArrayEquals(ref.shape(), got.shape());
            // Expected: the same view of the cpu:0 original, read element by element.
            assertArrayEquals(ref.toBytes(), got.toBytes(), layout);
            assertEquals(to0 + got.numel() * t.byteSize(), stats(TO).allocated(), "the copy is accounted to " + TO);
            if (t == DType.I64) assertArrayEquals(ref.toLongArray(), got.toLongArray());
        }
        assertEquals(from0, stats(FROM).allocated(), FROM + " is flat after closing");
        assertEquals(to0, stats(TO).allocated(), TO + " is flat after closing");
    }

    @Test
    void theCopyIsIndependentOfItsSource() {
        try (NDArray src = NDArray.zeros(DType.F32, FROM, 5); NDArray got = src.to(TO)) {
            src.fill(3);
            assertArrayEquals(new float[5], got.toFloatArray(), "writing the source later does not reach the copy");
            got.fill(4);
            assertArrayEquals(new float[] {3, 3, 3, 3, 3}, src.toFloatArray());
        }
    }

    @Test
    void emptyArraysCopy() {
        try (NDArray src = NDArray.zeros(DType.F32, FROM, 0, 3); NDArray got = src.to(TO)) {
            assertArrayEquals(new long[] {0, 3}, got.shape());
            assertEquals(TO, got.device());
        }
    }

    @Test
    void theBackendRejectsOperandsOutsideItsContract() {
        try (NDArray f32 = NDArray.zeros(DType.F32, FROM, 2, 3); NDArray f64 = NDArray.zeros(DType.F64, TO, 2, 3);
             NDArray other = NDArray.zeros(DType.F32, TO, 3, 2); NDArray ok = NDArray.zeros(DType.F32, TO, 3, 2);
             NDArray strided = f32.transpose(0, 1)) {
            var cpu = Backends.cpu();
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class, () -> cpu.copyBetweenDevices(f32, f64));
            assertEquals("copyBetweenDevices: expected one dtype, got F32 -> F64", dtype.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> cpu.copyBetweenDevices(f32, other));
            assertEquals("copyBetweenDevices: expected matching shapes, got [2, 3] and [3, 2]", shape.getMessage());
            IllegalArgumentException layout = assertThrows(IllegalArgumentException.class, () -> cpu.copyBetweenDevices(strided, ok));
            assertTrue(layout.getMessage().startsWith("copyBetweenDevices: expected contiguous arrays, got strides [1, 3]"),
                    layout.getMessage());
            assertFalse(ok.isClosed());
        }
    }
}
