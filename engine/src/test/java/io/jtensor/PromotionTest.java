package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Broadcasting and PyTorch's type promotion, checked on the result dtype and values. */
class PromotionTest {

    private static NDArray arr(Device d, DType dt, double... v) { return on(d, dt, v, v.length); }

    private static NDArray zeroDim(Device d, DType dt, double v) { return NDArray.scalar(v, dt, d); }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void tensorTensorPromotion(Device d) {
        record Case(DType a, DType b, DType want) {}
        Case[] cases = {
                new Case(DType.I32, DType.F16, DType.F16),
                new Case(DType.F16, DType.BF16, DType.F32),
                new Case(DType.I32, DType.I64, DType.I64),
                new Case(DType.U8, DType.I32, DType.I32),
                new Case(DType.BOOL, DType.I32, DType.I32),
                new Case(DType.BOOL, DType.F16, DType.F16),
                new Case(DType.F32, DType.F64, DType.F64),
                new Case(DType.I64, DType.BF16, DType.BF16),
                new Case(DType.U8, DType.BOOL, DType.U8),
        };
        for (Case c : cases) {
            try (NDArray a = arr(d, c.a, 1, 0); NDArray b = arr(d, c.b, 2, 1); NDArray y = a.add(b); NDArray y2 = b.mul(a)) {
                assertEquals(c.want, y.dtype(), c.a + " + " + c.b);
                assertEquals(c.want, y2.dtype(), c.b + " * " + c.a);
                double[] want = {roundTo(c.want, roundTo(c.a, 1) + roundTo(c.b, 2)), roundTo(c.want, roundTo(c.a, 0) + roundTo(c.b, 1))};
                assertArrayEquals(want, y.toDoubleArray(), c.a + " + " + c.b);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void boolPlusBoolStaysBool(Device d) {
        try (NDArray a = arr(d, DType.BOOL, 1, 1, 0, 0); NDArray b = arr(d, DType.BOOL, 1, 0, 1, 0); NDArray y = a.add(b); NDArray m = a.mul(b)) {
            assertEquals(DType.BOOL, y.dtype());
            assertArrayEquals(new boolean[] {true, true, true, false}, y.toBooleanArray());
            assertArrayEquals(new boolean[] {true, false, false, false}, m.toBooleanArray());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void javaScalars(Device d) {
        try (NDArray i64 = arr(d, DType.I64, 1, 2); NDArray i32 = arr(d, DType.I32, 1, 2); NDArray f16 = arr(d, DType.F16, 1, 2);
             NDArray a = i64.add(2.5); NDArray b = i32.mul(3); NDArray c = f16.add(1e-3); NDArray e = i32.div(2); NDArray f = i32.lt(1.5);
             NDArray g = i32.sub(1); NDArray h = i32.rsub(10)) {
            assertEquals(DType.F32, a.dtype(), "I64 tensor + 2.5 -> F32 (default float)");
            assertArrayEquals(new double[] {3.5, 4.5}, a.toDoubleArray());
            assertEquals(DType.I32, b.dtype(), "an int scalar keeps the tensor's int type");
            assertArrayEquals(new int[] {3, 6}, b.toIntArray());
            assertEquals(DType.F16, c.dtype(), "a float scalar keeps a float tensor's type");
            assertEquals(DType.F32, e.dtype(), "integer division is true division");
            assertArrayEquals(new double[] {0.5, 1}, e.toDoubleArray());
            assertEquals(DType.BOOL, f.dtype());
            assertArrayEquals(new boolean[] {true, false}, f.toBooleanArray(), "1 < 1.5 compares as float");
            assertArrayEquals(new int[] {0, 1}, g.toIntArray());
            assertArrayEquals(new int[] {9, 8}, h.toIntArray());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void zeroDimTensorsOnlyWinAcrossCategories(Device d) {
        try (NDArray s64 = zeroDim(d, DType.F64, 0.5); NDArray v32 = arr(d, DType.F32, 1, 2); NDArray vi = arr(d, DType.I32, 1, 2);
             NDArray si64 = zeroDim(d, DType.I64, 3); NDArray y1 = s64.add(v32); NDArray y2 = vi.add(s64); NDArray y3 = vi.mul(si64);
             NDArray y4 = s64.add(si64)) {
            assertEquals(DType.F32, y1.dtype(), "0-dim F64 + F32 tensor -> F32");
            assertArrayEquals(new double[] {1.5, 2.5}, y1.toDoubleArray());
            assertEquals(DType.F64, y2.dtype(), "0-dim float beats an int tensor");
            assertEquals(DType.I32, y3.dtype(), "0-dim I64 does not widen an I32 tensor");
            assertArrayEquals(new int[] {3, 6}, y3.toIntArray());
            assertEquals(0, y4.dim());
            assertEquals(DType.F64, y4.dtype());
            assertEquals(3.5, y4.item());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void broadcastingShapes(Device d) {
        try (NDArray a = on(d, DType.F32, new double[] {1, 2, 3}, 3, 1); NDArray b = on(d, DType.F32, new double[] {10, 20, 30, 40}, 4);
             NDArray y = a.add(b); NDArray s = NDArray.scalar(1, DType.F32, d); NDArray ys = s.sub(a)) {
            assertShape(y, 3, 4);
            assertArrayEquals(new double[] {11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}, y.toDoubleArray());
            assertShape(ys, 3, 1);
            assertArrayEquals(new double[] {0, -1, -2}, ys.toDoubleArray());
            try (NDArray c = on(d, DType.F32, new double[] {1, 2}, 2)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.add(c));
                assertTrue(e.getMessage().startsWith("add") && e.getMessage().contains("[4]") && e.getMessage().contains("[2]"), e.getMessage());
            }
        }
    }
}
