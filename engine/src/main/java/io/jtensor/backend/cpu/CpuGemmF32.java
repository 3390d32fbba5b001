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
    static final int KC = 256;
    static final int MC = 12 * 24;
    static final int NC = 2048;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Pack buffers, one set per thread, reused across calls. */
    private static final class Workspace {
        final float[] a = new float[roundUp(MC, CpuGemmKernel.MR) * KC];
        final float[] b = new float[roundUp(NC, CpuGemmKernel.NR) * KC];
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
        Workspace ws = WORKSPACE.get();
        CpuGemmMatrix bT = b.transpose();
        long rowBytes = cRowStride * 4;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                CpuGemmPack.pack(bT, jc, nc, pc, kc, CpuGemmKernel.NR, ws.b);
                boolean add = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    CpuGemmPack.pack(a, ic, mc, pc, kc, CpuGemmKernel.MR, ws.a);
                    CpuGemmKernel.macro(mc, nc, kc, ws.a, ws.b, c, (cOff + ic * cRowStride + jc) * 4, rowBytes, add, ws.tile);
                }
            }
        }
    }

    static void zero(int m, int n, MemorySegment c, long cOff, long cRowStride) {
        for (int i = 0; i < m; i++) c.asSlice((cOff + i * cRowStride) * 4, n * 4L).fill((byte) 0);
    }

    static int roundUp(int x, int to) { return (x + to - 1) / to * to; }

}
