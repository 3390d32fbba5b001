package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 GEMM for a small C over a long K, as dot products: when A's rows and B's columns both run along K with unit
 * stride (a weight gradient, gradOut x unfold(x)^T, is the typical case), each C entry is one vectorised dot
 * product read straight from memory. Packing would copy far more than this computes.
 */
final class CpuGemmDot {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private CpuGemmDot() {}

    /** Whether this product suits dot products: few outputs, a long K, unit stride along K on both sides. */
    static boolean suits(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b) {
        return a.dtype() == DType.F32 && b.dtype() == DType.F32 && a.colStride() == 1 && b.rowStride() == 1
                && (long) m * n <= 512 && k >= 8L * S.length();
    }

    /** C[m x n] (+)= A * B as in {@link CpuGemmF32#gemm}, for operands that {@link #suits}. */
    static void gemm(int m, int n, int k, CpuGemmMatrix a, CpuGemmMatrix b, MemorySegment c, long cOff, long cRowStride,
                     boolean accumulate) {
        MemorySegment as = a.seg(), bs = b.seg();
        int vl = S.length(), vecEnd = k - k % vl;
        for (int i = 0; i < m; i++) {
            long aRow = (a.off() + i * a.rowStride()) * 4;
            int j = 0;
            // Four columns at a time: each vector of A's row feeds four FMAs.
            for (; j + 4 <= n; j += 4) {
                long b0 = (b.off() + j * b.colStride()) * 4, step = b.colStride() * 4;
                long b1 = b0 + step, b2 = b1 + step, b3 = b2 + step;
                FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
                for (int p = 0; p < vecEnd; p += vl) {
                    long o = p * 4L;
                    FloatVector av = FloatVector.fromMemorySegment(S, as, aRow + o, ORDER);
                    s0 = av.fma(FloatVector.fromMemorySegment(S, bs, b0 + o, ORDER), s0);
                    s1 = av.fma(FloatVector.fromMemorySegment(S, bs, b1 + o, ORDER), s1);
                    s2 = av.fma(FloatVector.fromMemorySegment(S, bs, b2 + o, ORDER), s2);
                    s3 = av.fma(FloatVector.fromMemorySegment(S, bs, b3 + o, ORDER), s3);
                }
                float r0 = VectorF32.sumLanes(s0), r1 = VectorF32.sumLanes(s1);
                float r2 = VectorF32.sumLanes(s2), r3 = VectorF32.sumLanes(s3);
                for (int p = vecEnd; p < k; p++) {
                    float x = as.get(F32, aRow + p * 4L);
                    r0 += x * bs.get(F32, b0 + p * 4L);
                    r1 += x * bs.get(F32, b1 + p * 4L);
                    r2 += x * bs.get(F32, b2 + p * 4L);
                    r3 += x * bs.get(F32, b3 + p * 4L);
                }
                long co = (cOff + i * cRowStride + j) * 4;
                put(c, co, r0, accumulate);
                put(c, co + 4, r1, accumulate);
                put(c, co + 8, r2, accumulate);
                put(c, co + 12, r3, accumulate);
            }
            for (; j < n; j++) {
                long b0 = (b.off() + j * b.colStride()) * 4;
                FloatVector s0 = FloatVector.zero(S);
                for (int p = 0; p < vecEnd; p += vl) {
                    long o = p * 4L;
                    s0 = FloatVector.fromMemorySegment(S, as, aRow + o, ORDER).fma(FloatVector.fromMemorySegment(S, bs, b0 + o, ORDER), s0);
                }
                float r0 = VectorF32.sumLanes(s0);
                for (int p = vecEnd; p < k; p++) r0 += as.get(F32, aRow + p * 4L) * bs.get(F32, b0 + p * 4L);
                put(c, (cOff + i * cRowStride + j) * 4, r0, accumulate);
            }
        }
    }

    private static void put(MemorySegment c, long at, float v, boolean accumulate) {
        c.set(F32, at, accumulate ? v + c.get(F32, at) : v);
    }
}
