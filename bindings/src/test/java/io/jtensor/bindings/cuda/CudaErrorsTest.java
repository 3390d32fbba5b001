package io.jtensor.bindings.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.bindings.cublas.Cublas;
import io.jtensor.bindings.cublas.CublasException;
import io.jtensor.bindings.nvml.Nvml;
import io.jtensor.bindings.nvml.NvmlException;
import org.junit.jupiter.api.Test;

class CudaErrorsTest {
    @Test
    void namesFromCudaH() {
        assertEquals("CUDA_SUCCESS", CudaErrors.name(0));
        assertEquals("CUDA_ERROR_INVALID_VALUE", CudaErrors.name(1));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaErrors.name(2));
        assertEquals("CUDA_ERROR_STUB_LIBRARY", CudaErrors.name(34));
        assertEquals("CUDA_ERROR_NO_DEVICE", CudaErrors.name(100));
        assertEquals("CUDA_ERROR_NO_BINARY_FOR_GPU", CudaErrors.name(209));
        assertEquals("CUDA_ERROR_NOT_READY", CudaErrors.name(600));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CudaErrors.name(700));
        assertEquals("CUDA_ERROR_LAUNCH_FAILED", CudaErrors.name(719));
        assertEquals("CUDA_ERROR_UNKNOWN", CudaErrors.name(999));
        assertEquals("CUDA_ERROR_UNRECOGNIZED(12345)", CudaErrors.name(12345));
        assertFalse(CudaErrors.known(12345));
    }

    @Test
    void exceptionNamesErrorAndCall() {
        CudaException e = new CudaException(2, CudaErrors.name(2), "cuMemAlloc", null);
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY in cuMemAlloc", e.getMessage());
        assertTrue(e.isOutOfMemory());
        assertEquals("cuMemAlloc", e.call());
        CudaException d = new CudaException(700, CudaErrors.name(700), "cuStreamSynchronize", "an illegal memory access was encountered");
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS in cuStreamSynchronize: an illegal memory access was encountered", d.getMessage());
    }

    @Test
    void driverWithoutLibraryFallsBackToTable() {
        // Whether or not a driver is present, the name of a known code is the table's.
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaDriver.errorName(2));
    }

    @Test
    void cublasAndNvmlStatusNames() {
        assertEquals("CUBLAS_STATUS_INVALID_VALUE in cublasGemmEx", new CublasException(7, "cublasGemmEx").getMessage());
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.statusName(15));
        assertEquals("CUBLAS_STATUS_UNRECOGNIZED(99)", Cublas.statusName(99));
        assertEquals("NVML_ERROR_NOT_SUPPORTED in nvmlDeviceGetTemperature", new NvmlException(3, "nvmlDeviceGetTemperature").getMessage());
        assertEquals("NVML_ERROR_UNKNOWN", Nvml.errorName(999));
        assertEquals("NVML_ERROR_GPU_IS_LOST", Nvml.errorName(15));
    }
}
