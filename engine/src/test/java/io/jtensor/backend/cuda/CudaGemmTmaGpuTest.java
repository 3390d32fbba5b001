package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.cuda.CudaDriver;
import org.junit.jupiter.api.Test;

/**
 * The F16/BF16 GEMM variant TMA (matmul_wgt_*: operands by the tensor memory accelerator on mbarriers) against the CPU,
 * on the shapes and layouts every variant is checked on. In a class (so a JVM) of its own: a fault in it would poison
 * the CUDA context for any test after it.
 */
class CudaGemmTmaGpuTest {
    @Test
    void tmaVariantAgreesWithTheCpu() {
        Device g = gpu();
        CudaDevice dev = Backends.cuda().device(g);
        assumeTrue(dev.gpu.ccMajor == 9 && dev.gpu.ccMinor == 0, "the TMA kernels are built for sm_90a only; this GPU is sm_"
                + dev.gpu.ccMajor + dev.gpu.ccMinor);
        // on Hopper the variant must not fall back silently: the driver has to encode tensor maps
        assertTrue(CudaDriver.hasTensorMaps(), "a CUDA 12+ driver encodes tensor maps");
        CudaGemm.Variant16 def = CudaGemm.variant16();
        long seed = 3900;
        try {
            CudaGemm.setVariant16(CudaGemm.Variant16.TMA);
            for (DType t : new DType[] {DType.F16, DType.BF16}) {
                for (long[] s : CudaMatmulConvGpuTest.SHAPES16) CudaMatmulConvGpuTest.gemm16Layouts(g, t, s, seed++);
                // nine batch items (a block each), and a K of one partial tile
                CudaMatmulConvGpuTest.gemm16Layouts(g, t, new long[] {9, 130, 260, 200}, seed++);
                CudaMatmulConvGpuTest.gemm16Layouts(g, t, new long[] {2, 64, 64, 24}, seed++);
            }
        } finally {
            CudaGemm.setVariant16(def);
        }
    }
}
