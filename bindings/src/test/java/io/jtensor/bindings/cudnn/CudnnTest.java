package io.jtensor.bindings.cudnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import io.jtensor.bindings.LibraryNotFoundException;
import io.jtensor.bindings.NativeLibraryLocator;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of the cuDNN binding that need no GPU: status names, the perf-struct layout, locating the library. */
class CudnnTest {
    @TempDir Path tmp;

    @Test
    void statusesAreNamedByCuDnn9Codes() {
        assertEquals("CUDNN_STATUS_SUCCESS", Cudnn.statusName(0));
        assertEquals("CUDNN_STATUS_NOT_INITIALIZED", Cudnn.statusName(1001));
        assertEquals("CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED", Cudnn.statusName(1008));
        assertEquals("CUDNN_STATUS_BAD_PARAM", Cudnn.statusName(2000));
        assertEquals("CUDNN_STATUS_BAD_PARAM_NULL_POINTER", Cudnn.statusName(2002));
        assertEquals("CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER", Cudnn.statusName(2003));
        assertEquals("CUDNN_STATUS_NOT_SUPPORTED", Cudnn.statusName(3000));
        assertEquals("CUDNN_STATUS_NOT_SUPPORTED_SHAPE", Cudnn.statusName(3002));
        assertEquals("CUDNN_STATUS_INTERNAL_ERROR", Cudnn.statusName(4000));
        assertEquals("CUDNN_STATUS_EXECUTION_FAILED", Cudnn.statusName(5000));
    }

    @Test
    void unknownSubCodesStillNameTheirCategory() {
        assertEquals("CUDNN_STATUS_UNRECOGNIZED(2099, BAD_PARAM)", Cudnn.statusName(2099));
        assertEquals("CUDNN_STATUS_UNRECOGNIZED(3999, NOT_SUPPORTED)", Cudnn.statusName(3999));
        assertEquals("CUDNN_STATUS_UNRECOGNIZED(5017, EXECUTION_FAILED)", Cudnn.statusName(5017));
        assertEquals("CUDNN_STATUS_UNRECOGNIZED(9000)", Cudnn.statusName(9000));
        assertEquals("CUDNN_STATUS_UNRECOGNIZED(-1)", Cudnn.statusName(-1));
    }

    @Test
    void exceptionNamesStatusCallAndDetail() {
        CudnnException e = new CudnnException(3000, "cudnnConvolutionForward", "no engine for this config");
        assertEquals("CUDNN_STATUS_NOT_SUPPORTED in cudnnConvolutionForward: no engine for this config", e.getMessage());
        assertEquals(3000, e.status());
        assertEquals("cudnnConvolutionForward", e.call());
        assertEquals("CUDNN_STATUS_BAD_PARAM in cudnnSetTensor4dDescriptor", new CudnnException(2000, "cudnnSetTensor4dDescriptor").getMessage());
    }

    @Test
    void perfResultsAreReadWithTheCStructLayout() {
        // Two cudnnConvolutionFwdAlgoPerf_t written by hand at the offsets of the C struct (48 bytes each).
        MemorySegment s = Arena.ofAuto().allocate(2 * 48, 8);
        int[][] ints = {{6, 0}, {1, 3000}};
        for (int i = 0; i < 2; i++) {
            long o = 48L * i;
            s.set(ValueLayout.JAVA_INT, o, ints[i][0]);
            s.set(ValueLayout.JAVA_INT, o + 4, ints[i][1]);
            s.set(ValueLayout.JAVA_FLOAT, o + 8, -1f);
            s.set(ValueLayout.JAVA_LONG, o + 16, 123456789012L + i);
            s.set(ValueLayout.JAVA_INT, o + 24, i);
            s.set(ValueLayout.JAVA_INT, o + 28, i == 0 ? Cudnn.TENSOR_OP_MATH : Cudnn.FMA_MATH);
        }
        Cudnn.AlgoPerf[] p = Cudnn.readPerf(s, 2);
        assertEquals(new Cudnn.AlgoPerf(6, 0, -1f, 123456789012L, 0, 1), p[0]);
        assertEquals(new Cudnn.AlgoPerf(1, 3000, -1f, 123456789013L, 1, 3), p[1]);
    }

    @Test
    void scalarsAreFloatsExceptForDoubleData() {
        MemorySegment f = Cudnn.scalars(Cudnn.DATA_HALF, 1.0, 0.5);
        assertEquals(8, f.byteSize());
        assertArrayEquals(new float[] {1f, 0.5f}, f.toArray(ValueLayout.JAVA_FLOAT));
        MemorySegment d = Cudnn.scalars(Cudnn.DATA_DOUBLE, 2.0, 0.0);
        assertEquals(16, d.byteSize());
        assertArrayEquals(new double[] {2.0, 0.0}, d.toArray(ValueLayout.JAVA_DOUBLE));
    }

    @Test
    void aMissingLibraryGivesTheLocatorsReport() throws IOException {
        Path venv = tmp.resolve("venv");
        // A wheel layout whose cudnn directory holds only a sub-library: the dispatcher itself is missing.
        Path wheel = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cudnn/lib"));
        Files.writeString(wheel.resolve("libcudnn_cnn.so.9"), "not a library");
        var loc = new NativeLibraryLocator(Map.of("VIRTUAL_ENV", venv.toString()), null, "", List.of(),
                List.of("$VIRTUAL_ENV/lib/python3*/site-packages"));
        LibraryNotFoundException e;
        try {
            NativeLibraryLocator.Loaded found = loc.load(Cudnn.SPEC);
            abort("cuDNN is on this machine's loader path (" + found.where() + "): nothing is missing");
            return;
        } catch (LibraryNotFoundException x) {
            e = x;
        }
        String m = e.getMessage();
        assertTrue(m.startsWith("cuDNN library (libcudnn.so*) not found"), m);
        assertTrue(m.contains(wheel + " (python wheel): no libcudnn.so*"), m);
        assertTrue(m.contains("system loader dlopen(\"libcudnn.so.9\")"), m);
        assertTrue(m.contains("-Djtensor.cuda.libs=DIR[:DIR]"), m);
    }

    @Test
    void aBrokenLibraryFileIsReportedAsFoundButNotLoadable() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("cudnn/lib"));
        Files.writeString(dir.resolve("libcudnn.so.9"), "not a library");
        var loc = new NativeLibraryLocator(Map.of(), dir.toString(), "", List.of(), List.of());
        try {
            NativeLibraryLocator.Loaded found = loc.load(Cudnn.SPEC);
            abort("cuDNN loaded from " + found.where());
        } catch (LibraryNotFoundException e) {
            assertTrue(e.getMessage().contains(dir + " (-Djtensor.cuda.libs): libcudnn.so.9 found but failed to load"), e.getMessage());
        }
    }

    @Test
    void withoutTheLibraryEveryCallFailsWithTheSameClearError() {
        if (Cudnn.isLoadable()) abort("cuDNN loads here (" + Cudnn.location() + ")");
        LibraryNotFoundException a = assertThrows(LibraryNotFoundException.class, Cudnn::create);
        LibraryNotFoundException b = assertThrows(LibraryNotFoundException.class, Cudnn::version);
        assertEquals(a.getMessage(), b.getMessage());
        assertTrue(a.getMessage().startsWith("cuDNN library (libcudnn.so*) not found"), a.getMessage());
        assertEquals(a.getMessage(), Cudnn.unavailableReason());
    }
}
