package io.jtensor.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Single-threaded blocked F32 GEMM, C = A * B (+ C), in the usual three cache levels: a KC x NC panel of B is
 * packed once per (jc, pc) step and stays in L3/L2, an MC x KC block of A is packed per (ic) step and stays in L2,
 * and inside the macro-kernel one KC x NR micro-panel of B stays in L1 while A's micro-panels stream past it.
 * A and B may be F32, F16 or BF16 with any strides (they are widened while packing); C is F32 with unit column
 * stride.
 */
final class CpuGemmF32 {
    // Block sizes; the properties exist for tuning on other machines (the values must stay positive).
    static final int KC = Math.max(1, Integer.getInteger("jtensor.gemm.kc", 256));
    static final int MC = roundUp(Math.max(1, Integer.getInteger("jtensor.gemm.mc", 12 * 24)), CpuGemmKernel.MR);
    static final int NC = roundUp(Math.max(1, Integer.getInteger("jtensor.gemm.nc", 2048)), CpuGemmKernel.NR);
    /** A shared packed B up to this many floats is kept by the calling thread for the next call. */
    private static final int KEEP_SHARED_B = 16 << 20;

    private static final ThreadLocal<float[]> SHARED_B = new ThreadLocal<>();

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Pack buffers, one set per thread, reused across calls. */
    private static final class Workspace {
        final float[] a = new float[roundUp(MC, CpuGemmKernel.MR) * KC + CpuGemmPack.SLACK];
        final float[] b = new float[roundUp(NC, CpuGemmKernel.NR) * KC + CpuGemmPack.SLACK];
        final float[] tile = new float[CpuGemmKernel.MR * CpuGemmKernel.NR];
    }

    private CpuGemmF32() {}

