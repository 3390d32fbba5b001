package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jtensor.backend.cuda.CudaGemm.Mat;
import org.junit.jupiter.api.Test;

/** Which tensor-core kernel fits which operand layout (pure logic, no GPU). */
class CudaGemmDispatchTest {
    private static final long BASE = 1L << 20;  // 16-byte aligned

    @Test
    void rowMajorOperandsUseTheNnKernel() {
        Mat a = new Mat(BASE, 64 * 32, 32, 1), b = new Mat(BASE, 32 * 48, 48, 1);
        assertEquals("nn", CudaGemm.tcVariant(a, b, 48, 32));
    }

    @Test
    void aTransposedWeightUsesTheNtKernel() {
        Mat a = new Mat(BASE, 0, 32, 1), bT = new Mat(BASE, 0, 1, 32);  // B = W^T with W [N, K] row-major
        assertEquals("nt", CudaGemm.tcVariant(a, bT, 40, 32));
    }

    @Test
    void misalignedOrOddSizesFallBack() {
        Mat a = new Mat(BASE, 0, 32, 1), b = new Mat(BASE, 0, 48, 1);
        assertNull(CudaGemm.tcVariant(a, b, 48, 30), "K not a multiple of 8");
        assertNull(CudaGemm.tcVariant(new Mat(BASE + 2, 0, 32, 1), b, 48, 32), "A not 16-byte aligned");
        assertNull(CudaGemm.tcVariant(new Mat(BASE, 0, 1, 64), b, 48, 32), "A column-major");
        assertNull(CudaGemm.tcVariant(a, new Mat(BASE, 0, 50, 1), 50, 32), "N not a multiple of 8");
        assertNull(CudaGemm.tcVariant(a, new Mat(BASE, 0, 96, 2), 48, 32), "B strided in both dims");
    }

    @Test
    void sizeOneDimsGetStridesThatLookRowMajor() {
        Mat row = CudaGemm.canonical(BASE, 0, 1, 30, 999, 1);   // a single row: any row stride
        assertEquals(32, row.rowStride());
        assertEquals(1, row.colStride());
        Mat col = CudaGemm.canonical(BASE, 0, 30, 1, 7, 13);    // a single column: unit column stride
        assertEquals(1, col.colStride());
        assertEquals(7, col.rowStride());
        Mat colMajorColumn = CudaGemm.canonical(BASE, 0, 30, 1, 1, 0);
        assertEquals(1, colMajorColumn.rowStride());
        assertEquals(32, colMajorColumn.colStride());
        Mat one = CudaGemm.canonical(BASE, 5, 1, 1, 0, 0);
        assertEquals(8, one.rowStride());
        assertEquals(1, one.colStride());
        assertEquals(5, one.batchStride());
    }
}
