package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-threaded blocked F64 GEMM, C = A * B (+ C). The same scheme as {@link CpuGemmF32} in a plainer form
 * (one level of K blocking, panels of B as wide as the tile, a 6 x 2-vector kernel): float64 serves gradient checks
 * and reference work, where exactness matters more than the last factor of speed.
 */
final class CpuGemmF64 {
    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int MR = 6;
    static final int NR = 2 * VL;
    static final int KC = 256;
    static final int NC = 1024;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private static final class Workspace {
        final double[] a = new double[MR * KC];
        final double[] b = new double[CpuGemmF32.roundUp(NC, NR) * KC];
        final double[] tile = new double[MR * NR];
    }

    private CpuGemmF64() {}

    /** C[m x n] = A * B, or C += A * B when accumulate; all F64, C with unit column stride. */
    static void gemm(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b, MemorySegment c, long cOff, long cRowStride,
                     boolean accumulate) {
        if (a.dtype() != DType.F64 || b.dtype() != DType.F64) {
            throw new IllegalArgumentException("gemm F64: expected F64 operands, got " + a.dtype() + " and " + b.dtype());
        }
        if (m <= 0 || n <= 0) return;
        if (k <= 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) c.asSlice((cOff + i * cRowStride) * 8, n * 8L).fill((byte) 0);
            }
            return;
        }
        Workspace ws = WORKSPACE.get();
        CpuGemmMatrix bT = b.transpose();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                pack(bT, jc, nc, pc, kc, NR, ws.b);
                boolean add = accumulate || pc > 0;
                for (int ir = 0; ir < m; ir += MR) {
                    int rows = Math.min(MR, m - ir);
                    pack(a, ir, rows, pc, kc, MR, ws.a);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        kernel6x2(kc, ws.a, 0, ws.b, jr * kc, ws.tile);
                        store(ws.tile, c, cOff + ir * cRowStride + jc + jr, cRowStride, rows, cols, add);
                    }
                }
            }
        }
    }

    /** Same layout as {@link CpuGemmPack#pack}: panels of w rows, column after column, zero past the last row. */
    private static void pack(CpuGemmMatrix m, int r0, int rn, int k0, int kn, int w, double[] dst) {
        MemorySegment seg = m.seg();
        long rs = m.rowStride(), cs = m.colStride();
        for (int p = 0; p * w < rn; p++) {
            int rows = Math.min(w, rn - p * w), base = p * w * kn;
            long start = m.off() + (r0 + (long) p * w) * rs + k0 * cs;
            for (int k = 0; k < kn; k++) {
                long col = start + k * cs;
                int d = base + k * w;
                for (int i = 0; i < rows; i++) dst[d + i] = seg.get(F64, (col + i * rs) * 8);
                for (int i = rows; i < w; i++) dst[d + i] = 0;
            }
        }
    }

    private static void store(double[] tile, MemorySegment c, long off, long rowStride, int rows, int cols, boolean add) {
        for (int i = 0; i < rows; i++) {
            long row = (off + i * rowStride) * 8;
            for (int j = 0; j < cols; j++) {
                double t = tile[i * NR + j];
                long o = row + j * 8L;
                c.set(F64, o, add ? t + c.get(F64, o) : t);
            }
        }
    }

    /** 6 rows x 2 vectors: ctile[i * NR + j] = sum over k of a[ao + k*6 + i] * b[bo + k*NR + j]. */
    private static void kernel6x2(int kc, double[] a, int ao, double[] b, int bo, double[] ctile) {
        DoubleVector c0_0 = DoubleVector.zero(S), c0_1 = DoubleVector.zero(S);
        DoubleVector c1_0 = DoubleVector.zero(S), c1_1 = DoubleVector.zero(S);
        DoubleVector c2_0 = DoubleVector.zero(S), c2_1 = DoubleVector.zero(S);
        DoubleVector c3_0 = DoubleVector.zero(S), c3_1 = DoubleVector.zero(S);
        DoubleVector c4_0 = DoubleVector.zero(S), c4_1 = DoubleVector.zero(S);
        DoubleVector c5_0 = DoubleVector.zero(S), c5_1 = DoubleVector.zero(S);
        for (int k = 0; k < kc; k++) {
            DoubleVector b0 = DoubleVector.fromArray(S, b, bo); DoubleVector b1 = DoubleVector.fromArray(S, b, bo + 1 * VL);
            DoubleVector a0 = DoubleVector.broadcast(S, a[ao + 0]); c0_0 = a0.fma(b0, c0_0); c0_1 = a0.fma(b1, c0_1);
            DoubleVector a1 = DoubleVector.broadcast(S, a[ao + 1]); c1_0 = a1.fma(b0, c1_0); c1_1 = a1.fma(b1, c1_1);
            DoubleVector a2 = DoubleVector.broadcast(S, a[ao + 2]); c2_0 = a2.fma(b0, c2_0); c2_1 = a2.fma(b1, c2_1);
            DoubleVector a3 = DoubleVector.broadcast(S, a[ao + 3]); c3_0 = a3.fma(b0, c3_0); c3_1 = a3.fma(b1, c3_1);
            DoubleVector a4 = DoubleVector.broadcast(S, a[ao + 4]); c4_0 = a4.fma(b0, c4_0); c4_1 = a4.fma(b1, c4_1);
            DoubleVector a5 = DoubleVector.broadcast(S, a[ao + 5]); c5_0 = a5.fma(b0, c5_0); c5_1 = a5.fma(b1, c5_1);
            ao += 6;
            bo += NR;
        }
        c0_0.intoArray(ctile, 0 * NR); c0_1.intoArray(ctile, 0 * NR + 1 * VL);
        c1_0.intoArray(ctile, 1 * NR); c1_1.intoArray(ctile, 1 * NR + 1 * VL);
        c2_0.intoArray(ctile, 2 * NR); c2_1.intoArray(ctile, 2 * NR + 1 * VL);
        c3_0.intoArray(ctile, 3 * NR); c3_1.intoArray(ctile, 3 * NR + 1 * VL);
        c4_0.intoArray(ctile, 4 * NR); c4_1.intoArray(ctile, 4 * NR + 1 * VL);
        c5_0.intoArray(ctile, 5 * NR); c5_1.intoArray(ctile, 5 * NR + 1 * VL);
    }
}
