package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.bindings.cublas.Cublas;
import io.jtensor.bindings.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Batched matrix products on the GPU, by jtensor's own kernels (kernels/cu/matmul.cu: tensor cores for F16/BF16,
 * SIMT tiles for F32/F64) or by cuBLAS. Which one: per call ({@link #matmul(NDArray, NDArray, NDArray, Impl)}), or
 * for every call ({@link #setDefault}, initially from {@code -Djtensor.cuda.gemm=jtensor|cublas}, default jtensor).
 * Convolutions use the same choice for their GEMMs.
 */
public final class CudaGemm {
    /** Who computes a GEMM. */
    public enum Impl { JTENSOR, CUBLAS }

    public static final String PROPERTY = "jtensor.cuda.gemm";
    private static volatile Impl defaultImpl = initialImpl();

    static final int TC_SMEM_NN = 3 * (128 * 40 + 32 * 136) * 2;
    static final int TC_SMEM_NT = 3 * (128 * 40 + 128 * 40) * 2;
    static final int TC_SMEM_GEN = (128 * 40 + 32 * 136) * 2;
    private static final int ARGS_BYTES = 96;
    /** matmul_wg_*: a ring of 4 stages of 128x64 A + 256x64 B halves, plus 1 KB to align it (kernels/cu/matmul_sm90.cuh). */
    static final int WG_SMEM = 4 * (128 * 64 + 256 * 64) * 2 + 1024;
    /** matmul_wgt_*: the same ring, then a full and an empty mbarrier per stage. */
    static final int WGT_SMEM = WG_SMEM + 2 * 4 * 8;

    /**
     * Our F16/BF16 kernel: BASE (matmul_tc_*: mma.sync, 128x128 tiles, any GPU from sm_80), WGMMA (matmul_wg_*:
     * Hopper warpgroup MMA, 128x256 tiles; only on compute capability 9.0, elsewhere BASE) or TMA (matmul_wgt_*: as
     * WGMMA, the operands brought in by the tensor memory accelerator on mbarriers; where a tensor map cannot
     * describe an operand, or the driver has none, as WGMMA). Set by
     * {@code -Djtensor.cuda.variant.gemm16=base|wgmma|tma} (default wgmma; TMA waits for a GPU run) or
     * {@link #setVariant16}.
     */
    enum Variant16 { BASE, WGMMA, TMA }

    /**
     * Our F32 kernel: BASE (matmul_simt_f32) or SIMT2 (matmul_simt2_f32_*: float4 shared-memory reads and, where the
     * layout allows, float4 global loads). Set by {@code -Djtensor.cuda.variant.gemm32=base|simt2} (default simt2).
     */
    enum Variant32 { BASE, SIMT2 }

    private static final KernelVariant<Variant16> VARIANT16 = new KernelVariant<>("jtensor.cuda.variant.gemm16", Variant16.WGMMA);
    private static final KernelVariant<Variant32> VARIANT32 = new KernelVariant<>("jtensor.cuda.variant.gemm32", Variant32.SIMT2);

    static Variant16 variant16() { return VARIANT16.get(); }

    static Variant32 variant32() { return VARIANT32.get(); }

    static void setVariant16(Variant16 v) { VARIANT16.set(v); }

    static void setVariant32(Variant32 v) { VARIANT32.set(v); }

    private CudaGemm() {}

    private static Impl initialImpl() {
        String v = System.getProperty(PROPERTY, "jtensor").trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "cublas" -> Impl.CUBLAS;
            case "jtensor", "" -> Impl.JTENSOR;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + ": expected jtensor or cublas, got '" + v + "'");
        };
    }

    public static Impl getDefault() { return defaultImpl; }

    /** Sets who computes GEMMs (matmul and convolutions) from now on. */
    public static void setDefault(Impl impl) { defaultImpl = java.util.Objects.requireNonNull(impl, "impl"); }

    /** Backend.matmul's contract (a [B,M,K], b [B,K,N], out [B,M,N]) computed by impl. */
    public static void matmul(NDArray a, NDArray b, NDArray out, Impl impl) {
        CudaDevice dev = Backends.cuda().device(out.device());
        matmul(dev, DevArray.of(a), DevArray.of(b), DevArray.of(out), impl);
    }

    static void matmul(CudaDevice dev, DevArray a, DevArray b, DevArray out, Impl impl) {
        if (a.rank() != 3 || b.rank() != 3 || out.rank() != 3) throw new IllegalArgumentException("matmul: expected [B,M,K] @ [B,K,N] -> [B,M,N]");
        DType t = out.dtype();
        if (a.dtype() != t || b.dtype() != t) throw new IllegalArgumentException("matmul: dtypes differ: " + a.dtype() + " @ " + b.dtype() + " -> " + t);
        if (!t.isFloating()) throw new IllegalArgumentException("matmul: CUDA GEMMs take floating dtypes, got " + t);
        long B = out.shape()[0], M = out.shape()[1], N = out.shape()[2], K = a.shape()[2];
        if (a.shape()[1] != M || b.shape()[2] != N || b.shape()[1] != K || a.shape()[0] != B || b.shape()[0] != B) {
            throw new IllegalArgumentException("matmul: shapes " + java.util.Arrays.toString(a.shape()) + " @ "
                    + java.util.Arrays.toString(b.shape()) + " -> " + java.util.Arrays.toString(out.shape()) + " do not match");
        }
        if (out.strides()[2] != 1 && N > 1) {
            try (DevArray.Temp tmp = new DevArray.Temp(dev, t, out.shape())) {
                matmul(dev, a, b, tmp.array, impl);
                CudaElementwise.copy(dev, tmp.array, out);
            }
            return;
        }
        long[] as = a.strides(), bs = b.strides(), os = out.strides();
        gemm(dev, impl, t, B, M, N, K, a.address(), B == 1 ? 0 : as[0], as[1], as[2], b.address(), B == 1 ? 0 : bs[0], bs[1], bs[2],
                out.address(), B == 1 ? 0 : os[0], M == 1 ? Math.max(N, 1) : os[1]);
    }

    /** One operand: rows x cols with strides, as given or canonicalised. */
    record Mat(long ptr, long batchStride, long rowStride, long colStride) {}

    /** Gives size-1 dims the stride that makes the matrix look row-major (or column-major) and 8-aligned. */
    static Mat canonical(long ptr, long sb, long rows, long cols, long sr, long sc) {
        if (rows == 1 && cols == 1) return new Mat(ptr, sb, 8, 1);
        if (cols == 1) return sr == 1 ? new Mat(ptr, sb, 1, round8(rows)) : new Mat(ptr, sb, sr, 1);
        if (rows == 1) return sc == 1 ? new Mat(ptr, sb, round8(cols), 1) : new Mat(ptr, sb, 1, sc);
        return new Mat(ptr, sb, sr, sc);
    }

    private static long round8(long v) { return (v + 7) / 8 * 8; }

    /** C[b] (M x N, row stride ldc, unit column stride) = A[b] (M x K) * B[b] (K x N). */
    static void gemm(CudaDevice dev, Impl impl, DType t, long batch, long M, long N, long K,
                     long a, long sAb, long sAm, long sAk, long b, long sBb, long sBk, long sBn, long c, long sCb, long ldc) {
        if (batch == 0 || M == 0 || N == 0) return;
        if (K == 0) {
            // An empty sum: C = 0.
            CudaElementwise.fill(dev, new DevArray(c, t, new long[] {batch, M, N}, new long[] {sCb, ldc, 1}), 0);
            return;
        }
        Mat A = canonical(a, sAb, M, K, sAm, sAk), B = canonical(b, sBb, K, N, sBk, sBn);
        if (impl == Impl.CUBLAS) cublas(dev, t, batch, M, N, K, A, B, c, sCb, ldc);
        else ours(dev, t, batch, M, N, K, A, B, c, sCb, ldc);
    }

    /** A contiguous copy of a strided operand ([batch or 1, rows, cols]); the caller closes it. */
    private static DevArray.Temp contiguousCopy(CudaDevice dev, DType t, long batch, long rows, long cols, Mat m) {
        long nb = m.batchStride() == 0 ? 1 : batch;
        DevArray.Temp tmp = new DevArray.Temp(dev, t, nb, rows, cols);
        CudaElementwise.copy(dev, new DevArray(m.ptr(), t, new long[] {nb, rows, cols}, new long[] {m.batchStride(), m.rowStride(), m.colStride()}), tmp.array);
        return tmp;
    }

    private static Mat of(DevArray.Temp tmp, long rows, long cols, boolean shared) {
        return new Mat(tmp.array.address(), shared ? 0 : rows * cols, cols, 1);
    }

    private static boolean aligned16(long address) { return (address & 15) == 0; }

    /** The tensor-core kernel variant for operands as they are: "nn", "nt", or null when neither fits. */
    static String tcVariant(Mat A, Mat B, long N, long K) {
        boolean k8 = K % 8 == 0;
        boolean aOk = A.colStride() == 1 && A.rowStride() % 8 == 0 && A.batchStride() % 8 == 0 && aligned16(A.ptr()) && k8;
        if (!aOk) return null;
        if (B.colStride() == 1 && B.rowStride() % 8 == 0 && B.batchStride() % 8 == 0 && aligned16(B.ptr()) && N % 8 == 0) return "nn";
        if (B.rowStride() == 1 && B.colStride() % 8 == 0 && B.batchStride() % 8 == 0 && aligned16(B.ptr()) && k8) return "nt";
        return null;
    }

    private static void ours(CudaDevice dev, DType t, long batch, long M, long N, long K, Mat A, Mat B, long c, long sCb, long ldc) {
        if (t == DType.F32 && variant32() == Variant32.SIMT2) {
            launch(dev, "matmul_simt2_f32_" + simt2Variant(A, B, N, K), 0, 128, 128, 256, batch, M, N, K, A, B, c, sCb, ldc);
            return;
        }
        if (t == DType.F32 || t == DType.F64) {
            launch(dev, t == DType.F32 ? "matmul_simt_f32" : "matmul_simt_f64", 0, t == DType.F32 ? 128 : 64,
                    batch, M, N, K, A, B, c, sCb, ldc);
            return;
        }
        if (t != DType.F16 && t != DType.BF16) throw new IllegalArgumentException("matmul: no CUDA GEMM for " + t);
        String prefix = t == DType.F16 ? "matmul_tc_f16_" : "matmul_tc_bf16_";
        DevArray.Temp ta = null, tb = null;
        try {
            String variant = tcVariant(A, B, N, K);
            if (variant == null && K % 8 == 0) {
                // Copying an operand costs O(MK) or O(KN) against the product's O(MNK): make both fit the fast kernels.
                if (tcVariant(A, new Mat(16, 0, 8, 1), 8, K) == null) {
                    ta = contiguousCopy(dev, t, batch, M, K, A);
                    A = of(ta, M, K, A.batchStride() == 0);
                }
                variant = tcVariant(A, B, N, K);
                if (variant == null && N % 8 == 0) {
                    tb = contiguousCopy(dev, t, batch, K, N, B);
                    B = of(tb, K, N, B.batchStride() == 0);
                    variant = tcVariant(A, B, N, K);
                }
            }
            boolean hopper = variant != null && dev.gpu.ccMajor == 9 && dev.gpu.ccMinor == 0;
            if (hopper && variant16() == Variant16.TMA && CudaDriver.hasTensorMaps() && tmaFits(batch, M, N, K, A, B, variant)) {
                launchTma(dev, t, variant, batch, M, N, K, A, B, c, sCb, ldc);
            } else if (hopper && variant16() != Variant16.BASE) {
                String wg = t == DType.F16 ? "matmul_wg_f16_" : "matmul_wg_bf16_";
                launch(dev, wg + variant, WG_SMEM, 128, 256, 256, batch, M, N, K, A, B, c, sCb, ldc);
            } else if ("nn".equals(variant)) launch(dev, prefix + "nn", TC_SMEM_NN, 128, batch, M, N, K, A, B, c, sCb, ldc);
            else if ("nt".equals(variant)) launch(dev, prefix + "nt", TC_SMEM_NT, 128, batch, M, N, K, A, B, c, sCb, ldc);
            else launch(dev, prefix + "gen", TC_SMEM_GEN, 128, batch, M, N, K, A, B, c, sCb, ldc);
        } finally {
            if (ta != null) ta.close();
            if (tb != null) tb.close();
        }
    }

    /** matmul_simt2_f32's operand loads: "v" (float4) for A K-contiguous / B N-contiguous with 4-aligned rows, else "s". */
    static String simt2Variant(Mat A, Mat B, long N, long K) {
        boolean av = A.colStride() == 1 && A.rowStride() % 4 == 0 && A.batchStride() % 4 == 0 && aligned16(A.ptr()) && K % 4 == 0;
        boolean bv = B.colStride() == 1 && B.rowStride() % 4 == 0 && B.batchStride() % 4 == 0 && aligned16(B.ptr()) && N % 4 == 0;
        return (av ? "v" : "s") + (bv ? "v" : "s");
    }

    private static void launch(CudaDevice dev, String kernel, int smem, int tile, long batch, long M, long N, long K,
                               Mat A, Mat B, long c, long sCb, long ldc) {
        launch(dev, kernel, smem, tile, tile, 256, batch, M, N, K, A, B, c, sCb, ldc);
    }

    private static void launch(CudaDevice dev, String kernel, int smem, int tileM, int tileN, int threads, long batch, long M, long N,
                               long K, Mat A, Mat B, long c, long sCb, long ldc) {
        long stream = dev.enter();
        long fn = smem > 0 ? dev.gpu.functionWithSharedMemory(kernel, smem) : dev.gpu.function(kernel);
        KernelArgs args = KernelArgs.start();
        packArgs(args, batch, M, N, K, A, B, sCb, ldc);
        args.ptr(A.ptr()).ptr(B.ptr()).ptr(c).launch(fn, (N + tileN - 1) / tileN, rowTiles(M, tileM), (int) Math.min(batch, 65535), threads, smem, stream);
    }

    /** GemmArgs (kernels/cu/matmul.cu), by value. */
    private static void packArgs(KernelArgs args, long batch, long M, long N, long K, Mat A, Mat B, long sCb, long ldc) {
        MemorySegment s = args.struct(ARGS_BYTES);
        long[] v = {M, N, K, batch, A.batchStride(), A.rowStride(), A.colStride(), B.batchStride(), B.rowStride(), B.colStride(), sCb, ldc};
        for (int i = 0; i < v.length; i++) s.set(ValueLayout.JAVA_LONG, 8L * i, v[i]);
    }

    private static int rowTiles(long M, int tileM) {
        long gy = (M + tileM - 1) / tileM;
        if (gy > 65535) throw new IllegalArgumentException("matmul: M = " + M + " needs more than 65535 row tiles");
        return (int) gy;
    }

    /**
     * Whether tensor maps can describe both operands of a tensor-core layout ("nn" or "nt", whose 16-byte alignment
     * and 8-element strides tcVariant already checked): extents under 2^32, rows that do not overlap, and batches that
     * do not overlap (or one shared matrix).
     */
    static boolean tmaFits(long batch, long M, long N, long K, Mat A, Mat B, String layout) {
        long limit = 1L << 32;
        if (M >= limit || N >= limit || K >= limit || batch >= limit) return false;
        boolean nn = "nn".equals(layout);
        long bInner = nn ? N : K, bOuter = nn ? K : N, bStep = nn ? B.rowStride() : B.colStride();
        return A.rowStride() >= K && bStep >= bInner
                && (A.batchStride() == 0 || A.batchStride() >= M * A.rowStride())
                && (B.batchStride() == 0 || B.batchStride() >= bOuter * bStep);
    }

    /**
     * matmul_wgt_<dt>_<layout>: GemmArgs, then the tensor maps of A ([batch][M][K], boxes of 64 k x 128 rows) and of B
     * ("nn": [batch][K][N], boxes of 64 columns x 64 k; "nt": B^T as [batch][N][K], boxes of 64 k x 256 columns), all
     * with the 128-byte swizzle, then whether each operand steps with the batch (a shared one is read at batch 0).
     */
    private static void launchTma(CudaDevice dev, DType t, String layout, long batch, long M, long N, long K, Mat A, Mat B, long c,
                                  long sCb, long ldc) {
        long stream = dev.enter();
        String kernel = (t == DType.F16 ? "matmul_wgt_f16_" : "matmul_wgt_bf16_") + layout;
        long fn = dev.gpu.functionWithSharedMemory(kernel, WGT_SMEM);
        int dataType = t == DType.F16 ? CudaDriver.TENSOR_MAP_DATA_TYPE_FLOAT16 : CudaDriver.TENSOR_MAP_DATA_TYPE_BFLOAT16;
        boolean aBatched = batch > 1 && A.batchStride() != 0, bBatched = batch > 1 && B.batchStride() != 0;
        KernelArgs args = KernelArgs.start();
        packArgs(args, batch, M, N, K, A, B, sCb, ldc);
        tensorMap(args, dataType, A.ptr(), K, M, A.rowStride(), aBatched ? batch : 1, A.batchStride(), 64, 128);
        if ("nn".equals(layout)) tensorMap(args, dataType, B.ptr(), N, K, B.rowStride(), bBatched ? batch : 1, B.batchStride(), 64, 64);
        else tensorMap(args, dataType, B.ptr(), K, N, B.colStride(), bBatched ? batch : 1, B.batchStride(), 64, 256);
        args.i32(aBatched ? 1 : 0).i32(bBatched ? 1 : 0).ptr(c)
                .launch(fn, (N + 255) / 256, rowTiles(M, 128), (int) Math.min(batch, 65535), 256, WGT_SMEM, stream);
    }

    /**
     * A 3-D tensor map {inner, outer, batches} of 2-byte elements (outerStep and batchStep in elements; a single batch
     * gets the stride just past its matrix) as the next by-value argument.
     */
    private static void tensorMap(KernelArgs args, int dataType, long ptr, long inner, long outer, long outerStep, long batches,
                                  long batchStep, int boxInner, int boxOuter) {
        long batchBytes = 2 * (batches > 1 ? batchStep : outer * outerStep);
        CudaDriver.cuTensorMapEncodeTiled(args.struct(CudaDriver.TENSOR_MAP_BYTES, CudaDriver.TENSOR_MAP_ALIGN), dataType, ptr,
                new long[] {inner, outer, batches}, new long[] {2 * outerStep, batchBytes}, new int[] {boxInner, boxOuter, 1},
                CudaDriver.TENSOR_MAP_INTERLEAVE_NONE, CudaDriver.TENSOR_MAP_SWIZZLE_128B, CudaDriver.TENSOR_MAP_L2_PROMOTION_256B,
                CudaDriver.TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    }

    private static int cublasType(DType t) {
        return switch (t) {
            case F16 -> Cublas.R_16F;
            case BF16 -> Cublas.R_16BF;
            case F32 -> Cublas.R_32F;
            case F64 -> Cublas.R_64F;
            default -> throw new IllegalArgumentException("matmul: cuBLAS has no GEMM for " + t);
        };
    }

    private static int toInt(String what, long v) {
        if (v > Integer.MAX_VALUE || v < 0) throw new IllegalArgumentException("matmul (cuBLAS): " + what + " = " + v + " does not fit in an int");
        return (int) v;
    }

    /**
     * Row-major C = A B is column-major C^T = B^T A^T: cuBLAS's first operand is B (N x K column-major when B is
     * row-major), the second A.
     */
    private static void cublas(CudaDevice dev, DType t, long batch, long M, long N, long K, Mat A, Mat B, long c, long sCb, long ldc) {
        int type = cublasType(t);
        DevArray.Temp ta = null, tb = null;
        try {
            int opB, ldb;
            if (B.colStride() == 1 && B.rowStride() >= N) {
                opB = Cublas.OP_N;
                ldb = toInt("ldb", B.rowStride());
            } else if (B.rowStride() == 1 && B.colStride() >= K) {
                opB = Cublas.OP_T;
                ldb = toInt("ldb", B.colStride());
            } else {
                tb = contiguousCopy(dev, t, batch, K, N, B);
                B = of(tb, K, N, B.batchStride() == 0);
                opB = Cublas.OP_N;
                ldb = toInt("ldb", N);
            }
            int opA, lda;
            if (A.colStride() == 1 && A.rowStride() >= K) {
                opA = Cublas.OP_N;
                lda = toInt("lda", A.rowStride());
            } else if (A.rowStride() == 1 && A.colStride() >= M) {
                opA = Cublas.OP_T;
                lda = toInt("lda", A.colStride());
            } else {
                ta = contiguousCopy(dev, t, batch, M, K, A);
                A = of(ta, M, K, A.batchStride() == 0);
                opA = Cublas.OP_N;
                lda = toInt("lda", K);
            }
            int compute = t == DType.F64 ? Cublas.COMPUTE_64F : Cublas.COMPUTE_32F;
            long stream = dev.enter();
            synchronized (dev) {
                long handle = dev.cublas(stream);
                MemorySegment ab = Cublas.scalars(compute, 1.0, 0.0);
                if (batch == 1) {
                    Cublas.gemmEx(handle, opB, opA, toInt("N", N), toInt("M", M), toInt("K", K), ab, B.ptr(), type, ldb, A.ptr(), type, lda,
                            c, type, toInt("ldc", ldc), compute, Cublas.GEMM_DEFAULT);
                } else {
                    Cublas.gemmStridedBatchedEx(handle, opB, opA, toInt("N", N), toInt("M", M), toInt("K", K), ab, B.ptr(), type, ldb,
                            B.batchStride(), A.ptr(), type, lda, A.batchStride(), c, type, toInt("ldc", ldc), sCb, toInt("batch", batch),
                            compute, Cublas.GEMM_DEFAULT);
                }
            }
        } finally {
            if (ta != null) ta.close();
            if (tb != null) tb.close();
        }
    }
}
