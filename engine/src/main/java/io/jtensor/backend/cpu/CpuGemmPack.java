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
 * caller passes B transposed, so its rows are the columns of B.
 */
final class CpuGemmPack {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private CpuGemmPack() {}

    /**
     * Packs rows [r0, r0 + rn) and columns [k0, k0 + kn) of m into dst from index 0: panel p, column k, lane i
     * goes to {@code dst[p * w * kn + k * w + i]}.
     */
    static void pack(CpuGemmMatrix m, int r0, int rn, int k0, int kn, int w, float[] dst) {
        int panels = (rn + w - 1) / w;
        for (int p = 0; p < panels; p++) {
            int rows = Math.min(w, rn - p * w);
            int base = p * w * kn;
            CpuGemmMatrix src = m.shift(r0 + (long) p * w, k0);
            if (m.dtype() == DType.F32) packF32(src, rows, kn, w, dst, base);
            else packHalf(src, rows, kn, w, dst, base);
        }
    }

    private static void packF32(CpuGemmMatrix m, int rows, int kn, int w, float[] dst, int base) {
        MemorySegment seg = m.seg();
        long rs = m.rowStride(), cs = m.colStride();
        long start = m.off();
        if (rs == 1 && rows == w && w % S.length() == 0) {
            // Rows are adjacent in memory (B row-major, or A transposed): each packed column is a vector copy.
            for (int k = 0; k < kn; k++) {
                long byteOff = (start + k * cs) * 4;
                int d = base + k * w;
                for (int i = 0; i < w; i += S.length()) {
                    FloatVector.fromMemorySegment(S, seg, byteOff + i * 4L, ByteOrder.nativeOrder()).intoArray(dst, d + i);
                }
            }
            return;
        }
        if (cs == 1) {
            // Columns are adjacent (A row-major, or B transposed): read each row straight, write with stride w.
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

    /** Lanes past the last real row are zero, so the kernel's extra rows contribute nothing. */
    private static void zeroTail(int rows, int kn, int w, float[] dst, int base) {
        if (rows == w) return;
        for (int k = 0; k < kn; k++) {
            int d = base + k * w;
            for (int i = rows; i < w; i++) dst[d + i] = 0f;
        }
    }
}
