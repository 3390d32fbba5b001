package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** View ops: shapes, strides and values checked against index arithmetic on the base data. */
class ViewTest {
    /** 0..23 as a [2, 3, 4] array. */
    private static double[] base() {
        double[] v = new double[24];
        for (int i = 0; i < 24; i++) v[i] = i;
        return v;
    }

    private static NDArray base(Device d, DType dt) { return on(d, dt, base(), 2, 3, 4); }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void reshapeAndViewShareOrCopy(Device d) {
        try (NDArray a = base(d, DType.F32); NDArray r = a.reshape(4, -1); NDArray v = a.view(6, 4)) {
            assertShape(r, 4, 6);
            assertArrayEquals(base(), r.toDoubleArray());
            assertSame(a.storage(), v.storage(), "a view shares storage");
            try (NDArray t = a.transpose(0, 2)) { // [4, 3, 2], not viewable as [24]
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.view(24));
                assertTrue(e.getMessage().contains("view") && e.getMessage().contains("strides"), e.getMessage());
                try (NDArray flat = t.reshape(24)) {
                    assertNotSame(a.storage(), flat.storage(), "reshape of a transposed array copies");
                    assertArrayEquals(viewValues(base(), new long[] {4, 3, 2}, new long[] {1, 4, 12}, 0), flat.toDoubleArray());
                }
            }
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> a.reshape(5, 5));
            assertTrue(bad.getMessage().contains("[5, 5]") && bad.getMessage().contains("24"), bad.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void permuteTransposeAndT(Device d) {
        try (NDArray a = base(d, DType.F64); NDArray p = a.permute(2, 0, 1); NDArray t = a.transpose(-1, 0);
             NDArray m = on(d, DType.F32, new double[] {1, 2, 3, 4, 5, 6}, 2, 3); NDArray mt = m.t()) {
            assertShape(p, 4, 2, 3);
            assertArrayEquals(new long[] {1, 12, 4}, p.strides());
            assertArrayEquals(viewValues(base(), new long[] {4, 2, 3}, new long[] {1, 12, 4}, 0), p.toDoubleArray());
            assertShape(t, 4, 3, 2);
            assertArrayEquals(viewValues(base(), new long[] {4, 3, 2}, new long[] {1, 4, 12}, 0), t.toDoubleArray());
            assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, mt.toDoubleArray());
            assertFalse(mt.isContiguous());
            assertThrows(IllegalArgumentException.class, () -> a.permute(0, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> a.t());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void expandSqueezeUnsqueeze(Device d) {
        try (NDArray col = on(d, DType.I32, new double[] {1, 2, 3}, 3, 1); NDArray e = col.expand(2, 3, 4);
             NDArray u = col.unsqueeze(0); NDArray s = u.squeeze(); NDArray s0 = u.squeeze(0); NDArray sKeep = u.squeeze(1)) {
            assertShape(e, 2, 3, 4);
            assertArrayEquals(new long[] {0, 1, 0}, e.strides());
            assertArrayEquals(new int[] {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}, e.toIntArray());
            assertShape(u, 1, 3, 1);
            assertShape(s, 3);
            assertShape(s0, 3, 1);
            assertShape(sKeep, 1, 3, 1); // size 3 is not squeezed
            assertThrows(IllegalArgumentException.class, () -> col.expand(2, 4, 1));
            try (NDArray u2 = col.unsqueeze(-1)) {
                assertShape(u2, 3, 1, 1);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void narrowSliceSelect(Device d) {
        try (NDArray a = base(d, DType.F32); NDArray n = a.narrow(2, 1, 2); NDArray sl = a.slice(2, -3, 4, 2);
             NDArray sel = a.select(1, -1); NDArray empty = a.slice(1, 2, 1, 1)) {
            assertShape(n, 2, 3, 2);
            assertArrayEquals(viewValues(base(), new long[] {2, 3, 2}, new long[] {12, 4, 1}, 1), n.toDoubleArray());
            assertShape(sl, 2, 3, 2); // elements 1 and 3
            assertArrayEquals(viewValues(base(), new long[] {2, 3, 2}, new long[] {12, 4, 2}, 1), sl.toDoubleArray());
            assertShape(sel, 2, 4);
            assertArrayEquals(new double[] {8, 9, 10, 11, 20, 21, 22, 23}, sel.toDoubleArray());
            assertShape(empty, 2, 0, 4);
            assertEquals(0, empty.toDoubleArray().length);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> a.narrow(2, 3, 2));
            assertTrue(e.getMessage().contains("narrow"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> a.select(0, 2));
            // writes through a view land in the base
            sel.fill(-1);
            assertEquals(-1, a.getDouble(1, 2, 3));
            assertEquals(7, a.getDouble(0, 1, 3));
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void flatten(Device d) {
        try (NDArray a = base(d, DType.I64); NDArray f = a.flatten(); NDArray f12 = a.flatten(1, 2); NDArray t = a.transpose(0, 1);
             NDArray tf = t.flatten(0, 1)) {
            assertShape(f, 24);
            assertShape(f12, 2, 12);
            assertArrayEquals(base(), f12.toDoubleArray());
            assertShape(tf, 6, 4);
            assertArrayEquals(viewValues(base(), new long[] {3, 2, 4}, new long[] {4, 12, 1}, 0), tf.toDoubleArray());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void catAndStack(Device d) {
        try (NDArray a = on(d, DType.F32, new double[] {1, 2, 3, 4}, 2, 2); NDArray b = on(d, DType.F64, new double[] {5, 6}, 2, 1);
             NDArray c = NDArray.cat(List.of(a, b), 1); NDArray a2 = a.t(); NDArray c0 = NDArray.cat(List.of(a2, a), 0);
             NDArray s = NDArray.stack(List.of(a, a2), 0); NDArray s2 = NDArray.stack(List.of(a, a2), -1)) {
            assertEquals(DType.F64, c.dtype(), "cat promotes");
            assertShape(c, 2, 3);
            assertArrayEquals(new double[] {1, 2, 5, 3, 4, 6}, c.toDoubleArray());
            assertArrayEquals(new double[] {1, 3, 2, 4, 1, 2, 3, 4}, c0.toDoubleArray());
            assertShape(s, 2, 2, 2);
            assertArrayEquals(new double[] {1, 2, 3, 4, 1, 3, 2, 4}, s.toDoubleArray());
            assertShape(s2, 2, 2, 2);
            assertArrayEquals(new double[] {1, 1, 2, 3, 3, 2, 4, 4}, s2.toDoubleArray());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NDArray.cat(List.of(a, b), 0));
            assertTrue(e.getMessage().contains("cat") && e.getMessage().contains("[2, 1]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> NDArray.stack(List.of(a, b), 0));
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void splitAndChunk(Device d) {
        try (NDArray a = base(d, DType.F32)) {
            List<NDArray> parts = a.split(2, 1, 3);
            assertEquals(2, parts.size());
            assertShape(parts.get(0), 2, 3, 1);
            assertShape(parts.get(1), 2, 3, 3);
            assertArrayEquals(viewValues(base(), new long[] {2, 3, 3}, new long[] {12, 4, 1}, 1), parts.get(1).toDoubleArray());
            parts.forEach(NDArray::close);
            List<NDArray> bySize = a.split(2, 1); // pieces of 2 along dim 1: sizes 2, 1
            assertEquals(2, bySize.size());
            assertShape(bySize.get(1), 2, 1, 4);
            assertArrayEquals(new double[] {8, 9, 10, 11, 20, 21, 22, 23}, bySize.get(1).toDoubleArray());
            bySize.forEach(NDArray::close);
            List<NDArray> chunks = a.chunk(3, 2); // 4 split in chunks of 2
            assertEquals(2, chunks.size());
            assertArrayEquals(viewValues(base(), new long[] {2, 3, 2}, new long[] {12, 4, 1}, 2), chunks.get(1).toDoubleArray());
            chunks.forEach(NDArray::close);
            assertThrows(IllegalArgumentException.class, () -> a.split(2, 3, 4));
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void copyFromBroadcastsIntoAView(Device d) {
        try (NDArray a = NDArray.zeros(DType.F32, d, 3, 4); NDArray block = a.narrow(1, 1, 2); NDArray row = on(d, DType.I32, new double[] {7, 8}, 2)) {
            block.copyFrom(row);
            assertArrayEquals(new float[] {0, 7, 8, 0, 0, 7, 8, 0, 0, 7, 8, 0}, a.toFloatArray());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void contiguousCopiesOddStridesInEveryDtype(Device d) {
        double[] v = Checks.randomValues(3, 7 * 5 * 3, -50, 50);
        for (DType dt : DType.values()) {
            try (NDArray a = on(d, dt, v, 7, 5, 3); NDArray p = a.permute(1, 2, 0); NDArray s = p.slice(0, 1, 5, 3); NDArray c = s.contiguous()) {
                double[] stored = new double[v.length];
                for (int i = 0; i < v.length; i++) stored[i] = roundTo(dt, v[i]);
                assertTrue(c.isContiguous());
                assertArrayEquals(viewValues(stored, new long[] {2, 3, 7}, new long[] {9, 1, 15}, 3), c.toDoubleArray(), dt.toString());
            }
        }
    }
}
