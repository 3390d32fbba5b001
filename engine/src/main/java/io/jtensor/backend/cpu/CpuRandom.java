package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.Philox;
import io.jtensor.backend.Backend.RandomKind;

/**
 * Fills an array from the Philox stream of {@link Philox}: element i takes lane i % 4 of the block for counter
 * offset + i / 4. Work splits across cores at multiples of four elements, so each block is computed once.
 *
 * <p>A uniform rounded into a narrow format can land on hi itself (u = 1 - 2^-24 becomes 1.0 in BF16); such values
 * are moved to the largest value below hi, so that [lo, hi) holds in every dtype.
 */
final class CpuRandom {
    private CpuRandom() {}

    static void random(RandomKind kind, long seed, long offset, double lo, double hi, Operand out) {
        if (!out.dtype().isFloating()) throw new IllegalArgumentException("random: expected a floating dtype, got " + out.dtype());
        if (!out.isContiguous()) throw new IllegalArgumentException("random: expected a contiguous output");
        long n = out.numel();
        DType dt = out.dtype();
        double belowHi = kind == RandomKind.UNIFORM ? largestBelow(dt, hi) : 0;
        Parallel.forRange(n, 8, 4, (start, end) -> {
            int[] block = new int[4];
            long[] words = new long[4 * PhiloxLanes.BLOCKS];
            double[] buf = new double[(int) Math.min(CpuElementwise.CHUNK, end - start)];
            for (long c = start; c < end; c += buf.length) {
                int m = (int) Math.min(buf.length, end - c);
                int j0 = 0;
                // Whole groups of counters go through the SIMD lanes; c is a multiple of 4 (one counter per 4 elements).
                for (; j0 + 4 * PhiloxLanes.BLOCKS <= m; j0 += 4 * PhiloxLanes.BLOCKS) {
                    long counter = offset + ((c + j0) >>> 2);
                    if (kind == RandomKind.UNIFORM) PhiloxLanes.uniform(counter, seed, lo, hi, buf, j0, words);
                    else PhiloxLanes.normal(counter, seed, lo, hi, buf, j0, words);
                }
                for (int j = j0; j < m; j++) {
                    long i = c + j;
                    int lane = (int) (i & 3);
                    if (lane == 0 || j == j0) Philox.block(offset + (i >>> 2), seed, block);
                    if (kind == RandomKind.UNIFORM) {
                        double v = lo + (hi - lo) * Philox.uniform(block[lane]);
                        buf[j] = v;
                    } else {
                        buf[j] = lo + hi * Philox.normal(block, lane);
                    }
                }
                if (kind == RandomKind.UNIFORM) fixUpperBound(dt, buf, m, hi, belowHi);
                ElementIO.store(dt, out.seg(), out.offset() + c, 1, buf, m);
            }
        });
    }

    /** Replaces values that would round to hi (or above) in dt by the largest dt value below hi. */
    private static void fixUpperBound(DType dt, double[] buf, int m, double hi, double belowHi) {
        for (int j = 0; j < m; j++) if (roundTo(dt, buf[j]) >= hi) buf[j] = belowHi;
    }

    private static double roundTo(DType dt, double v) {
        return switch (dt) {
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(HalfFloats.doubleToF16(v));
            case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.doubleToBf16(v));
            default -> v;
        };
    }

    /** The largest value of dt strictly below hi. */
    private static double largestBelow(DType dt, double hi) {
        double r = roundTo(dt, hi);
        if (r < hi) return r;
        if (r == 0) {
            return switch (dt) {
                case F16 -> Float.float16ToFloat((short) 0x8001);
                case BF16 -> HalfFloats.bf16ToFloat((short) 0x8001);
                case F32 -> -Float.MIN_VALUE;
                default -> -Double.MIN_VALUE;
            };
        }
        return switch (dt) {
            case F32 -> Math.nextDown((float) r);
            case F16 -> Float.float16ToFloat((short) (HalfFloats.doubleToF16(r) + (r > 0 ? -1 : 1)));
            case BF16 -> HalfFloats.bf16ToFloat((short) (HalfFloats.doubleToBf16(r) + (r > 0 ? -1 : 1)));
            default -> Math.nextDown(r);
        };
    }
}
