package io.jtensor.bindings.cublas;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jtensor.bindings.BoundLibrary;
import io.jtensor.bindings.LibrarySpec;
import io.jtensor.bindings.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * cuBLAS (libcublas.so.13 / .12): handles, streams, math mode and the two mixed-precision GEMMs. Column-major, as
 * cuBLAS is; callers wanting row-major C = A B compute C^T = B^T A^T. Statuses other than success become
 * {@link CublasException}s naming the status and the call.
 */
public final class Cublas {
    public static final LibrarySpec SPEC = new LibrarySpec("cuBLAS", List.of("libcublas.so"),
            List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"), false, List.of("libcublasLt.so"));

    // cublasOperation_t
    public static final int OP_N = 0;
    public static final int OP_T = 1;
    // cudaDataType
    public static final int R_32F = 0;
    public static final int R_64F = 1;
    public static final int R_16F = 2;
    public static final int R_16BF = 14;
    // cublasComputeType_t
    public static final int COMPUTE_16F = 64;
    public static final int COMPUTE_32F = 68;
    public static final int COMPUTE_32F_PEDANTIC = 69;
    public static final int COMPUTE_64F = 70;
    public static final int COMPUTE_32F_FAST_TF32 = 77;
    // cublasMath_t
    public static final int DEFAULT_MATH = 0;
    public static final int PEDANTIC_MATH = 2;
    public static final int TF32_TENSOR_OP_MATH = 3;
    /** CUBLAS_GEMM_DEFAULT: let cuBLAS choose the algorithm. */
    public static final int GEMM_DEFAULT = -1;

    private static final Map<Integer, String> STATUS = Map.ofEntries(
            Map.entry(0, "CUBLAS_STATUS_SUCCESS"), Map.entry(1, "CUBLAS_STATUS_NOT_INITIALIZED"),
            Map.entry(3, "CUBLAS_STATUS_ALLOC_FAILED"), Map.entry(7, "CUBLAS_STATUS_INVALID_VALUE"),
            Map.entry(8, "CUBLAS_STATUS_ARCH_MISMATCH"), Map.entry(11, "CUBLAS_STATUS_MAPPING_ERROR"),
            Map.entry(13, "CUBLAS_STATUS_EXECUTION_FAILED"), Map.entry(14, "CUBLAS_STATUS_INTERNAL_ERROR"),
            Map.entry(15, "CUBLAS_STATUS_NOT_SUPPORTED"), Map.entry(16, "CUBLAS_STATUS_LICENSE_ERROR"));

    private static final BoundLibrary LIB = new BoundLibrary("cuBLAS", SPEC);

    private Cublas() {}

    /** The status's name, e.g. CUBLAS_STATUS_INVALID_VALUE. */
    public static String statusName(int status) {
        String s = STATUS.get(status);
        return s != null ? s : "CUBLAS_STATUS_UNRECOGNIZED(" + status + ")";
    }

    public static void load() { LIB.load(H::touch); }

    public static boolean isLoadable() { return LIB.isLoadable(H::touch); }

    public static String location() { return LIB.where(); }

    private static void ready() {
        if (!LIB.isReady()) load();
    }

    private static final class H {
        static final SymbolLookup L = LIB.lookup();
        static final MethodHandle create = f("cublasCreate_v2", ADDRESS);
        static final MethodHandle destroy = f("cublasDestroy_v2", JAVA_LONG);
        static final MethodHandle setStream = f("cublasSetStream_v2", JAVA_LONG, JAVA_LONG);
        static final MethodHandle setMathMode = f("cublasSetMathMode", JAVA_LONG, JAVA_INT);
        static final MethodHandle getVersion = f("cublasGetVersion_v2", JAVA_LONG, ADDRESS);
        static final MethodHandle gemmEx = f("cublasGemmEx", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT);
        static final MethodHandle gemmStridedBatchedEx = f("cublasGemmStridedBatchedEx", JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT,
                JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT);

        static void touch() {}

        private static MethodHandle f(String symbol, MemoryLayout... args) {
            return Native.downcall(L, "cuBLAS", symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    private static void check(int status, String call) {
        if (status != 0) throw new CublasException(status, call);
    }

    public static long create() {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.create.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("cublasCreate", t); }
        check(r, "cublasCreate");
        return out.get(JAVA_LONG, 0);
    }

    public static void destroy(long handle) {
        ready();
        int r;
        try { r = (int) H.destroy.invokeExact(handle); } catch (Throwable t) { throw Native.rethrow("cublasDestroy", t); }
        check(r, "cublasDestroy");
    }

    public static void setStream(long handle, long stream) {
        ready();
        int r;
        try { r = (int) H.setStream.invokeExact(handle, stream); } catch (Throwable t) { throw Native.rethrow("cublasSetStream", t); }
        check(r, "cublasSetStream");
    }

    public static void setMathMode(long handle, int mode) {
        ready();
        int r;
        try { r = (int) H.setMathMode.invokeExact(handle, mode); } catch (Throwable t) { throw Native.rethrow("cublasSetMathMode", t); }
        check(r, "cublasSetMathMode");
    }

    public static int version(long handle) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.getVersion.invokeExact(handle, out); } catch (Throwable t) { throw Native.rethrow("cublasGetVersion", t); }
        check(r, "cublasGetVersion");
        return out.get(JAVA_INT, 0);
    }

    /**
     * C = alpha op(A) op(B) + beta C, column-major. {@code alphaBeta} is a host segment holding alpha then beta in
     * the compute type's scalar type (float for COMPUTE_32F*, double for COMPUTE_64F), e.g. from {@link #scalars}.
     */
    public static void gemmEx(long handle, int transA, int transB, int m, int n, int k, MemorySegment alphaBeta,
                              long a, int aType, int lda, long b, int bType, int ldb, long c, int cType, int ldc,
                              int computeType, int algo) {
        ready();
        long half = alphaBeta.byteSize() / 2;
        int r;
        try {
            r = (int) H.gemmEx.invokeExact(handle, transA, transB, m, n, k, alphaBeta, a, aType, lda, b, bType, ldb,
                    alphaBeta.asSlice(half), c, cType, ldc, computeType, algo);
        } catch (Throwable t) {
            throw Native.rethrow("cublasGemmEx", t);
        }
        check(r, "cublasGemmEx");
    }

    /** Strided-batched {@link #gemmEx}: matrix i of A starts at a + i*strideA elements, likewise B and C. */
    public static void gemmStridedBatchedEx(long handle, int transA, int transB, int m, int n, int k, MemorySegment alphaBeta,
                                            long a, int aType, int lda, long strideA, long b, int bType, int ldb, long strideB,
                                            long c, int cType, int ldc, long strideC, int batch, int computeType, int algo) {
        ready();
        long half = alphaBeta.byteSize() / 2;
        int r;
        try {
            r = (int) H.gemmStridedBatchedEx.invokeExact(handle, transA, transB, m, n, k, alphaBeta, a, aType, lda, strideA,
                    b, bType, ldb, strideB, alphaBeta.asSlice(half), c, cType, ldc, strideC, batch, computeType, algo);
        } catch (Throwable t) {
            throw Native.rethrow("cublasGemmStridedBatchedEx", t);
        }
        check(r, "cublasGemmStridedBatchedEx");
    }

    /** A per-thread host buffer holding alpha and beta for the compute type (float, or double for COMPUTE_64F). */
    public static MemorySegment scalars(int computeType, double alpha, double beta) {
        if (computeType == COMPUTE_64F) {
            MemorySegment s = Native.scratch(16);
            s.set(java.lang.foreign.ValueLayout.JAVA_DOUBLE, 0, alpha);
            s.set(java.lang.foreign.ValueLayout.JAVA_DOUBLE, 8, beta);
            return s;
        }
        MemorySegment s = Native.scratch(8);
        s.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, (float) alpha);
        s.set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4, (float) beta);
        return s;
    }
}
