package io.jtensor.backend.cpu;

/** Bit conversions between float and bfloat16 (F16 uses the JDK's Float.float16ToFloat/floatToFloat16). */
final class CpuGemmHalf {
    private CpuGemmHalf() {}

    static float bf16ToFloat(short bits) { return Float.intBitsToFloat((bits & 0xFFFF) << 16); }

    /** Rounds to the nearest bfloat16, ties to even; NaN stays a (quiet) NaN. */
    static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) return (short) ((x >>> 16) | 0x40);
        int roundingBias = 0x7FFF + ((x >>> 16) & 1);
        return (short) ((x + roundingBias) >>> 16);
    }
}
