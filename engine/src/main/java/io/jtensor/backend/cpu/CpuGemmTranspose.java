package io.jtensor.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 16 x 16 float transposes in registers, for packing operands whose rows run along K (row-major A, or B given
 * transposed as in {@code x @ W.t()}) into the kernel's column-major panels. Four butterfly stages each swap the
 * off-diagonal s x s blocks (s = 8, 4, 2, 1) of every 2s x 2s block with two-vector rearranges; about 0.13 ns per
 * float against ~0.8 for an AVX-512 scatter. Only for 512-bit vectors ({@link #AVAILABLE}).
 *
 * <p>The sixteen rows are sixteen named locals on purpose: held in an array they would be boxed.
 */
final class CpuGemmTranspose {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    static final boolean AVAILABLE = FloatVector.SPECIES_PREFERRED.length() == 16;

    private static final VectorShuffle<Float> LO0 = shuffle(8, true), HI0 = shuffle(8, false);
    private static final VectorShuffle<Float> LO1 = shuffle(4, true), HI1 = shuffle(4, false);
    private static final VectorShuffle<Float> LO2 = shuffle(2, true), HI2 = shuffle(2, false);
    private static final VectorShuffle<Float> LO3 = shuffle(1, true), HI3 = shuffle(1, false);

    private CpuGemmTranspose() {}

    /**
     * For rows (a, b) = (i, i + s): the new a takes a's lanes where bit s of the lane is clear and b's lanes
     * shifted up by s elsewhere; the new b takes a's lanes shifted down by s, then b's own. Negative indexes
     * select from the second vector.
     */
    private static VectorShuffle<Float> shuffle(int s, boolean first) {
        int[] ix = new int[16];
        for (int l = 0; l < 16; l++) {
            boolean clear = (l & s) == 0;
            ix[l] = first ? (clear ? l : (l - s) - 16) : (clear ? l + s : l - 16);
        }
        return VectorShuffle.fromValues(S, ix);
    }

    /**
     * dst[d + c * w + i] = element kByte/4 + c of row i for c, i < 16, where row i starts at byte rowOffs[i] of seg
     * (any rows: a matrix's, or the runs of an image that form a convolution's columns); rows from {@code rows} on
     * read as zero. Each store writes 16 floats, so with w < 16
     * it runs 16 - w floats into the next column's slot: callers write columns in increasing order and leave 16
     * floats of room after the panel.
     */
    static void block16(MemorySegment seg, long[] rowOffs, int rows, long kByte, float[] dst, int d, int w) {
        FloatVector r0 = 0 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[0] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r1 = 1 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[1] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r2 = 2 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[2] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r3 = 3 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[3] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r4 = 4 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[4] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r5 = 5 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[5] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r6 = 6 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[6] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r7 = 7 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[7] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r8 = 8 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[8] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r9 = 9 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[9] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r10 = 10 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[10] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r11 = 11 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[11] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r12 = 12 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[12] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r13 = 13 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[13] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r14 = 14 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[14] + kByte, ORDER) : FloatVector.zero(S);
        FloatVector r15 = 15 < rows ? FloatVector.fromMemorySegment(S, seg, rowOffs[15] + kByte, ORDER) : FloatVector.zero(S);
        { FloatVector t = r0.rearrange(LO0, r8); r8 = r0.rearrange(HI0, r8); r0 = t; }
        { FloatVector t = r1.rearrange(LO0, r9); r9 = r1.rearrange(HI0, r9); r1 = t; }
        { FloatVector t = r2.rearrange(LO0, r10); r10 = r2.rearrange(HI0, r10); r2 = t; }
        { FloatVector t = r3.rearrange(LO0, r11); r11 = r3.rearrange(HI0, r11); r3 = t; }
        { FloatVector t = r4.rearrange(LO0, r12); r12 = r4.rearrange(HI0, r12); r4 = t; }
        { FloatVector t = r5.rearrange(LO0, r13); r13 = r5.rearrange(HI0, r13); r5 = t; }
        { FloatVector t = r6.rearrange(LO0, r14); r14 = r6.rearrange(HI0, r14); r6 = t; }
        { FloatVector t = r7.rearrange(LO0, r15); r15 = r7.rearrange(HI0, r15); r7 = t; }
        { FloatVector t = r0.rearrange(LO1, r4); r4 = r0.rearrange(HI1, r4); r0 = t; }
        { FloatVector t = r1.rearrange(LO1, r5); r5 = r1.rearrange(HI1, r5); r1 = t; }
        { FloatVector t = r2.rearrange(LO1, r6); r6 = r2.rearrange(HI1, r6); r2 = t; }
        { FloatVector t = r3.rearrange(LO1, r7); r7 = r3.rearrange(HI1, r7); r3 = t; }
        { FloatVector t = r8.rearrange(LO1, r12); r12 = r8.rearrange(HI1, r12); r8 = t; }
        { FloatVector t = r9.rearrange(LO1, r13); r13 = r9.rearrange(HI1, r13); r9 = t; }
        { FloatVector t = r10.rearrange(LO1, r14); r14 = r10.rearrange(HI1, r14); r10 = t; }
        { FloatVector t = r11.rearrange(LO1, r15); r15 = r11.rearrange(HI1, r15); r11 = t; }
        { FloatVector t = r0.rearrange(LO2, r2); r2 = r0.rearrange(HI2, r2); r0 = t; }
        { FloatVector t = r1.rearrange(LO2, r3); r3 = r1.rearrange(HI2, r3); r1 = t; }
        { FloatVector t = r4.rearrange(LO2, r6); r6 = r4.rearrange(HI2, r6); r4 = t; }
        { FloatVector t = r5.rearrange(LO2, r7); r7 = r5.rearrange(HI2, r7); r5 = t; }
        { FloatVector t = r8.rearrange(LO2, r10); r10 = r8.rearrange(HI2, r10); r8 = t; }
        { FloatVector t = r9.rearrange(LO2, r11); r11 = r9.rearrange(HI2, r11); r9 = t; }
        { FloatVector t = r12.rearrange(LO2, r14); r14 = r12.rearrange(HI2, r14); r12 = t; }
        { FloatVector t = r13.rearrange(LO2, r15); r15 = r13.rearrange(HI2, r15); r13 = t; }
        { FloatVector t = r0.rearrange(LO3, r1); r1 = r0.rearrange(HI3, r1); r0 = t; }
        { FloatVector t = r2.rearrange(LO3, r3); r3 = r2.rearrange(HI3, r3); r2 = t; }
        { FloatVector t = r4.rearrange(LO3, r5); r5 = r4.rearrange(HI3, r5); r4 = t; }
        { FloatVector t = r6.rearrange(LO3, r7); r7 = r6.rearrange(HI3, r7); r6 = t; }
        { FloatVector t = r8.rearrange(LO3, r9); r9 = r8.rearrange(HI3, r9); r8 = t; }
        { FloatVector t = r10.rearrange(LO3, r11); r11 = r10.rearrange(HI3, r11); r10 = t; }
        { FloatVector t = r12.rearrange(LO3, r13); r13 = r12.rearrange(HI3, r13); r12 = t; }
        { FloatVector t = r14.rearrange(LO3, r15); r15 = r14.rearrange(HI3, r15); r14 = t; }
        r0.intoArray(dst, d + 0 * w);
        r1.intoArray(dst, d + 1 * w);
        r2.intoArray(dst, d + 2 * w);
        r3.intoArray(dst, d + 3 * w);
        r4.intoArray(dst, d + 4 * w);
        r5.intoArray(dst, d + 5 * w);
        r6.intoArray(dst, d + 6 * w);
        r7.intoArray(dst, d + 7 * w);
        r8.intoArray(dst, d + 8 * w);
        r9.intoArray(dst, d + 9 * w);
        r10.intoArray(dst, d + 10 * w);
        r11.intoArray(dst, d + 11 * w);
        r12.intoArray(dst, d + 12 * w);
        r13.intoArray(dst, d + 13 * w);
        r14.intoArray(dst, d + 14 * w);
        r15.intoArray(dst, d + 15 * w);
    }
}
