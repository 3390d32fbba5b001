package io.jtensor.backend.cpu;

/**
 * Conversions between float and the two 16-bit float formats. F16 is IEEE binary16 (the JDK's intrinsified
 * conversions). BF16 is the upper half of a float's bits, rounded to nearest-even when narrowing.
 */
final class HalfFloats {
    private HalfFloats() {}

    static float f16ToFloat(short bits) { return Float.float16ToFloat(bits); }

    static short floatToF16(float f) { return Float.floatToFloat16(f); }

    /** The shift drops the sign extension of the short, so no mask is needed. */
    static float bf16ToFloat(short bits) { return Float.intBitsToFloat(bits << 16); }

    static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        // Round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, then truncate.
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        // NaN keeps its sign and top payload with the quiet bit forced, so truncation cannot make it infinity.
        // (A select rather than an early return keeps the loops that call this branch-free.)
        int quietNaN = bits | 0x00400000;
        return (short) ((f != f ? quietNaN : rounded) >>> 16);
    }

    /** double -> F16 the way PyTorch does it: through float. */
    static short doubleToF16(double d) { return floatToF16((float) d); }

    static short doubleToBf16(double d) { return floatToBf16((float) d); }
}
