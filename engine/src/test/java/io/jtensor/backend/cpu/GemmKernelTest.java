package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The GEMM kernels on raw host memory against a naive double-precision triple loop, on odd sizes that cut
 * through every blocking edge (micro-tile, MC, KC, NC), with row-major, transposed, padded and broadcast
 * operands. Tolerances are the worst-case bound of a K-term float sum, (K + 2) * u * sum |a_ik * b_kj|, so any
 * indexing or packing slip (an O(1) error) fails while no summation order can.
 */
class GemmKernelTest {
    private static final Arena ARENA = Arena.ofShared();
    private static final double U32 = Math.ulp(1.0f) / 2, U64 = Math.ulp(1.0) / 2;

    @AfterAll static void close() { ARENA.close(); }

    /** How one operand of shape rows x cols is laid out in memory. */
    enum Layout { ROW_MAJOR, TRANSPOSED, PADDED }

    /** An operand: its memory, its view for the kernel, and its values as doubles for the reference. */
    record Operand(CpuGemmMatrix view, long batchStride, double[][][] values) {}

    static Operand operand(DType dt, int batches, int rows, int cols, Layout layout, boolean broadcastBatch, Random rnd) {
        long rs, cs, span;
        switch (layout) {
            case ROW_MAJOR -> { rs = cols; cs = 1; span = (long) rows * cols; }
            case TRANSPOSED -> { rs = 1; cs = rows; span = (long) rows * cols; }
            default -> { rs = 2L * cols + 3; cs = 2; span = rows * rs; }
        }
        int stored = broadcastBatch ? 1 : batches;
        MemorySegment seg = ARENA.allocate(Math.max(1, span * stored) * dt.byteSize(), 64);
        double[][][] v = new double[batches][rows][cols];
        for (int b = 0; b < stored; b++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    long idx = b * span + r * rs + c * cs;
                    v[b][r][c] = write(seg, idx, dt, rnd.nextDouble() * 2 - 1);
                }
            }
        }
        if (broadcastBatch) for (int b = 1; b < batches; b++) v[b] = v[0];
        return new Operand(new CpuGemmMatrix(seg, 0, rs, cs, dt), broadcastBatch ? 0 : span, v);
    }

    /** Stores x in dt and returns the value actually stored. */
    static double write(MemorySegment seg, long idx, DType dt, double x) {
        switch (dt) {
            case F64 -> { seg.setAtIndex(ValueLayout.JAVA_DOUBLE, idx, x); return x; }
            case F32 -> { seg.setAtIndex(ValueLayout.JAVA_FLOAT, idx, (float) x); return (float) x; }
            case F16 -> { short h = Float.floatToFloat16((float) x); seg.setAtIndex(ValueLayout.JAVA_SHORT, idx, h); return Float.float16ToFloat(h); }
            case BF16 -> {
                short h = (short) (Float.floatToRawIntBits((float) x) >>> 16); // truncation: any exact bf16 value will do
                seg.setAtIndex(ValueLayout.JAVA_SHORT, idx, h);
                return Float.intBitsToFloat((h & 0xFFFF) << 16);
            }
            default -> throw new IllegalArgumentException(dt.toString());
        }
    }

    static void check(DType dt, int batches, int m, int n, int k, Layout la, Layout lb, boolean bcastA, boolean bcastB, boolean accumulate) {
        Random rnd = new Random(31L * m + 17L * n + k + la.ordinal() * 7L + lb.ordinal());
        Operand a = operand(dt, batches, m, k, la, bcastA, rnd), b = operand(dt, batches, k, n, lb, bcastB, rnd);
        boolean f64 = dt == DType.F64;
        int ces = f64 ? 8 : 4;
        long ldc = n + 5; // a row stride wider than the row checks that C's stride is honoured
        MemorySegment c = ARENA.allocate(Math.max(1, (long) batches * m * ldc) * ces, 64);
        double[] before = new double[(int) ((long) batches * m * ldc)];
        for (int i = 0; i < before.length; i++) {
            before[i] = f64 ? rnd.nextDouble() : (float) rnd.nextDouble();
            if (f64) c.setAtIndex(ValueLayout.JAVA_DOUBLE, i, before[i]); else c.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) before[i]);
        }
        CpuGemm.gemm(f64, batches, m, n, k, a.view(), a.batchStride(), b.view(), b.batchStride(), c, 0, ldc, m * ldc, accumulate, true);
        double u = f64 ? U64 : U32;
        for (int bi = 0; bi < batches; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < (int) ldc; j++) {
                    int idx = (int) ((long) bi * m * ldc + i * ldc + j);
                    double got = f64 ? c.getAtIndex(ValueLayout.JAVA_DOUBLE, idx) : c.getAtIndex(ValueLayout.JAVA_FLOAT, idx);
                    if (j >= n) {
                        assertEquals(before[idx], got, 0.0, "padding of C at row " + i + " col " + j + " was written");
                        continue;
                    }
                    double ref = accumulate ? before[idx] : 0, abs = Math.abs(ref);
                    for (int p = 0; p < k; p++) {
                        double t = a.values()[bi][i][p] * b.values()[bi][p][j];
                        ref += t;
                        abs += Math.abs(t);
                    }
                    double tol = (k + 2) * u * abs + 1e-300;
                    if (Math.abs(got - ref) > tol) {
                        throw new AssertionError(dt + " " + batches + "x" + m + "x" + n + "x" + k + " " + la + "/" + lb
                                + " at [" + bi + "," + i + "," + j + "]: got " + got + ", expected " + ref + " +- " + tol);
                    }
                }
            }
        }
    }

    // M covers a last row panel of 1-6 rows (the 6-row kernel over a 12-row panel), exactly 6, and 7-11 rows.
    private static final int[][] SIZES = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {18, 32, 9}, {7, 40, 16}, {130, 70, 129}};

    @Test void f32OddSizesAllLayouts() {
        for (int[] s : SIZES) {
            for (Layout la : Layout.values()) {
                for (Layout lb : Layout.values()) check(DType.F32, 2, s[0], s[1], s[2], la, lb, false, false, false);
            }
        }
    }

    @Test void f32CrossesEveryBlockEdge() {
        // M past MC, K past KC (twice), N past NC, each with ragged micro-tiles.
        check(DType.F32, 1, CpuGemmF32.MC + 13, 37, 2 * CpuGemmF32.KC + 9, Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, false, false);
        check(DType.F32, 1, 5, CpuGemmF32.NC + 41, 3, Layout.ROW_MAJOR, Layout.TRANSPOSED, false, false, false);
        check(DType.F32, 1, 90, 100, 300, Layout.TRANSPOSED, Layout.ROW_MAJOR, false, false, false);
        // Large enough for the threads to share one packed B, across the NC edge and into an accumulating C.
        check(DType.F32, 2, 50, CpuGemmF32.NC + 41, 20, Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, true, true);
    }

    @Test void f32SmallOutputOverLongKTakesDotProducts() {
        // A's rows and B's columns contiguous along K, few outputs: the dot-product path, with ragged K tails.
        check(DType.F32, 2, 6, 25, 583, Layout.ROW_MAJOR, Layout.TRANSPOSED, false, false, false);
        check(DType.F32, 1, 3, 3, 200, Layout.ROW_MAJOR, Layout.TRANSPOSED, false, false, true);
        check(DType.F32, 3, 1, 7, 1024, Layout.ROW_MAJOR, Layout.TRANSPOSED, false, true, false);
    }

    @Test void f32BroadcastBatchAndAccumulate() {
        check(DType.F32, 3, 17, 33, 65, Layout.ROW_MAJOR, Layout.ROW_MAJOR, true, false, false);
        check(DType.F32, 3, 17, 33, 65, Layout.PADDED, Layout.TRANSPOSED, false, true, false);
        check(DType.F32, 2, 130, 70, 129, Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, false, true);
    }

    @Test void emptyInnerDimensionGivesZerosOrKeepsC() {
        check(DType.F32, 2, 3, 4, 0, Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, false, false);
        check(DType.F32, 2, 3, 4, 0, Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, false, true);
        check(DType.F64, 2, 3, 4, 0, Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, false, false);
    }

    @Test void f64OddSizesAndLayouts() {
        for (int[] s : SIZES) {
            check(DType.F64, 2, s[0], s[1], s[2], Layout.ROW_MAJOR, Layout.ROW_MAJOR, false, false, false);
            check(DType.F64, 2, s[0], s[1], s[2], Layout.TRANSPOSED, Layout.PADDED, false, true, false);
        }
        check(DType.F64, 1, 13, CpuGemmF64.NC + 19, CpuGemmF64.KC + 31, Layout.PADDED, Layout.ROW_MAJOR, false, false, true);
    }

    @Test void halfOperandsAreWidenedExactly() {
        for (DType dt : new DType[] {DType.F16, DType.BF16}) {
            check(dt, 2, 17, 33, 65, Layout.ROW_MAJOR, Layout.TRANSPOSED, false, false, false);
            check(dt, 1, 130, 70, 129, Layout.PADDED, Layout.ROW_MAJOR, false, true, false);
        }
    }

    @Test void bf16RoundingIsNearestEven() {
        assertEquals((short) 0x3F80, CpuGemmHalf.floatToBf16(1.0f));
        // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
        assertEquals((short) 0x3F80, CpuGemmHalf.floatToBf16(1.0f + 0x1p-8f));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up.
        assertEquals((short) 0x3F82, CpuGemmHalf.floatToBf16(1.0f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, CpuGemmHalf.floatToBf16(1.0f + 0x1p-8f + 0x1p-20f));
        assertTrue(Float.isNaN(CpuGemmHalf.bf16ToFloat(CpuGemmHalf.floatToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, CpuGemmHalf.bf16ToFloat(CpuGemmHalf.floatToBf16(Float.POSITIVE_INFINITY)));
    }
}
