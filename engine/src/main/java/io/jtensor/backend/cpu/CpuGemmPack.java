package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies a block of a {@link CpuGemmMatrix} into the panel layout the F32 micro-kernel reads: rows are cut into
 * panels of {@code w} rows, and each panel is stored column after column, {@code w} floats per column, so that
 * the kernel walks it with unit stride. Rows past the end of the block are zero, so that edge tiles need no
 * special case inside the kernel. F16 and BF16 sources are widened here, which is all the half-precision GEMM
 * needs.
 *
 * <p>For the left operand the rows are the rows of A and the columns run over K; for the right operand the
 * caller passes B transposed, so its rows are the columns of B. Destinations need {@link #SLACK} floats of room
 * past the packed data (the 16 x 16 transposes write whole vectors).
 */
final class CpuGemmPack {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** Floats a destination must have past the packed panels. */
    static final int SLACK = 16;

    private CpuGemmPack() {}

    /**
     * Packs rows [r0, r0 + rn) and columns [k0, k0 + kn) of m into dst from index 0: panel p, column k, lane i
     * goes to {@code dst[p * w * kn + k * w + i]}.
     */
    static void pack(CpuGemmMatrix m, int r0, int rn, int k0, int kn, int w, float[] dst) { pack(m, r0, rn, k0, kn, w, dst, 0); }

    /** As {@link #pack(CpuGemmMatrix, int, int, int, int, int, float[])}, writing from dst[dstOff] on. */
    static void pack(CpuGemmMatrix m, int r0, int rn, int k0, int kn, int w, float[] dst, int dstOff) {
        int panels = (rn + w - 1) / w;
        if (m.dtype() == DType.F32 && m.rowStride() == 1 && w % S.length() == 0 && rn >= w) {
            packAdjacentRows(m.shift(r0, k0), rn, kn, w, dst, dstOff);
            return;
        }
        for (int p = 0; p < panels; p++) {
            int rows = Math.min(w, rn - p * w);
            int base = dstOff + p * w * kn;
            CpuGemmMatrix src = m.shift(r0 + (long) p * w, k0);
            if (m.dtype() == DType.F32) packF32(src, rows, kn, w, dst, base);
            else packHalf(src, rows, kn, w, dst, base);
        }
    }

    /**
     * Rows adjacent in memory (B row-major, or A transposed): walks memory in order, one source line of rn
     * floats per column k, and deals each line's vectors out to the panels. Reading in order lets the hardware
     * prefetcher stream the source; going panel by panel would jump a whole line between every 128 bytes.
     */
    private static void packAdjacentRows(CpuGemmMatrix m, int rn, int kn, int w, float[] dst, int dstOff) {
        MemorySegment seg = m.seg();
        int full = rn / w, vl = S.length();
        int panelSize = w * kn;
        for (int k = 0; k < kn; k++) {
            long line = (m.off() + k * m.colStride()) * 4;
            int d = dstOff + k * w;
            for (int p = 0; p < full; p++, d += panelSize) {
                long src = line + (long) p * w * 4;
                for (int i = 0; i < w; i += vl) {
                    FloatVector.fromMemorySegment(S, seg, src + i * 4L, ByteOrder.nativeOrder()).intoArray(dst, d + i);
                }
            }
        }
        int rest = rn - full * w;
        if (rest > 0) packF32(m.shift((long) full * w, 0), rest, kn, w, dst, dstOff + full * panelSize);
    }

    private static void packF32(CpuGemmMatrix m, int rows, int kn, int w, float[] dst, int base) {
        MemorySegment seg = m.seg();
        long rs = m.rowStride(), cs = m.colStride();
        long start = m.off();
        if (cs == 1 && CpuGemmTranspose.AVAILABLE && (w <= 16 || w % 16 == 0)) {
            // Columns are adjacent (A row-major, or B transposed): transpose 16 x 16 blocks in registers, each
            // group of up to 16 rows at its lane offset in the panel; the ragged end of K goes element-wise.
            int vecEnd = kn - kn % 16;
            long[] rowOffs = new long[16];
            for (int g = 0; g * 16 < rows; g++) {
                int groupRows = Math.min(16, rows - g * 16);
                for (int i = 0; i < groupRows; i++) rowOffs[i] = (start + (g * 16L + i) * rs) * 4;
                for (int k = 0; k < vecEnd; k += 16) {
                    CpuGemmTranspose.block16(seg, rowOffs, groupRows, k * 4L, dst, base + k * w + g * 16, w);
                }
            }
            for (int i = 0; i < rows; i++) {
                long byteOff = (start + i * rs) * 4;
                for (int k = vecEnd; k < kn; k++) dst[base + k * w + i] = seg.get(F32, byteOff + k * 4L);
            }
        } else if (cs == 1 && SCATTER_IS_FAST) {
            // Columns are adjacent (A row-major, or B transposed): read each row a vector at a time and scatter
            // it down its lane of the panel (stride w).
            int[] lanes = scatterIndex(w);
            int vl = S.length(), vecEnd = kn - kn % vl;
            for (int i = 0; i < rows; i++) {
                long byteOff = (start + i * rs) * 4;
                int d = base + i;
                int k = 0;
                for (; k < vecEnd; k += vl) {
                    FloatVector.fromMemorySegment(S, seg, byteOff + k * 4L, ByteOrder.nativeOrder()).intoArray(dst, d + k * w, lanes, 0);
                }
                for (; k < kn; k++) dst[d + k * w] = seg.get(F32, byteOff + k * 4L);
            }
        } else if (rs == 1 && rows == w && w <= S.length()) {
            // Rows adjacent, panel narrower than a vector (A given transposed: W^T in a convolution's input
            // gradient): each k is w consecutive floats, moved as one vector whose spill past w lands in the next
            // k's slot, written next, or in the slack. Only A's panels are this narrow, and each thread packs its
            // own A, so no other thread writes where the spill lands.
            long limit = seg.byteSize();
            for (int k = 0; k < kn; k++) {
                long byteOff = (start + k * cs) * 4;
                int d = base + k * w;
                if (byteOff + S.vectorByteSize() <= limit) FloatVector.fromMemorySegment(S, seg, byteOff, ByteOrder.nativeOrder()).intoArray(dst, d);
                else for (int i = 0; i < w; i++) dst[d + i] = seg.get(F32, byteOff + i * 4L);
            }
        } else if (cs == 1) {
            for (int i = 0; i < rows; i++) {
                long byteOff = (start + i * rs) * 4;
                int d = base + i;
                for (int k = 0; k < kn; k++) dst[d + k * w] = seg.get(F32, byteOff + k * 4L);
            }
        } else {
            for (int k = 0; k < kn; k++) {
                long colOff = start + k * cs;
                int d = base + k * w;
                for (int i = 0; i < rows; i++) dst[d + i] = seg.get(F32, (colOff + i * rs) * 4);
            }
        }
        zeroTail(rows, kn, w, dst, base);
    }

    private static void packHalf(CpuGemmMatrix m, int rows, int kn, int w, float[] dst, int base) {
        MemorySegment seg = m.seg();
        long rs = m.rowStride(), cs = m.colStride();
        boolean bf16 = m.dtype() == DType.BF16;
        if (m.dtype() != DType.F16 && !bf16) throw new IllegalArgumentException("gemm: cannot pack " + m.dtype() + " as float");
        for (int i = 0; i < rows; i++) {
            long rowOff = m.off() + i * rs;
            int d = base + i;
            for (int k = 0; k < kn; k++) {
                short bits = seg.get(I16, (rowOff + k * cs) * 2);
                dst[d + k * w] = bf16 ? CpuGemmHalf.bf16ToFloat(bits) : Float.float16ToFloat(bits);
            }
        }
        zeroTail(rows, kn, w, dst, base);
    }

    /** AVX-512 has a scatter instruction; on narrower machines the Vector API would emulate it lane by lane. */
    private static final boolean SCATTER_IS_FAST = S.vectorBitSize() >= 512;
    private static final int[][] SCATTER = new int[64][];

    /** {0, w, 2w, ...}: where consecutive columns of one row go in a panel of width w. */
    private static int[] scatterIndex(int w) {
        int[] idx = w < SCATTER.length ? SCATTER[w] : null;
        if (idx == null) {
            idx = new int[S.length()];
            for (int i = 0; i < idx.length; i++) idx[i] = i * w;
            if (w < SCATTER.length) SCATTER[w] = idx;
        }
        return idx;
    }

    /** Lanes past the last real row are zero, so the kernel's extra rows contribute nothing. */
    private static void zeroTail(int rows, int kn, int w, float[] dst, int base) {
        if (rows == w) return;
        for (int k = 0; k < kn; k++) {
            int d = base + k * w;
            for (int i = rows; i < w; i++) dst[d + i] = 0f;
        }
    }
}
