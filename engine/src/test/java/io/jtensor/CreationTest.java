package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CreationTest {

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void ofAndBackInEveryJavaType(Device d) {
        try (NDArray f = on(d, NDArray.of(new float[] {1.5f, -2f, 3.25f, 0f, 1e30f, -7f}, 2, 3));
             NDArray db = on(d, NDArray.of(new double[] {1e-300, -2.5, Math.PI}, 3));
             NDArray l = on(d, NDArray.of(new long[] {Long.MAX_VALUE, -1, 1L << 53 | 1}, 3));
             NDArray i = on(d, NDArray.of(new int[] {Integer.MIN_VALUE, 7, -8}, 3));
             NDArray b = on(d, NDArray.of(new boolean[] {true, false, true}, 3))) {
            assertShape(f, 2, 3);
            assertEquals(DType.F32, f.dtype());
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 0f, 1e30f, -7f}, f.toFloatArray());
            assertArrayEquals(new double[] {1e-300, -2.5, Math.PI}, db.toDoubleArray());
            // I64 values survive exactly (no trip through double)
            assertArrayEquals(new long[] {Long.MAX_VALUE, -1, (1L << 53) | 1}, l.toLongArray());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 7, -8}, i.toIntArray());
            assertArrayEquals(new boolean[] {true, false, true}, b.toBooleanArray());
            assertEquals(DType.BOOL, b.dtype());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void castsBetweenAllDtypes(Device d) {
        double[] v = {0, 1, -1, 2.5, -3.75, 100, 255, 0.1};
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                try (NDArray a = on(d, from, v, v.length); NDArray c = a.to(to)) {
                    double[] got = c.toDoubleArray();
                    for (int k = 0; k < v.length; k++) {
                        double want = roundTo(to, roundTo(from, v[k]));
                        assertEquals(want, got[k], 0, from + "->" + to + " of " + v[k]);
                    }
                }
            }
        }
    }

    @Test
    void f16RoundTripAndRounding() {
        // 1 + 2^-11 is a tie between 1 and 1 + 2^-10 in F16: nearest-even keeps 1.
        float tie = 1f + 0x1p-11f, above = 1f + 0x1p-11f + 0x1p-20f;
        try (NDArray a = NDArray.of(new float[] {tie, above, 65504f, 70000f, 6e-8f, Float.NaN, -0f}); NDArray h = a.to(DType.F16)) {
            float[] back = h.toFloatArray();
            assertEquals(1f, back[0]);
            assertEquals(1f + 0x1p-10f, back[1]);
            assertEquals(65504f, back[2]);
            assertEquals(Float.POSITIVE_INFINITY, back[3]);
            assertEquals(5.9604645e-8f, back[4]); // smallest subnormal
            assertTrue(Float.isNaN(back[5]));
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(back[6]));
            byte[] raw = h.toBytes();
            assertEquals(14, raw.length);
            assertEquals(0x3C, raw[1] & 0xFF); // 1.0 = 0x3C00, little-endian
            assertEquals(0x00, raw[0] & 0xFF);
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // BF16 keeps 8 significant bits: 1 + 2^-8 is a tie (stays 1), 1 + 3*2^-8 is a tie (goes up to 1 + 2^-6).
        float[] in = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 1f + 0x1p-8f + 0x1p-20f, 3.14159f, -1e38f, Float.NaN, Float.POSITIVE_INFINITY};
        try (NDArray a = NDArray.of(in); NDArray b = a.to(DType.BF16)) {
            float[] back = b.toFloatArray();
            assertEquals(1f, back[0]);
            assertEquals(1f + 0x1p-6f, back[1]);
            assertEquals(1f + 0x1p-7f, back[2]);
            assertEquals(3.140625f, back[3]);
            assertEquals((float) bf16(-1e38f), back[4]);
            assertTrue(Float.isNaN(back[5]), "NaN must stay NaN, not become infinity");
            assertEquals(Float.POSITIVE_INFINITY, back[6]);
            byte[] raw = b.toBytes();
            assertEquals(0x3F, raw[1] & 0xFF); // 1.0f = 0x3F800000 -> BF16 0x3F80
            assertEquals(0x80, raw[0] & 0xFF);
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void factories(Device d) {
        try (NDArray z = NDArray.zeros(DType.I32, d, 2, 2); NDArray o = NDArray.ones(DType.BF16, d, 3);
             NDArray f = NDArray.full(-2.5, DType.F64, d, 2); NDArray s = NDArray.scalar(7, DType.I64, d);
             NDArray r = NDArray.arange(1, 2, 0.25, DType.F32, d); NDArray e = NDArray.eye(3, DType.F16, d);
             NDArray emptyShape = NDArray.zeros(DType.F32, d, 0, 3)) {
            assertArrayEquals(new int[] {0, 0, 0, 0}, z.toIntArray());
            assertArrayEquals(new float[] {1, 1, 1}, o.toFloatArray());
            assertArrayEquals(new double[] {-2.5, -2.5}, f.toDoubleArray());
            assertEquals(0, s.dim());
            assertEquals(7, s.item());
            assertArrayEquals(new float[] {1, 1.25f, 1.5f, 1.75f}, r.toFloatArray());
            assertArrayEquals(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, e.toFloatArray());
            assertEquals(0, emptyShape.numel());
            assertEquals(0, emptyShape.toFloatArray().length);
        }
    }

    @Test
    void fromBytesAndToBytesAreLittleEndian() {
        byte[] raw = {1, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        try (NDArray a = NDArray.fromBytes(raw, DType.I32, 2)) {
            assertArrayEquals(new int[] {1, -1}, a.toIntArray());
            assertArrayEquals(raw, a.toBytes());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NDArray.fromBytes(new byte[3], DType.F32, 1));
        assertTrue(e.getMessage().contains("3 bytes"), e.getMessage());
    }

    @Test
    void ofRejectsWrongShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NDArray.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("5"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void fillOnStridedView(Device d) {
        try (NDArray a = NDArray.zeros(DType.F32, d, 3, 4); NDArray col = a.select(1, 2)) {
            col.fill(5);
            assertArrayEquals(new float[] {0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0}, a.toFloatArray());
        }
        for (DType dt : List.of(DType.F16, DType.BF16, DType.I64, DType.U8, DType.BOOL)) {
            try (NDArray a = NDArray.full(3, dt, d, 1000)) {
                double[] v = a.toDoubleArray();
                for (double x : v) assertEquals(dt == DType.BOOL ? 1 : 3, x, dt.toString());
            }
        }
    }

    @Test
    void itemAndGetDouble() {
        try (NDArray a = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3); NDArray t = a.t()) {
            assertEquals(6, a.getDouble(1, 2));
            assertEquals(2, t.getDouble(1, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> a.getDouble(2, 0));
            assertThrows(IllegalStateException.class, a::item);
        }
    }
}
