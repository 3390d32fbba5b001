package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Batched matrix product on the CPU (see Backend.matmul for the contract). F32 runs the packed, register-blocked
 * kernel of {@link CpuGemmF32}; F16 and BF16 are widened while packing, accumulated in F32 and rounded once at
 * the end; F64 has its own kernel. Work is split over the cores by {@link CpuGemmSplit}.
 */
final class CpuGemm {
    private CpuGemm() {}

    static void matmul(NDArray a, NDArray b, NDArray out) {
        long[] as = a.shape(), bs = b.shape(), os = out.shape();
        if (as.length != 3 || bs.length != 3 || os.length != 3) {
            throw new IllegalArgumentException("matmul: expected [B,M,K] @ [B,K,N] -> [B,M,N], got " + Arrays.toString(as)
                    + " @ " + Arrays.toString(bs) + " -> " + Arrays.toString(os));
        }
        if (as[0] != bs[0] || as[0] != os[0] || as[2] != bs[1] || as[1] != os[1] || bs[2] != os[2]) {
            throw new IllegalArgumentException("matmul: shapes do not agree: " + Arrays.toString(as) + " @ " + Arrays.toString(bs)
                    + " -> " + Arrays.toString(os));
        }
        DType dt = a.dtype();
        if (b.dtype() != dt || out.dtype() != dt || !dt.isFloating()) {
            throw new IllegalArgumentException("matmul: expected one floating dtype, got " + a.dtype() + " @ " + b.dtype() + " -> " + out.dtype());
        }
        if (!out.isContiguous()) throw new IllegalArgumentException("matmul: out must be contiguous, got strides " + Arrays.toString(out.strides()));
        int batches = toInt(as[0], "batch"), m = toInt(as[1], "M"), k = toInt(as[2], "K"), n = toInt(bs[2], "N");
        if (out.numel() == 0) return;
        long[] sa = a.strides(), sb = b.strides();
        CpuGemmMatrix am = matrix(a, 1, 2), bm = matrix(b, 1, 2);
        MemorySegment c = CpuGemmMatrix.hostSegment(out.dataAddress(), out.numel() * dt.byteSize());
        long mn = (long) m * n;
        switch (dt) {
            case F32 -> gemm(false, batches, m, n, k, am, sa[0], bm, sb[0], c, 0, n, mn, false, true);
            case F64 -> gemm(true, batches, m, n, k, am, sa[0], bm, sb[0], c, 0, n, mn, false, true);
            default -> {
                // Half precision: accumulate the whole product in F32, round once.
                try (Arena arena = Arena.ofShared()) {
                    MemorySegment acc = arena.allocate(out.numel() * 4, 64);
                    gemm(false, batches, m, n, k, am, sa[0], bm, sb[0], acc, 0, n, mn, false, true);
                    roundToHalf(acc, c, out.numel(), dt);
                }
            }
        }
    }

    /**
     * C[i] = A[i] * B[i] (+ C[i] when accumulate) for i < batches, in F64 when f64 else F32, split over the
     * threads when parallel. Batch i of an operand is its matrix shifted by i times its batch stride (zero when broadcast).
     */
    static void gemm(boolean f64, int batches, int m, int n, int k, CpuGemmMatrix a, long aBatchStride, CpuGemmMatrix b,
                     long bBatchStride, MemorySegment c, long cOff, long cRowStride, long cBatchStride, boolean accumulate,
                     boolean parallel) {
        if (2.0 * batches * m * n * Math.max(k, 1) < CpuGemmSplit.PARALLEL_FLOPS || !Parallel.available()) parallel = false;
        int threads = Parallel.THREADS;
        if (parallel && !f64 && batches < 2 * threads && m >= 2 * threads * CpuGemmKernel.MR) {
            // Few large products: each one on all threads over a B packed once.
            for (int bi = 0; bi < batches; bi++) {
                CpuGemmF32.gemmSharedB(m, n, k, a.plus(bi * aBatchStride), b.plus(bi * bBatchStride), c, cOff + bi * cBatchStride,
                        cRowStride, accumulate, 2 * threads);
            }
            return;
        }
        CpuGemmSplit split = f64 ? CpuGemmSplit.plan(batches, m, n, k, CpuGemmF64.MR, CpuGemmF64.NR, parallel)
                : CpuGemmSplit.plan(batches, m, n, k, CpuGemmKernel.MR, CpuGemmKernel.NR, parallel);
        IntConsumer job = j -> split.run(j, (bi, m0, m1, n0, n1) -> {
            CpuGemmMatrix at = a.plus(bi * aBatchStride).shift(m0, 0), bt = b.plus(bi * bBatchStride).shift(0, n0);
            long co = cOff + bi * cBatchStride + m0 * cRowStride + n0;
            if (f64) CpuGemmF64.gemm(m1 - m0, n1 - n0, k, at, bt, c, co, cRowStride, accumulate);
            else CpuGemmF32.gemm(m1 - m0, n1 - n0, k, at, bt, c, co, cRowStride, accumulate);
        });
        if (parallel) Parallel.forEach(split.jobs(), job);
        else for (int j = 0; j < split.jobs(); j++) job.accept(j);
    }

    /**
     * The matrix formed by dims (rowDim, colDim) of x; other dims are reached through their strides by the
     * caller. The segment spans every element x can reach, whatever the signs of its strides.
     */
    static CpuGemmMatrix matrix(NDArray x, int rowDim, int colDim) {
        long[] shape = x.shape(), strides = x.strides();
        long lo = 0, hi = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 0) { lo = 0; hi = 0; break; }
            long reach = (shape[d] - 1) * strides[d];
            if (reach < 0) lo += reach; else hi += reach;
        }
        int es = x.dtype().byteSize();
        MemorySegment seg = CpuGemmMatrix.hostSegment(x.dataAddress() + lo * es, (hi - lo + 1) * es);
        return new CpuGemmMatrix(seg, -lo, strides[rowDim], strides[colDim], x.dtype());
    }

    /** dst[i] = round(src[i]) for n F32 values into F16 or BF16, split over the threads. */
    static void roundToHalf(MemorySegment src, MemorySegment dst, long n, DType dt) {
        final int chunk = 1 << 16;
        int jobs = (int) ((n + chunk - 1) / chunk);
        boolean bf16 = dt == DType.BF16;
        Parallel.forEach(jobs, j -> {
            long end = Math.min(n, (long) (j + 1) * chunk);
            for (long i = (long) j * chunk; i < end; i++) {
                float f = src.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, bf16 ? CpuGemmHalf.floatToBf16(f) : Float.floatToFloat16(f));
            }
        });
    }

    static int toInt(long v, String what) {
        if (v > Integer.MAX_VALUE) throw new IllegalArgumentException("matmul: " + what + " = " + v + " exceeds the supported 2^31-1");
        return (int) v;
    }
}
