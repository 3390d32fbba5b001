package io.jtensor.bindings.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** The NCCL binding: result names and version codes everywhere; the library calls where libnccl.so.2 is found. */
class NcclTest {
    @Test
    void resultsAreNamedByNcclHValues() {
        assertEquals("ncclSuccess", Nccl.resultName(0));
        assertEquals("ncclUnhandledCudaError", Nccl.resultName(1));
        assertEquals("ncclInvalidUsage", Nccl.resultName(5));
        assertEquals("ncclRemoteError", Nccl.resultName(6));
        assertEquals("ncclInProgress", Nccl.resultName(7));
        assertEquals("ncclResult_t(42)", Nccl.resultName(42));
        var e = new NcclException("ncclAllReduce", 4, "invalid count\n");
        assertEquals("ncclInvalidArgument in ncclAllReduce: invalid count", e.getMessage());
    }

    @Test
    void versionCodesDecodeBothSchemes() {
        assertEquals("2.8.4", Nccl.versionString(2804));
        assertEquals("2.23.4", Nccl.versionString(22304));
        assertEquals("2.30.1", Nccl.versionString(23001));
    }

    @Test
    void theLibraryAnswersWhereItIsInstalled() {
        assumeTrue(Nccl.isLoadable(), () -> "NCCL not installed here (libnccl.so.2 is on GPU hosts): " + reason());
        assertTrue(Nccl.version() >= 20000, "version code " + Nccl.version());
        byte[] id = Nccl.getUniqueId();
        assertEquals(Nccl.UNIQUE_ID_BYTES, id.length);
        boolean nonZero = false;
        for (byte b : id) nonZero |= b != 0;
        assertTrue(nonZero, "ncclGetUniqueId returned 128 zero bytes");
        assertTrue(Nccl.errorString(5).toLowerCase().contains("usage"), Nccl.errorString(5));
    }

    private static String reason() {
        try {
            Nccl.load();
            return "?";
        } catch (RuntimeException e) {
            return e.getMessage().lines().findFirst().orElse("");
        }
    }
}
