package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jtensor.DType;
import io.jtensor.bindings.cudnn.Cudnn;
import org.junit.jupiter.api.Test;

/** Choosing between our convolution kernels and cuDNN, and the cuDNN math rules (pure logic, no GPU). */
class CudaConvSelectTest {
    @Test
    void propertyValuesParse() {
        assertEquals(CudaConv.Impl.JTENSOR, CudaConv.parse(null));
        assertEquals(CudaConv.Impl.JTENSOR, CudaConv.parse(" "));
        assertEquals(CudaConv.Impl.JTENSOR, CudaConv.parse("JTensor"));
        assertEquals(CudaConv.Impl.CUDNN, CudaConv.parse(" cuDNN "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaConv.parse("cublas"));
        assertEquals("-Djtensor.cuda.conv: expected jtensor or cudnn, got 'cublas'", e.getMessage());
    }

    @Test
    void theDefaultIsOurKernels() {
        assumeFalse(System.getProperty(CudaConv.PROPERTY) != null, "-Djtensor.cuda.conv is set for this run");
        assertEquals(CudaConv.Impl.JTENSOR, CudaConv.getDefault());
    }

    @Test
    void selectingCudnnWithoutTheLibraryFailsAndKeepsTheChoice() {
        assumeFalse(Cudnn.isLoadable(), "cuDNN loads on this machine");
        CudaConv.Impl before = CudaConv.getDefault();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaConv.setDefault(CudaConv.Impl.CUDNN));
        assertTrue(e.getMessage().startsWith("CudaConv.setDefault(CUDNN): cuDNN cannot be loaded"), e.getMessage());
        assertTrue(e.getMessage().contains("cuDNN library (libcudnn.so*) not found"), e.getMessage());
        assertEquals(before, CudaConv.getDefault());
        CudaConv.setDefault(CudaConv.Impl.JTENSOR);   // always possible
        assertEquals(CudaConv.Impl.JTENSOR, CudaConv.getDefault());
    }

    @Test
    void f32NeverRunsOnTensorCoresTheOthersTakeWhatTheAlgorithmAsks() {
        assertEquals(Cudnn.FMA_MATH, CudnnConv.initialMath(DType.F32));
        assertEquals(Cudnn.FMA_MATH, CudnnConv.mathFor(DType.F32, Cudnn.FMA_MATH));
        assertEquals(Cudnn.FMA_MATH, CudnnConv.mathFor(DType.F32, Cudnn.DEFAULT_MATH));
        assertEquals(-1, CudnnConv.mathFor(DType.F32, Cudnn.TENSOR_OP_MATH));
        assertEquals(-1, CudnnConv.mathFor(DType.F32, Cudnn.TENSOR_OP_MATH_ALLOW_CONVERSION));
        assertEquals(Cudnn.TENSOR_OP_MATH, CudnnConv.initialMath(DType.F16));
        assertEquals(Cudnn.TENSOR_OP_MATH, CudnnConv.mathFor(DType.BF16, Cudnn.TENSOR_OP_MATH));
        assertEquals(Cudnn.DEFAULT_MATH, CudnnConv.mathFor(DType.F64, Cudnn.DEFAULT_MATH));
    }

    @Test
    void dtypesMapToCudnnDataTypes() {
        assertEquals(Cudnn.DATA_FLOAT, CudnnConv.dataType(DType.F32));
        assertEquals(Cudnn.DATA_DOUBLE, CudnnConv.dataType(DType.F64));
        assertEquals(Cudnn.DATA_HALF, CudnnConv.dataType(DType.F16));
        assertEquals(Cudnn.DATA_BFLOAT16, CudnnConv.dataType(DType.BF16));
        assertThrows(IllegalArgumentException.class, () -> CudnnConv.dataType(DType.I32));
    }

    @Test
    void emptyConvolutionsStayWithOurKernelsAndArraysMustBePackedAndAligned() {
        assertTrue(CudnnConv.takes(1, 5, 7));
        assertFalse(CudnnConv.takes(1, 0, 7));
        assertTrue(CudnnConv.usable(DevArray.contiguous(1L << 20, DType.F16, 2, 3, 4, 5)));
        assertFalse(CudnnConv.usable(DevArray.contiguous((1L << 20) + 2, DType.F16, 2, 3, 4, 5)), "2-byte offset");
        DevArray nhwcView = new DevArray(1L << 20, DType.F32, new long[] {2, 3, 4, 5}, new long[] {60, 1, 15, 3});
        assertFalse(CudnnConv.usable(nhwcView), "channels-last strides");
    }
}
