package io.jtensor.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.cuda.CudaDriver;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** What a machine without a GPU (like CI) sees: a clear refusal for CUDA, and a CPU that keeps working. */
class CudaUnavailableTest {
    @Test
    void cudaDeviceFailsWithAClearMessage() {
        assumeFalse(CudaDriver.isLoadable(), "this machine has a CUDA driver");
        assertFalse(Backends.cudaAvailable());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> Device.cuda(0));
        String m = e.getMessage();
        assertTrue(m.startsWith("Device.cuda: CUDA is not available: CUDA driver library (libcuda.so.1*) not found"), m);
        assertTrue(m.contains("Searched, in order:"), m);
        assertTrue(m.contains("-Djtensor.cuda.libs"), m);
        assertEquals(m, Backends.cudaUnavailableReason());
        // The failure is remembered: asking again gives the same answer at once.
        assertSame(e, assertThrows(UnsupportedOperationException.class, () -> Device.parse("cuda:1")));
    }

    @Test
    void cpuKeepsWorkingAfterCudaFailed() {
        assumeFalse(Backends.cudaAvailable(), "this machine has CUDA");
        assertThrows(UnsupportedOperationException.class, () -> Device.cuda(0));
        NDArray a;
        try {
            a = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        } catch (UnsupportedOperationException notYet) {
            assumeTrue(false, "the CPU backend is not implemented on this branch yet: " + notYet);
            return;
        }
        try (a; NDArray b = a.add(a); NDArray s = b.sum()) {
            assertArrayEquals(new float[] {2, 4, 6, 8}, b.toFloatArray());
            assertEquals(20.0, s.item());
            assertEquals(Device.cpu(), b.device());
        }
    }

    @Test
    void kernelsArePackagedAsAFatbinWhenBuiltWithNvcc() throws Exception {
        try (InputStream in = CudaBackend.class.getResourceAsStream(KernelImage.RESOURCE)) {
            assumeTrue(in != null, "built without nvcc: " + KernelImage.missingReason());
            byte[] head = in.readNBytes(16);
            int magic = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            assertEquals(0xBA55ED50, magic, "fatbin header magic");
        }
        assertEquals(null, KernelImage.missingReason());
    }

    @Test
    void missingKernelsAreNamedInTheRefusal() {
        String key = KernelImage.OVERRIDE_PROPERTY;
        String before = System.getProperty(key);
        System.setProperty(key, "/nonexistent/jtensor.fatbin");
        try {
            assertEquals("-D" + key + "=/nonexistent/jtensor.fatbin does not exist", KernelImage.missingReason());
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, CudaBackend::create);
            assertTrue(e.getMessage().contains("/nonexistent/jtensor.fatbin does not exist"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty(key);
            else System.setProperty(key, before);
        }
    }
}