    /**
     * C[m x n] = A[m x k] * B[k x n], or C += A * B when accumulate. C is F32 at element offset cOff of c with
     * row stride cRowStride (elements).
     */
    static void gemm(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b, MemorySegment c, long cOff, long cRowStride,
                     boolean accumulate) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) zero(m, n, c, cOff, cRowStride);
            return;
        }
        if (CpuGemmDot.suits(m, n, k, a, b)) {
            CpuGemmDot.gemm(m, n, k, a, b, c, cOff, cRowStride, accumulate);
            return;
        }
        long rowBytes = cRowStride * 4;
        sweep(m, n, k, a, b, (ws, ic, mc, jc, nc, pc, kc) -> CpuGemmKernel.macro(mc, nc, kc, ws.a, ws.b, 0, c,
                (cOff + ic * cRowStride + jc) * 4, rowBytes, accumulate || pc > 0, ws.tile));
    }

    /** Multiplies one packed block pair: A's rows [ic, ic + mc) and B's columns [jc, jc + nc), K range [pc, pc + kc). */
    @FunctionalInterface
    private interface BlockProduct {
        void multiply(Workspace ws, int ic, int mc, int jc, int nc, int pc, int kc);
    }

    /**
     * The blocked loops on the calling thread: each KC x NC block of B is packed once into the workspace, each
     * MC x KC block of A under it, and the pair handed to product.
     */
    private static void sweep(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b, BlockProduct product) {
        Workspace ws = WORKSPACE.get();
        CpuGemmMatrix bT = b.transpose();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                CpuGemmPack.pack(bT, jc, nc, pc, kc, CpuGemmKernel.NR, ws.b);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    CpuGemmPack.pack(a, ic, mc, pc, kc, CpuGemmKernel.MR, ws.a);
                    product.multiply(ws, ic, mc, jc, nc, pc, kc);
                }
            }
        }
    }

    /**
     * C += A[m x k] * B[k x n] on the calling thread, where row i of C starts at byte cRows[i] of c. Rows may overlap
     * (each is added in full before the next): a convolution's input gradient adds its column rows straight into the
     * padded image this way, instead of writing the columns out and folding them in a second pass.
     */
    static void gemmAddRows(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b, MemorySegment c, long[] cRows) {
        if (m <= 0 || n <= 0 || k <= 0) return;
        sweep(m, n, k, a, b, (ws, ic, mc, jc, nc, pc, kc) -> CpuGemmKernel.macroAddRows(mc, nc, kc, ws.a, ws.b, 0, c, cRows, ic,
                jc * 4L, ws.tile));
    }

    /**
     * Packs the (jc, pc) block of B, columns [jc, jc + nc) and rows [pc, pc + kc), into dst from dstOff in the
     * kernel's panel order: NR-column panels one after another, each kc rows of NR floats, the last zero-padded.
     */
    @FunctionalInterface
    interface BPacker {
        void pack(int jc, int nc, int pc, int kc, float[] dst, int dstOff);
    }

    /**
     * The same product on all threads for one large C: B is packed once, whole, by the threads together, then the
     * rows of C are split into mParts jobs that read the shared panels. No operand is packed twice, where cutting
     * C into independent tiles repacks A (or B) once per tile.
     */
    static void gemmSharedB(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b, MemorySegment c, long cOff, long cRowStride,
                            boolean accumulate, int mParts) {
        CpuGemmMatrix bT = b.transpose();
        gemmPackedB(m, n, k, a, (jc, nc, pc, kc, dst, off) -> CpuGemmPack.pack(bT, jc, nc, pc, kc, CpuGemmKernel.NR, dst, off),
                c, cOff, cRowStride, accumulate, mParts);
    }

    /**
     * {@link #gemmSharedB} with B given by a packer rather than a matrix: a convolution packs its columns straight
     * from the image (CpuConvWide), so no column matrix is ever written out. mParts = 1 runs everything on the
     * calling thread (a convolution already spreads its images over the threads).
     */
    static void gemmPackedB(int m, int n, int k, CpuGemmMatrix a, BPacker packB, MemorySegment c, long cOff, long cRowStride,
                            boolean accumulate, int mParts) {
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) zero(m, n, c, cOff, cRowStride);
            return;
        }
        int nr = roundUp(n, CpuGemmKernel.NR);
        long size = (long) nr * k + CpuGemmPack.SLACK;
        if (size > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("gemm: B of " + k + " x " + n + " is too large to pack");
        float[] packed = sharedB((int) size);
        int jBlocks = (n + NC - 1) / NC, pBlocks = (k + KC - 1) / KC;
        forEach(mParts > 1, jBlocks * pBlocks, job -> {
            int jc = (job / pBlocks) * NC, pc = (job % pBlocks) * KC;
            int nc = Math.min(NC, n - jc), kc = Math.min(KC, k - pc);
            packB.pack(jc, nc, pc, kc, packed, sharedOffset(jc, pc, nc, k));
        });
        int mStep = roundUp((m + mParts - 1) / mParts, CpuGemmKernel.MR);
        long rowBytes = cRowStride * 4;
        forEach(mParts > 1, (m + mStep - 1) / mStep, part -> {
            Workspace ws = WORKSPACE.get();
            int m0 = part * mStep, m1 = Math.min(m, m0 + mStep);
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    int bOff = sharedOffset(jc, pc, nc, k);
                    boolean add = accumulate || pc > 0;
                    for (int ic = m0; ic < m1; ic += MC) {
                        int mc = Math.min(MC, m1 - ic);
                        CpuGemmPack.pack(a, ic, mc, pc, kc, CpuGemmKernel.MR, ws.a);
                        CpuGemmKernel.macro(mc, nc, kc, ws.a, packed, bOff, c, (cOff + ic * cRowStride + jc) * 4, rowBytes, add, ws.tile);
                    }
                }
            }
        });
    }

    private static void forEach(boolean parallel, int count, java.util.function.IntConsumer job) {
        if (parallel) Parallel.forEach(count, job);
        else for (int i = 0; i < count; i++) job.accept(i);
    }

    /** Where the packed (jc, pc) block of B starts: column blocks one after another, each K deep. */
    private static int sharedOffset(int jc, int pc, int nc, int k) {
        return jc * k + pc * roundUp(nc, CpuGemmKernel.NR);
    }

    /** The calling thread's shared-B buffer, grown to size; very large ones are not kept. */
    private static float[] sharedB(int size) {
        float[] buf = SHARED_B.get();
        if (buf != null && buf.length >= size) return buf;
        buf = new float[size];
        if (size <= KEEP_SHARED_B) SHARED_B.set(buf);
        return buf;
    }

    static void zero(int m, int n, MemorySegment c, long cOff, long cRowStride) {
        for (int i = 0; i < m; i++) c.asSlice((cOff + i * cRowStride) * 4, n * 4L).fill((byte) 0);
    }

    static int roundUp(int x, int to) { return (x + to - 1) / to * to; }

}
