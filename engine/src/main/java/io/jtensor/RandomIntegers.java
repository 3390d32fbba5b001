package io.jtensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * randint's integers, drawn in integer arithmetic from the Philox stream, uniform over [lo, hi) for any lo < hi in
 * the long range, without bias. Going through doubles (floor(u * (hi - lo)) + lo) loses every bit beyond the 24 of a
 * uniform and rounds near the bounds: it returned the excluded bound, Long.MIN_VALUE, and never some values.
 *
 * <p>The stream, so that another device can reproduce it: element {@code i} of a draw at {@code offset} takes the
 * 64-bit word {@code (lane[2j + 1] << 32) | lane[2j]}, j = i % 2, of the block for counter
 * {@code (offset + i / 2, attempt)} under the key {@code seed}, attempt 0 first. The word x maps to
 * {@code lo + high64(x * r)}, r = hi - lo as an unsigned 64-bit range (Lemire, "Fast random integer generation in an
 * interval", 2019), unless {@code low64(x * r) < (2^64 - r) mod r} (unsigned), the few words that would make some
 * values more likely: then attempt 1, 2, ... are tried in turn. A draw of n elements advances the generator by
 * {@code ceil(n / 2)} blocks. The numbers are made on the host and copied to an accelerator, so every device holds
 * the same integers for a seed.
 */
final class RandomIntegers {
    private RandomIntegers() {}

    /** Writes n integers of the stream at (seed, offset) into out, as I64 in native order. */
    static void fill(long seed, long offset, long lo, long hi, MemorySegment out, long n) {
        long range = hi - lo; // unsigned: hi > lo, so this is in [1, 2^64 - 1]
        long threshold = Long.remainderUnsigned(-range, range);
        int[] block = new int[4];
        for (long i = 0; i < n; i++) {
            long counter = offset + i / 2;
            int lane = (int) (i % 2) * 2;
            long value;
            for (long attempt = 0; ; attempt++) {
                Philox.block(counter, attempt, seed, block);
                long x = (long) block[lane + 1] << 32 | (block[lane] & 0xFFFFFFFFL);
                if (Long.compareUnsigned(x * range, threshold) >= 0) {
                    value = lo + Math.unsignedMultiplyHigh(x, range);
                    break;
                }
            }
            out.setAtIndex(ValueLayout.JAVA_LONG, i, value);
        }
    }

    /** Generator blocks a draw of n integers takes. */
    static long blocksFor(long n) { return n / 2 + (n % 2); }
}
