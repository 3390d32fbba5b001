package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.backend.cuda.CudaGemm.Mat;
import org.junit.jupiter.api.Test;

/** How the "vec" reduce/softmax kernels and the simt2 GEMM are sized and picked (pure logic, no GPU). */
class CudaVariantPlanTest {
    private static final int SMS = 132;

    @Test
    void manyRowsGoOneWarpPerRowAndFewLongRowsSplit() {
        // 2^28 F32 as rows of 4096: 2^16 rows, 8 per block of 256 threads
        assertArrayEquals(new long[] {0, 8192}, CudaReduce.vecPlan(1L << 16, 4096, SMS));
        // everything into one value: 16 blocks per SM, each at least 16384 elements
        assertArrayEquals(new long[] {16 * SMS, 1}, CudaReduce.vecPlan(1, 1L << 28, SMS));
        assertArrayEquals(new long[] {64, 1}, CudaReduce.vecPlan(1, 1L << 20, SMS));
        // 5 rows of 70001: at most 70001 / 16384 = 4 splits each
        assertArrayEquals(new long[] {4, 5}, CudaReduce.vecPlan(5, 70001, SMS));
        // many rows too long for a warp: a block per row, no split
        assertArrayEquals(new long[] {1, 10000}, CudaReduce.vecPlan(10000, 100000, SMS));
        // too few rows to fill the GPU one warp each, too short to split: a block per row
        assertArrayEquals(new long[] {1, 1000}, CudaReduce.vecPlan(1000, 4096, SMS));
    }

    @Test
    void softmaxRowsFitTheirThreadsRegisters() {
        assertArrayEquals(new int[] {32, 4}, CudaSoftmax.vecPlan(512, 4));    // F32 rows of 512: a warp, 4 float4 per lane
        assertArrayEquals(new int[] {256, 4}, CudaSoftmax.vecPlan(4096, 4));  // F32 rows of 4096: 256 threads x 4 float4
        assertArrayEquals(new int[] {32, 1}, CudaSoftmax.vecPlan(36, 4));
        assertArrayEquals(new int[] {512, 8}, CudaSoftmax.vecPlan(32768, 2)); // F16: the longest row in registers
        assertNull(CudaSoftmax.vecPlan(32768, 4), "F32 rows of 32768 need more than 8 packs per thread");
        for (int es : new int[] {2, 4, 8}) {
            int v = 16 / es;
            for (long L = v; L <= 20000; L += v) {
                int[] p = CudaSoftmax.vecPlan(L, es);
                if (p == null) continue;
                String w = "L=" + L + " elem " + es;
                assertTrue((long) p[0] * p[1] * v >= L, w + ": the row fits");
                assertTrue(p[0] == 32 ? p[1] <= CudaSoftmax.VWARP_MAX_PACKS : p[1] >= 2 && p[1] <= CudaSoftmax.VEC_MAX_PACKS, w + ": a built kernel");
                assertTrue(p[0] <= CudaSoftmax.VBLOCK_MAX_THREADS && Integer.bitCount(p[1]) == 1, w);
            }
        }
    }

    @Test
    void simt2LoadsFloat4OnlyWhereTheLayoutAllows() {
        long base = 1L << 20;
        Mat a = new Mat(base, 0, 64, 1), b = new Mat(base, 0, 96, 1);
        assertEquals("vv", CudaGemm.simt2Variant(a, b, 96, 64));
        assertEquals("sv", CudaGemm.simt2Variant(new Mat(base, 0, 1, 64), b, 96, 64), "A column-major");
        assertEquals("vs", CudaGemm.simt2Variant(a, new Mat(base, 0, 1, 64), 96, 64), "B column-major");
        assertEquals("sv", CudaGemm.simt2Variant(new Mat(base + 4, 0, 64, 1), b, 96, 64), "A not 16-byte aligned");
        assertEquals("ss", CudaGemm.simt2Variant(new Mat(base, 0, 66, 1), new Mat(base, 0, 98, 1), 98, 66), "odd sizes");
    }
}
