package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryStats;
import org.junit.jupiter.api.Test;

/**
 * Logical devices: run in a JVM started with -Djtensor.cuda.logicalDevices=2 (scripts/gpu/run-on-gpu.sh does);
 * skipped otherwise.
 */
class CudaLogicalDevicesGpuTest {
    @Test
    void twoLogicalDevicesOnOneGpuHaveTheirOwnStreamsAndAccounting() {
        gpu();
        assumeTrue(Integer.getInteger(CudaBackend.LOGICAL_DEVICES_PROPERTY, 0) >= 2,
                "needs -D" + CudaBackend.LOGICAL_DEVICES_PROPERTY + "=2");
        Device d0 = Device.cuda(0), d1 = Device.cuda(1);
        assertEquals(Integer.getInteger(CudaBackend.LOGICAL_DEVICES_PROPERTY), Backends.cuda().deviceCount());
        assertNotSame(CudaStreams.defaultStream(d0), CudaStreams.defaultStream(d1));
        MemoryStats s0 = Backends.cuda().memoryStats(d0), s1 = Backends.cuda().memoryStats(d1);
        long a0 = s0.allocated(), a1 = s1.allocated();
        try (NDArray x = NDArray.ones(DType.F32, d1, 1 << 20)) {
            assertEquals(a0, s0.allocated(), "cuda:0 does not see cuda:1's allocation");
            assertTrue(s1.allocated() >= a1 + (4L << 20));
            try (NDArray y = x.mul(3); NDArray z = y.to(d0); NDArray w = z.add(1)) {
                assertEquals(d0, w.device());
                assertClose("across logical devices", NDArray.full(4, DType.F32, Device.cpu(), 1 << 20), w, 0, 0);
            }
        }
        assertEquals(a1, s1.allocated());
    }
}
