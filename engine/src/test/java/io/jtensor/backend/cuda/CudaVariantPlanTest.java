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
    void vec2ReduceGivesEachLaneAboutFourPacksAndCapsTheGrid() {
        // rows of 256 F32 = 64 packs: 16 lanes x 4 packs, 2 rows per warp, 16 per block of 8 warps
        assertEquals(16, CudaReduce.v2Lanes(256, 4));
        assertEquals(32, CudaReduce.v2Lanes(4096, 4));   // 1024 packs: a warp per row, 32 packs per lane
        assertEquals(4, CudaReduce.v2Lanes(64, 4));      // 16 packs: 4 lanes x 4
        assertEquals(8, CudaReduce.v2Lanes(128, 4));
        assertEquals(32, CudaReduce.v2Lanes(256, 8));    // F64: 128 packs
        assertEquals(8, CudaReduce.v2Lanes(256, 2));     // BF16: 32 packs
        assertEquals(4, CudaReduce.v2Lanes(64, 2), "never fewer than 4 lanes, even with 2 packs each");
        for (int es : new int[] {2, 4, 8}) {
            for (long n = 1; n <= 40000; n += 37) {
                int g = CudaReduce.v2Lanes(n, es);
                long packs = n * es / 16;
                assertTrue(g == 4 || g == 8 || g == 16 || g == 32, "built lane counts only");
                assertTrue(g == 4 || packs >= 4L * g, "n=" + n + ": >= 4 packs per lane once above 4 lanes");
                assertTrue(g == 32 || packs < 8L * g, "n=" + n + ": doubling the lanes would leave fewer than 4");
            }
        }
        // 2^20 rows of 256 F32: 65536 blocks wanted, capped at 64 per SM (the warps stride over the rest)
        assertArrayEquals(new long[] {16, 64 * SMS}, CudaReduce.v2Plan(1L << 20, 256, 4, SMS));
        // 2^16 rows of 4096: 8 rows per block, 8192 blocks (under the cap: one row per warp, as VEC)
        assertArrayEquals(new long[] {32, 8192}, CudaReduce.v2Plan(1L << 16, 4096, 4, SMS));
        // a partial last block of rows: 5000 rows of 64 F32, 4 lanes -> 64 rows per block
        assertArrayEquals(new long[] {4, (5000 + 63) / 64}, CudaReduce.v2Plan(5000, 64, 4, SMS));
        assertNull(CudaReduce.v2Plan(32L * SMS - 1, 256, 4, SMS), "too few rows: VEC's block per row");
        assertNull(CudaReduce.v2Plan(1L << 16, CudaReduce.VWARP_MAX_ROW + 1, 4, SMS), "rows too long for a warp");
    }

    @Test
    void vec2SoftmaxStagesLongRowsInSharedMemory() {
        long optin = 227 * 1024 - CudaSoftmax.STAGE_STATIC_RESERVE;  // H100/H200
        // rows of 16384 F32 = 4096 packs: 256 threads x (4 in registers + 12 staged = 48 KB)
        assertArrayEquals(new int[] {256, 12}, CudaSoftmax.stagePlan(16384, 4, optin));
        assertArrayEquals(new int[] {256, 12}, CudaSoftmax.stagePlan(32768, 2, optin));  // BF16/F16, same bytes
        assertArrayEquals(new int[] {256, 5}, CudaSoftmax.stagePlan(8196, 4, optin));    // 2049 packs: just above VEC's
        assertNull(CudaSoftmax.stagePlan(8192, 4, optin), "2048 packs: VEC's vblock (512 x 4)");
        assertNull(CudaSoftmax.stagePlan(4096, 4, optin), "VEC's kernels, measured at 99%");
        assertNull(CudaSoftmax.stagePlan(16384, 8, optin), "F64 is not built");
        // with a 47 KB limit 256 threads would need 48 KB of staging: 1024 threads hold the row in registers alone
        assertArrayEquals(new int[] {1024, 0}, CudaSoftmax.stagePlan(16384, 4, 48 * 1024 - 1024));
        // the longest rows 256 threads take under 226 KB: (4 + 56) x 256 packs
        assertArrayEquals(new int[] {256, 56}, CudaSoftmax.stagePlan(60L * 256 * 4, 4, optin));
        // one pack more needs a 57th staged slot (228 KB): 1024 threads, 4 + ceil(11265 / 1024) = 4 + 12 packs each
        assertArrayEquals(new int[] {1024, 12}, CudaSoftmax.stagePlan(60L * 256 * 4 + 4, 4, optin));
        assertNull(CudaSoftmax.stagePlan(100_000, 4, optin), "too long for 1024 threads: the baseline's two passes");
        for (int es : new int[] {2, 4}) {
            int v = 16 / es;
            for (long L = v; L <= 100_000; L += 7L * v) {
                int[] p = CudaSoftmax.stagePlan(L, es, optin);
                if (p == null) continue;
                long packs = L / v;
                assertTrue(packs > CudaSoftmax.STAGE_MIN_PACKS, "L=" + L);
                assertTrue((long) p[0] * (CudaSoftmax.STAGE_REG_PACKS + p[1]) >= packs, "L=" + L + ": the row fits");
                assertTrue((long) p[1] * p[0] * 16 <= optin, "L=" + L + ": the staging fits the limit");
                assertTrue(p[1] == 0 || (long) p[0] * (CudaSoftmax.STAGE_REG_PACKS + p[1] - 1) < packs, "L=" + L + ": no idle staged slot row");
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

    @Test
    void aSmallOutputOverALongKIsSplitIntoAlignedSlicesThatFillTheGpu() {
        // ResNet's 64->64 3x3 weight gradient at batch 32 (F32): 64 x 576 = 5 tiles of 128^2, K = 32 * 56 * 56
        long K = 32L * 56 * 56;
        SplitK s = SplitK.plan(64, 576, K, 1, SMS, 64L * 576 * 4, CudaConv.PARTS_BUDGET);
        assertTrue(s.slices() * 5 >= 2 * SMS && (s.slices() - 1) * 5 < 2 * SMS + 5 * 2, "about two blocks per SM: " + s);
        assertSlicesCover(s, K);
        // the last slice shorter: 53 slices of 1920 cover 100352 with 512 left for the last
        assertEquals(1920, s.sliceK());
        assertEquals(52, s.fullSlices(K));
        assertEquals(512, s.rest(K));
        // groups count as tiles: 4 groups of the same product need a quarter of the slices
        SplitK grouped = SplitK.plan(64, 576, K, 4, SMS, 4 * 64L * 576 * 4, CudaConv.PARTS_BUDGET);
        assertEquals(Math.ceil(2.0 * SMS / 20), grouped.slices(), 1.0, grouped.toString());
        assertSlicesCover(grouped, K);
    }

    @Test
    void noSplitWhenTheOutputFillsTheGpuOrKIsShortOrThePartialsWouldNotFit() {
        // 2 x 132 tiles already
        assertEquals(1, SplitK.plan(128 * 12, 128 * 22, 1 << 20, 1, SMS, 4, CudaConv.PARTS_BUDGET).slices());
        // K under two minimum slices
        assertEquals(1, SplitK.plan(64, 64, 2 * SplitK.MIN_SLICE_K - 1, 1, SMS, 4, CudaConv.PARTS_BUDGET).slices());
        // each partial output as large as the whole budget
        assertEquals(1, SplitK.plan(64, 64, 1 << 20, 1, SMS, CudaConv.PARTS_BUDGET, CudaConv.PARTS_BUDGET).slices());
        // the budget caps the count: 3 partials fit
        assertEquals(3, SplitK.plan(64, 64, 1 << 20, 1, SMS, CudaConv.PARTS_BUDGET / 3, CudaConv.PARTS_BUDGET).slices());
        // the shortest K that splits: two slices of MIN_SLICE_K
        SplitK two = SplitK.plan(64, 64, 2 * SplitK.MIN_SLICE_K, 1, SMS, 4, CudaConv.PARTS_BUDGET);
        assertEquals(2, two.slices());
        assertSlicesCover(two, 2 * SplitK.MIN_SLICE_K);
        // a K that is no multiple of 8 (the last slice takes the odd part)
        long odd = 13L * 196;
        SplitK s = SplitK.plan(4, 27, odd, 2, SMS, 8 * 27 * 4, CudaConv.PARTS_BUDGET);
        assertEquals(2, s.slices());
        assertSlicesCover(s, odd);
        assertEquals(odd - 1280, s.rest(odd));
    }

    /** Slices of sliceK (a multiple of 64) and one shorter last slice cover K exactly, none empty. */
    private static void assertSlicesCover(SplitK s, long K) {
        assertEquals(0, s.sliceK() % SplitK.ALIGN, s.toString());
        assertTrue((s.slices() - 1) * s.sliceK() < K && K <= s.slices() * s.sliceK(), s + " over K = " + K);
        assertEquals(s.slices(), s.fullSlices(K) + (s.rest(K) > 0 ? 1 : 0), s.toString());
    }

    @Test
    void batchNormSplitsEachChannelOverEnoughBlocksToFillTheGpu() {
        // ResNet-20's first stage at batch 128: 16 channels of 128 * 32 * 32 = 131072 elements: 4 x 132 / 16 = 33
        // blocks per channel would fill the GPU, but 131072 / 33 is under MIN_PER_BLOCK: 32 blocks of 4096
        assertEquals(32, CudaBatchNorm.splits(16, 128 * 32 * 32, SMS));
        // many channels: one block each is already 4 per SM
        assertEquals(1, CudaBatchNorm.splits(4 * SMS, 1 << 20, SMS));
        // short channels: no block with fewer than MIN_PER_BLOCK elements, but at least one block
        assertEquals(2, CudaBatchNorm.splits(4, 2 * CudaBatchNorm.MIN_PER_BLOCK, SMS));
        assertEquals(1, CudaBatchNorm.splits(4, 1000, SMS));
        assertEquals(1, CudaBatchNorm.splits(6, 0, SMS));
    }

    @Test
    void aVariantPropertyNamesAVariantInAnyCaseOrFailsListingThem() {
        String p = "jtensor.cuda.variant.softmax";
        assertEquals(CudaSoftmax.Variant.VEC2, KernelVariant.parse(p, " Vec2 ", CudaSoftmax.Variant.VEC));
        assertEquals(CudaSoftmax.Variant.VEC, KernelVariant.parse(p, null, CudaSoftmax.Variant.VEC));
        assertEquals(CudaSoftmax.Variant.VEC, KernelVariant.parse(p, "", CudaSoftmax.Variant.VEC));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> KernelVariant.parse(p, "fast", CudaSoftmax.Variant.VEC));
        assertEquals("-Djtensor.cuda.variant.softmax: expected one of base, vec, vec2, got 'fast'", e.getMessage());
    }

    @Test
    void tensorMapsDescribeNonOverlappingRowsAndBatchesOnly() {
        // A [2][300][520] (rows of 520), B "nn" [2][520][264], B "nt" as [264][520] shared by the batch
        Mat a = new Mat(0, 300 * 520, 520, 1), bNn = new Mat(0, 520 * 264, 264, 1), bNt = new Mat(0, 0, 1, 520);
        assertTrue(CudaGemm.tmaFits(2, 300, 264, 520, a, bNn, "nn"));
        assertTrue(CudaGemm.tmaFits(2, 300, 264, 520, a, bNt, "nt"));
        // batches that overlap (a stride shorter than the matrix) and rows shorter than K are left to WGMMA
        org.junit.jupiter.api.Assertions.assertFalse(CudaGemm.tmaFits(2, 300, 264, 520, new Mat(0, 520, 520, 1), bNn, "nn"));
        org.junit.jupiter.api.Assertions.assertFalse(CudaGemm.tmaFits(1, 300, 264, 520, new Mat(0, 0, 512, 1), bNn, "nn"));
        org.junit.jupiter.api.Assertions.assertFalse(CudaGemm.tmaFits(1, 300, 264, 520, a, new Mat(0, 0, 256, 1), "nn"));
        // extents past 2^32 elements
        org.junit.jupiter.api.Assertions.assertFalse(CudaGemm.tmaFits(1, 1L << 32, 264, 520, a, bNn, "nn"));
    }
}
