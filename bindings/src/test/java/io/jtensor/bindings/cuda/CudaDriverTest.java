package io.jtensor.bindings.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.bindings.LibraryNotFoundException;
import org.junit.jupiter.api.Test;

/** Runs both on machines with and without a driver; each test assumes the case it checks. */
class CudaDriverTest {
    @Test
    void missingDriverSaysWhereItLooked() {
        assumeFalse(CudaDriver.isLoadable(), "a CUDA driver is installed here");
        LibraryNotFoundException e = assertThrows(LibraryNotFoundException.class, CudaDriver::load);
        String m = e.getMessage();
        assertTrue(m.startsWith("CUDA driver library (libcuda.so.1*) not found"), m);
        assertTrue(m.contains("system loader dlopen(\"libcuda.so.1\")"), m);
        assertTrue(m.contains("/usr/local/cuda/lib64"), m);
        assertTrue(m.contains("/usr/lib/x86_64-linux-gnu"), m);
        assertTrue(m.contains("nvidia/*/lib"), m);
        // The same failure is remembered, and every call reports it.
        assertSame(e, assertThrows(LibraryNotFoundException.class, () -> CudaDriver.cuInit(0)));
    }

    @Test
    void presentDriverAnswers() {
        assumeTrue(CudaDriver.isLoadable(), "no CUDA driver here");
        CudaDriver.cuInit(0);
        assertTrue(CudaDriver.cuDriverGetVersion() >= 12000, "driver version " + CudaDriver.cuDriverGetVersion());
        int n = CudaDriver.cuDeviceGetCount();
        assumeTrue(n > 0, "driver without devices");
        int dev = CudaDriver.cuDeviceGet(0);
        assertTrue(CudaDriver.cuDeviceTotalMem(dev) > 1L << 30);
        assertTrue(!CudaDriver.cuDeviceGetName(dev).isEmpty());
        CudaException bad = assertThrows(CudaException.class, () -> CudaDriver.cuDeviceGet(n + 100));
        assertEquals("CUDA_ERROR_INVALID_DEVICE", bad.errorName());
        assertTrue(bad.getMessage().startsWith("CUDA_ERROR_INVALID_DEVICE in cuDeviceGet"), bad.getMessage());
    }
}
