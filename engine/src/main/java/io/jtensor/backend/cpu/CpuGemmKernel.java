package io.jtensor.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The F32 register-blocked micro-kernel and the macro-kernel that sweeps it over a pair of packed blocks.
 *
 * <p>A tile is {@link #MR} rows by {@link #NR} = two vectors of columns. Its accumulators live in registers for
 * the whole K loop: each step loads two vectors of packed B, broadcasts MR values of packed A and issues 2*MR
 * FMAs, so loads stay well under the FMA rate. MR is chosen so that the 2*MR accumulators plus the three operand
 * registers fit the register file (32 vector registers with AVX-512, 16 with AVX2).
 *
 * <p>The accumulators must start from {@code FloatVector.zero(S)} inside the method: seeding them from a static
 * final vector defeats C2's box elimination and costs a factor of forty. For the same reason the kernel ends by
 * storing its registers to a small heap tile and {@link #store} moves the tile to C: writing C's memory segment
 * from inside the kernel inlines so much segment-access code that C2 gives up and boxes every vector (a factor of
 * a hundred).
 */
final class CpuGemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int NR = 2 * VL;
    static final int MR = VL >= 16 ? 12 : 6;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private CpuGemmKernel() {}

    /**
     * C[0:mc, 0:nc] = (or +=, when add) packed A (mc x kc, panels of MR rows) times packed B (kc x nc, panels of
     * NR columns, from bp[bOff]). C is F32 at byte offset cOff of c with rows cRowBytes apart and unit column stride.
     */
    static void macro(int mc, int nc, int kc, float[] ap, float[] bp, int bOff, MemorySegment c, long cOff, long cRowBytes,
                      boolean add, float[] ctile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int rows = Math.min(MR, mc - ir);
                tile(rows, kc, ap, ir * kc, bp, bOff + jr * kc, ctile);
                store(ctile, c, cOff + ir * cRowBytes + jr * 4L, cRowBytes, rows, cols, add);
            }
        }
    }

    /**
     * As {@link #macro} with add, for a C whose row i starts at byte cRows[rowBase + i] + cColByte of c: the rows may
     * overlap (a convolution's column rows folded into an image), so each row is added in full before the next one.
     */
    static void macroAddRows(int mc, int nc, int kc, float[] ap, float[] bp, int bOff, MemorySegment c, long[] cRows, int rowBase,
                             long cColByte, float[] ctile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
                int rows = Math.min(MR, mc - ir);
                tile(rows, kc, ap, ir * kc, bp, bOff + jr * kc, ctile);
                for (int i = 0; i < rows; i++) addRow(ctile, i, c, cRows[rowBase + ir + i] + cColByte + jr * 4L, cols);
            }
        }
    }

    /**
     * One tile of rows (<= MR) real rows into ctile. A last panel of at most 6 rows (M = 16, or LeNet's 6 channels)
     * takes the 6-row kernel: a third to a half fewer multiply-adds than running 12 rows of which most are padding.
     */
    private static void tile(int rows, int kc, float[] ap, int ao, float[] bp, int bo, float[] ctile) {
        if (MR == 12 && rows > 6) kernel12x2(kc, ap, ao, bp, bo, ctile);
        else kernel6x2(kc, ap, ao, MR, bp, bo, ctile);
    }

    /** c[off ..] += row i of a finished tile, cols floats. */
    private static void addRow(float[] ctile, int i, MemorySegment c, long off, int cols) {
        int t = i * NR, v = 0;
        for (; v + VL <= cols; v += VL) {
            long o = off + v * 4L;
            FloatVector.fromArray(S, ctile, t + v).add(FloatVector.fromMemorySegment(S, c, o, ORDER)).intoMemorySegment(c, o, ORDER);
        }
        for (; v < cols; v++) {
            long o = off + v * 4L;
            c.set(F32, o, ctile[t + v] + c.get(F32, o));
        }
    }

    /** Writes (or adds) the valid rows x cols corner of a finished tile to C. */
    private static void store(float[] ctile, MemorySegment c, long off, long rowBytes, int rows, int cols, boolean add) {
        if (cols == NR) {
            for (int i = 0; i < rows; i++, off += rowBytes) {
                for (int v = 0; v < NR; v += VL) {
                    FloatVector t = FloatVector.fromArray(S, ctile, i * NR + v);
                    long o = off + v * 4L;
                    if (add) t = t.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
                    t.intoMemorySegment(c, o, ORDER);
                }
            }
            return;
        }
        for (int i = 0; i < rows; i++, off += rowBytes) {
            for (int j = 0; j < cols; j++) {
                long o = off + j * 4L;
                float t = ctile[i * NR + j];
                c.set(F32, o, add ? t + c.get(F32, o) : t);
            }
        }
    }

    /** 12 rows x 2 vectors: ctile[i * NR + j] = sum over k of a[ao + k*12 + i] * b[bo + k*NR + j]. */
    private static void kernel12x2(int kc, float[] a, int ao, float[] b, int bo, float[] ctile) {
        FloatVector c0_0 = FloatVector.zero(S), c0_1 = FloatVector.zero(S);
        FloatVector c1_0 = FloatVector.zero(S), c1_1 = FloatVector.zero(S);
        FloatVector c2_0 = FloatVector.zero(S), c2_1 = FloatVector.zero(S);
        FloatVector c3_0 = FloatVector.zero(S), c3_1 = FloatVector.zero(S);
        FloatVector c4_0 = FloatVector.zero(S), c4_1 = FloatVector.zero(S);
        FloatVector c5_0 = FloatVector.zero(S), c5_1 = FloatVector.zero(S);
        FloatVector c6_0 = FloatVector.zero(S), c6_1 = FloatVector.zero(S);
        FloatVector c7_0 = FloatVector.zero(S), c7_1 = FloatVector.zero(S);
        FloatVector c8_0 = FloatVector.zero(S), c8_1 = FloatVector.zero(S);
        FloatVector c9_0 = FloatVector.zero(S), c9_1 = FloatVector.zero(S);
        FloatVector c10_0 = FloatVector.zero(S), c10_1 = FloatVector.zero(S);
        FloatVector c11_0 = FloatVector.zero(S), c11_1 = FloatVector.zero(S);
        for (int k = 0; k < kc; k++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo); FloatVector b1 = FloatVector.fromArray(S, b, bo + 1 * VL);
            FloatVector a0 = FloatVector.broadcast(S, a[ao + 0]); c0_0 = a0.fma(b0, c0_0); c0_1 = a0.fma(b1, c0_1);
            FloatVector a1 = FloatVector.broadcast(S, a[ao + 1]); c1_0 = a1.fma(b0, c1_0); c1_1 = a1.fma(b1, c1_1);
            FloatVector a2 = FloatVector.broadcast(S, a[ao + 2]); c2_0 = a2.fma(b0, c2_0); c2_1 = a2.fma(b1, c2_1);
            FloatVector a3 = FloatVector.broadcast(S, a[ao + 3]); c3_0 = a3.fma(b0, c3_0); c3_1 = a3.fma(b1, c3_1);
            FloatVector a4 = FloatVector.broadcast(S, a[ao + 4]); c4_0 = a4.fma(b0, c4_0); c4_1 = a4.fma(b1, c4_1);
            FloatVector a5 = FloatVector.broadcast(S, a[ao + 5]); c5_0 = a5.fma(b0, c5_0); c5_1 = a5.fma(b1, c5_1);
            FloatVector a6 = FloatVector.broadcast(S, a[ao + 6]); c6_0 = a6.fma(b0, c6_0); c6_1 = a6.fma(b1, c6_1);
            FloatVector a7 = FloatVector.broadcast(S, a[ao + 7]); c7_0 = a7.fma(b0, c7_0); c7_1 = a7.fma(b1, c7_1);
            FloatVector a8 = FloatVector.broadcast(S, a[ao + 8]); c8_0 = a8.fma(b0, c8_0); c8_1 = a8.fma(b1, c8_1);
            FloatVector a9 = FloatVector.broadcast(S, a[ao + 9]); c9_0 = a9.fma(b0, c9_0); c9_1 = a9.fma(b1, c9_1);
            FloatVector a10 = FloatVector.broadcast(S, a[ao + 10]); c10_0 = a10.fma(b0, c10_0); c10_1 = a10.fma(b1, c10_1);
            FloatVector a11 = FloatVector.broadcast(S, a[ao + 11]); c11_0 = a11.fma(b0, c11_0); c11_1 = a11.fma(b1, c11_1);
            ao += 12;
            bo += NR;
        }
        c0_0.intoArray(ctile, 0 * NR); c0_1.intoArray(ctile, 0 * NR + 1 * VL);
        c1_0.intoArray(ctile, 1 * NR); c1_1.intoArray(ctile, 1 * NR + 1 * VL);
        c2_0.intoArray(ctile, 2 * NR); c2_1.intoArray(ctile, 2 * NR + 1 * VL);
        c3_0.intoArray(ctile, 3 * NR); c3_1.intoArray(ctile, 3 * NR + 1 * VL);
        c4_0.intoArray(ctile, 4 * NR); c4_1.intoArray(ctile, 4 * NR + 1 * VL);
        c5_0.intoArray(ctile, 5 * NR); c5_1.intoArray(ctile, 5 * NR + 1 * VL);
        c6_0.intoArray(ctile, 6 * NR); c6_1.intoArray(ctile, 6 * NR + 1 * VL);
        c7_0.intoArray(ctile, 7 * NR); c7_1.intoArray(ctile, 7 * NR + 1 * VL);
        c8_0.intoArray(ctile, 8 * NR); c8_1.intoArray(ctile, 8 * NR + 1 * VL);
        c9_0.intoArray(ctile, 9 * NR); c9_1.intoArray(ctile, 9 * NR + 1 * VL);
        c10_0.intoArray(ctile, 10 * NR); c10_1.intoArray(ctile, 10 * NR + 1 * VL);
        c11_0.intoArray(ctile, 11 * NR); c11_1.intoArray(ctile, 11 * NR + 1 * VL);
    }

    /**
     * 6 rows x 2 vectors: ctile[i * NR + j] = sum over k of a[ao + k*aStep + i] * b[bo + k*NR + j]; aStep is the
     * packed panel's height (6, or 12 for the first rows of a 12-row panel).
     */
    private static void kernel6x2(int kc, float[] a, int ao, int aStep, float[] b, int bo, float[] ctile) {
        FloatVector c0_0 = FloatVector.zero(S), c0_1 = FloatVector.zero(S);
        FloatVector c1_0 = FloatVector.zero(S), c1_1 = FloatVector.zero(S);
        FloatVector c2_0 = FloatVector.zero(S), c2_1 = FloatVector.zero(S);
        FloatVector c3_0 = FloatVector.zero(S), c3_1 = FloatVector.zero(S);
        FloatVector c4_0 = FloatVector.zero(S), c4_1 = FloatVector.zero(S);
        FloatVector c5_0 = FloatVector.zero(S), c5_1 = FloatVector.zero(S);
        for (int k = 0; k < kc; k++) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo); FloatVector b1 = FloatVector.fromArray(S, b, bo + 1 * VL);
            FloatVector a0 = FloatVector.broadcast(S, a[ao + 0]); c0_0 = a0.fma(b0, c0_0); c0_1 = a0.fma(b1, c0_1);
            FloatVector a1 = FloatVector.broadcast(S, a[ao + 1]); c1_0 = a1.fma(b0, c1_0); c1_1 = a1.fma(b1, c1_1);
            FloatVector a2 = FloatVector.broadcast(S, a[ao + 2]); c2_0 = a2.fma(b0, c2_0); c2_1 = a2.fma(b1, c2_1);
            FloatVector a3 = FloatVector.broadcast(S, a[ao + 3]); c3_0 = a3.fma(b0, c3_0); c3_1 = a3.fma(b1, c3_1);
            FloatVector a4 = FloatVector.broadcast(S, a[ao + 4]); c4_0 = a4.fma(b0, c4_0); c4_1 = a4.fma(b1, c4_1);
            FloatVector a5 = FloatVector.broadcast(S, a[ao + 5]); c5_0 = a5.fma(b0, c5_0); c5_1 = a5.fma(b1, c5_1);
            ao += aStep;
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
