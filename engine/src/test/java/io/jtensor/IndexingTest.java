package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class IndexingTest {

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void gatherAlongEachDim(Device d) {
        // x = [[1, 2, 3], [4, 5, 6]]
        for (DType dt : List.of(DType.F32, DType.F16, DType.I64, DType.U8)) {
            try (NDArray x = on(d, dt, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
                 NDArray i1 = on(d, DType.I64, new double[] {2, 0, 1, 1}, 2, 2); NDArray g1 = x.gather(1, i1);
                 NDArray i0 = on(d, DType.I32, new double[] {1, 0, 1}, 1, 3); NDArray g0 = x.gather(0, i0);
                 NDArray xt = x.t(); NDArray gt = xt.gather(0, i1)) {
                assertEquals(dt, g1.dtype());
                assertArrayEquals(new double[] {3, 1, 5, 5}, g1.toDoubleArray(), "gather dim 1 " + dt);
                assertArrayEquals(new double[] {4, 2, 6}, g0.toDoubleArray(), "gather dim 0 with I32 index " + dt);
                // xt = [[1, 4], [2, 5], [3, 6]]; out[i][j] = xt[index[i][j]][j]
                assertArrayEquals(new double[] {3, 4, 2, 5}, gt.toDoubleArray(), "gather on a transposed input " + dt);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void scatterAddAccumulatesDuplicates(Device d) {
        for (DType dt : List.of(DType.F32, DType.F64, DType.BF16, DType.I32)) {
            try (NDArray base = NDArray.ones(dt, d, 2, 4); NDArray idx = on(d, DType.I64, new double[] {0, 3, 0, 1, 1, 1}, 2, 3);
                 NDArray src = on(d, dt, new double[] {1, 2, 3, 10, 20, 30}, 2, 3); NDArray out = base.scatterAdd(1, idx, src)) {
                assertArrayEquals(new double[] {5, 1, 1, 3, 1, 61, 1, 1}, out.toDoubleArray(), "scatterAdd " + dt);
                assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 1, 1}, base.toDoubleArray(), "the input is left alone");
            }
        }
        try (NDArray base = NDArray.zeros(DType.F32, d, 3, 2); NDArray idx = on(d, DType.I64, new double[] {2, 0, 2, 2}, 2, 2);
             NDArray src = on(d, DType.F32, new double[] {1, 2, 3, 4}, 2, 2); NDArray out = base.scatterAdd(0, idx, src)) {
            assertArrayEquals(new double[] {0, 2, 0, 0, 4, 4}, out.toDoubleArray(), "scatterAdd along dim 0");
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void indexSelectEmbeddingOneHot(Device d) {
        double[] table = new double[5 * 3];
        for (int i = 0; i < table.length; i++) table[i] = i;
        try (NDArray t = on(d, DType.F32, table, 5, 3); NDArray ids = on(d, DType.I64, new double[] {4, 0, 4, 2}, 2, 2);
             NDArray e = t.embedding(ids); NDArray cols = on(d, DType.I32, new double[] {2, 2, 0}, 3); NDArray s1 = t.indexSelect(1, cols);
             NDArray tt = t.t(); NDArray s0 = tt.indexSelect(1, cols)) {
            assertShape(e, 2, 2, 3);
            assertArrayEquals(new double[] {12, 13, 14, 0, 1, 2, 12, 13, 14, 6, 7, 8}, e.toDoubleArray());
            assertShape(s1, 5, 3);
            assertArrayEquals(new double[] {2, 2, 0, 5, 5, 3, 8, 8, 6, 11, 11, 9, 14, 14, 12}, s1.toDoubleArray());
            // tt = [3, 5], columns 2, 2, 0 of it are rows 2, 2, 0 of t
            assertArrayEquals(new double[] {6, 6, 0, 7, 7, 1, 8, 8, 2}, s0.toDoubleArray());
        }
        try (NDArray classes = on(d, DType.I32, new double[] {2, 0, 1}, 3); NDArray oh = classes.oneHot(4)) {
            assertEquals(DType.I64, oh.dtype());
            assertShape(oh, 3, 4);
            assertArrayEquals(new long[] {0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0}, oh.toLongArray());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void outOfRangeIndicesThrowNamingOpValueAndSize(Device d) {
        try (NDArray x = NDArray.zeros(DType.F32, d, 2, 3); NDArray bad = on(d, DType.I64, new double[] {0, 3}, 1, 2);
             NDArray neg = on(d, DType.I64, new double[] {-1}, 1); NDArray src = NDArray.ones(DType.F32, d, 1, 2);
             NDArray table = NDArray.zeros(DType.F32, d, 4, 2); NDArray ids = on(d, DType.I64, new double[] {1, 4}, 2)) {
            IndexOutOfBoundsException g = assertThrows(IndexOutOfBoundsException.class, () -> x.gather(1, bad));
            assertMessage(g, "gather", "3", "3");
            IndexOutOfBoundsException s = assertThrows(IndexOutOfBoundsException.class, () -> x.scatterAdd(1, bad, src));
            assertMessage(s, "scatterAdd", "3", "3");
            IndexOutOfBoundsException i = assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(0, neg));
            assertMessage(i, "indexSelect", "-1", "2");
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> table.embedding(ids));
            assertMessage(e, "embedding", "4", "4");
            IndexOutOfBoundsException o = assertThrows(IndexOutOfBoundsException.class, () -> ids.oneHot(3));
            assertMessage(o, "oneHot", "4", "3");
            assertArrayEquals(new double[] {0, 0, 0, 0, 0, 0}, x.toDoubleArray(), "a failed op writes nothing");
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void anIndexErrorNamesTheIndexedDimAndLeavesNothingPending(Device d) {
        try (NDArray x = on(d, DType.F32, new double[] {1, 2, 3, 4, 5, 6}, 2, 3); NDArray cols = on(d, DType.I64, new double[] {0, 3}, 2);
             NDArray good = on(d, DType.I64, new double[] {2, 0}, 2)) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> x.indexSelect(1, cols));
            assertEquals("indexSelect: index 3 is out of bounds for dim 1 with size 3", e.getMessage());
            // the error was thrown by the failing call itself: nothing surfaces in the ops that follow
            try (NDArray picked = x.indexSelect(1, good); NDArray sum = picked.sum()) {
                assertArrayEquals(new double[] {3, 1, 6, 4}, picked.toDoubleArray());
                assertEquals(14, sum.toDoubleArray()[0]);
            }
        }
    }

    private static void assertMessage(RuntimeException e, String op, String value, String size) {
        String m = e.getMessage();
        assertTrue(m.startsWith(op) && m.contains("index " + value) && m.contains("size " + size), m);
    }
}
