package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * matmul through NDArray and the CPU backend, in every floating dtype, against a naive double-precision loop over
 * the values actually stored. Operands come transposed, sliced (non-unit strides) and broadcast over the batch.
 */
class GemmMatmulTest {
    /** Unit roundoff of the result type (half types accumulate in F32 and round once). */
    private static double roundoff(DType dt) {
        return switch (dt) {
            case F64 -> 0x1p-53;
            case F16 -> 0x1p-11;
            case BF16 -> 0x1p-8;
            default -> 0x1p-24;
        };
    }

    static NDArray random(DType dt, long seed, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        Random r = new Random(seed);
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() * 2 - 1;
        try (NDArray d = NDArray.of(v, shape)) {
            return d.to(dt);
        }
    }

    /** out = a @ b for 3-D a [B,M,K] and b [B,K,N] given as values (row-major), checked element by element. */
    static void assertProduct(NDArray a, NDArray b, NDArray out) {
        long[] as = a.shape(), bs = b.shape();
        int batches = (int) as[0], m = (int) as[1], k = (int) as[2], n = (int) bs[2];
        double[] av = a.toDoubleArray(), bv = b.toDoubleArray(), got = out.toDoubleArray();
        DType dt = out.dtype();
        double accU = dt == DType.F64 ? 0x1p-53 : 0x1p-24, outU = roundoff(dt);
        for (int bi = 0; bi < batches; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0, abs = 0;
                    for (int p = 0; p < k; p++) {
                        double t = av[(bi * m + i) * k + p] * bv[(bi * k + p) * n + j];
                        ref += t;
                        abs += Math.abs(t);
                    }
                    double acc = (k + 2) * accU * abs;
                    double tol = acc + outU * (Math.abs(ref) + acc) * 1.001 + Double.MIN_NORMAL;
                    double g = got[(bi * m + i) * n + j];
                    if (!(Math.abs(g - ref) <= tol)) {
                        throw new AssertionError(dt + " [" + batches + "," + m + "," + k + "]@[" + k + "," + n + "] at (" + bi + ","
                                + i + "," + j + "): got " + g + ", expected " + ref + " +- " + tol);
                    }
                }
            }
        }
    }

    private static final long[][] SIZES = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {130, 70, 129}};

    @Test void contiguousOddSizesInEveryDtype() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
            for (long[] s : SIZES) {
                try (var scope = MemoryScope.open()) {
                    NDArray a = random(dt, 1, 2, s[0], s[2]), b = random(dt, 2, 2, s[2], s[1]);
                    assertProduct(a, b, a.matmul(b));
                }
            }
        }
    }

    @Test void transposedOperands() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16}) {
            try (var scope = MemoryScope.open()) {
                NDArray at = random(dt, 3, 2, 65, 17), bt = random(dt, 4, 2, 33, 65);
                NDArray a = at.transpose(1, 2), b = bt.transpose(1, 2);
                NDArray out = NDArray.empty(dt, 2, 17, 33);
                a.backend().matmul(a, b, out);
                assertProduct(a.contiguous(), b.contiguous(), out);
            }
        }
    }

    @Test void slicedOperandsWithNonUnitStrides() {
        try (var scope = MemoryScope.open()) {
            NDArray big = random(DType.F32, 5, 3, 2 * 130 + 1, 3 * 129);
            NDArray a = big.slice(1, 1, 2 * 130 + 1, 2).slice(2, 0, 3 * 129, 3); // [3,130,129], strides (.., 2*387, 3)
            NDArray b = random(DType.F32, 6, 3, 129, 140).slice(2, 0, 140, 2);   // [3,129,70], column stride 2
            assertTrue(!a.isContiguous() && !b.isContiguous());
            NDArray out = NDArray.empty(DType.F32, 3, 130, 70);
            a.backend().matmul(a, b, out);
            assertProduct(a.contiguous(), b.contiguous(), out);
        }
    }

    @Test void broadcastBatchHasZeroStride() {
        try (var scope = MemoryScope.open()) {
            NDArray a = random(DType.F32, 7, 1, 17, 65).expand(4, 17, 65);
            NDArray b = random(DType.F32, 8, 4, 65, 33);
            NDArray out = NDArray.empty(DType.F32, 4, 17, 33);
            a.backend().matmul(a, b, out);
            assertProduct(a.contiguous(), b.contiguous(), out);
            NDArray w = random(DType.F64, 9, 1, 65, 33).expand(4, 65, 33);
            NDArray x = random(DType.F64, 10, 4, 17, 65);
            NDArray out64 = NDArray.empty(DType.F64, 4, 17, 33);
            x.backend().matmul(x, w, out64);
            assertProduct(x, w.contiguous(), out64);
        }
    }

    @Test void ndarrayMatmulFoldsBatchIntoRowsAndBroadcasts() {
        try (var scope = MemoryScope.open()) {
            NDArray x = random(DType.F32, 11, 3, 5, 7), w = random(DType.F32, 12, 7, 4);
            NDArray y = x.matmul(w); // [3,5,4] via one [1,15,7] @ [1,7,4] product
            try (NDArray w3 = w.unsqueeze(0); NDArray wx = w3.expand(3, 7, 4)) {
                assertProduct(x, wx.contiguous(), y);
            }
            NDArray v = random(DType.F32, 13, 7);
            NDArray xv = x.matmul(v); // [3,5]
            assertArrayEquals(new long[] {3, 5}, xv.shape());
            try (NDArray v3 = v.reshape(1, 7, 1); NDArray ve = v3.expand(3, 7, 1); NDArray xv3 = xv.reshape(3, 5, 1)) {
                assertProduct(x, ve.contiguous(), xv3);
            }
        }
    }

    @Test void largeSquareUsesAllThreadsAndStaysExact() {
        try (var scope = MemoryScope.open()) {
            NDArray a = random(DType.F32, 14, 1, 200, 300), b = random(DType.F32, 15, 1, 300, 230);
            assertProduct(a, b, a.matmul(b));
        }
    }

    @Test void emptyInnerDimensionGivesZeros() {
        try (var scope = MemoryScope.open()) {
            NDArray a = NDArray.empty(DType.F32, 2, 3, 0), b = NDArray.empty(DType.F32, 2, 0, 4);
            NDArray out = NDArray.full(7, DType.F32, a.device(), 2, 3, 4);
            a.backend().matmul(a, b, out);
            assertArrayEquals(new double[24], out.toDoubleArray());
        }
    }

    @Test void badShapesAndDtypesAreRejectedWithTheOpName() {
        try (var scope = MemoryScope.open()) {
            NDArray a = NDArray.empty(DType.F32, 2, 3, 4), b = NDArray.empty(DType.F32, 2, 5, 6), out = NDArray.empty(DType.F32, 2, 3, 6);
            var e = assertThrows(IllegalArgumentException.class, () -> CpuGemm.matmul(a, b, out));
            assertTrue(e.getMessage().startsWith("matmul:"), e.getMessage());
            NDArray b64 = NDArray.empty(DType.F64, 2, 4, 6);
            var e2 = assertThrows(IllegalArgumentException.class, () -> CpuGemm.matmul(a, b64, out));
            assertTrue(e2.getMessage().contains("F64"), e2.getMessage());
        }
    }
}
