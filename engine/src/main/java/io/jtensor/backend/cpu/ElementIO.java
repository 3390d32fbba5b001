package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Moves strided elements of any dtype between memory and Java buffers. Kernels compute in one of two domains:
 * double (floating dtypes: exact for every float format) or long (integer and bool dtypes: exact for I64). Offsets
 * and strides are in elements; every access is checked against the segment's bounds by FFM.
 */
final class ElementIO {
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;

    private ElementIO() {}

    // ------------------------------------------------------------------ double domain

    static void load(DType dt, MemorySegment s, long off, long stride, double[] buf, int n) {
        switch (dt) {
            case F32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) buf[i] = s.get(FLOAT, b);
            }
            case F64 -> {
                if (stride == 1) {
                    MemorySegment.copy(s, DOUBLE, off * 8, buf, 0, n);
                } else {
                    long b = off * 8, st = stride * 8;
                    for (int i = 0; i < n; i++, b += st) buf[i] = s.get(DOUBLE, b);
                }
            }
            case F16 -> {
                long b = off * 2, st = stride * 2;
                for (int i = 0; i < n; i++, b += st) buf[i] = Float.float16ToFloat(s.get(SHORT, b));
            }
            case BF16 -> {
                long b = off * 2, st = stride * 2;
                for (int i = 0; i < n; i++, b += st) buf[i] = HalfFloats.bf16ToFloat(s.get(SHORT, b));
            }
            case I32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) buf[i] = s.get(INT, b);
            }
            case I64 -> {
                long b = off * 8, st = stride * 8;
                for (int i = 0; i < n; i++, b += st) buf[i] = s.get(LONG, b);
            }
            case U8 -> {
                for (int i = 0; i < n; i++) buf[i] = s.get(BYTE, off + i * stride) & 0xFF;
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) buf[i] = s.get(BYTE, off + i * stride) != 0 ? 1 : 0;
            }
        }
    }

    /** Stores with the cast rules of a copy: floats round to nearest, integers truncate and wrap, bool is "!= 0". */
    static void store(DType dt, MemorySegment s, long off, long stride, double[] buf, int n) {
        switch (dt) {
            case F32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) s.set(FLOAT, b, (float) buf[i]);
            }
            case F64 -> {
                if (stride == 1) {
                    MemorySegment.copy(buf, 0, s, DOUBLE, off * 8, n);
                } else {
                    long b = off * 8, st = stride * 8;
                    for (int i = 0; i < n; i++, b += st) s.set(DOUBLE, b, buf[i]);
                }
            }
            case F16 -> {
                long b = off * 2, st = stride * 2;
                for (int i = 0; i < n; i++, b += st) s.set(SHORT, b, HalfFloats.doubleToF16(buf[i]));
            }
            case BF16 -> {
                long b = off * 2, st = stride * 2;
                for (int i = 0; i < n; i++, b += st) s.set(SHORT, b, HalfFloats.doubleToBf16(buf[i]));
            }
            case I32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) s.set(INT, b, (int) (long) buf[i]);
            }
            case I64 -> {
                long b = off * 8, st = stride * 8;
                for (int i = 0; i < n; i++, b += st) s.set(LONG, b, (long) buf[i]);
            }
            case U8 -> {
                for (int i = 0; i < n; i++) s.set(BYTE, off + i * stride, (byte) (long) buf[i]);
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) s.set(BYTE, off + i * stride, (byte) (buf[i] != 0 ? 1 : 0));
            }
        }
    }

    // ------------------------------------------------------------------ long domain

    static void load(DType dt, MemorySegment s, long off, long stride, long[] buf, int n) {
        switch (dt) {
            case I64 -> {
                if (stride == 1) {
                    MemorySegment.copy(s, LONG, off * 8, buf, 0, n);
                } else {
                    long b = off * 8, st = stride * 8;
                    for (int i = 0; i < n; i++, b += st) buf[i] = s.get(LONG, b);
                }
            }
            case I32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) buf[i] = s.get(INT, b);
            }
            case U8 -> {
                for (int i = 0; i < n; i++) buf[i] = s.get(BYTE, off + i * stride) & 0xFF;
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) buf[i] = s.get(BYTE, off + i * stride) != 0 ? 1 : 0;
            }
            default -> {
                // Floating sources truncate toward zero, as a cast does.
                double[] tmp = new double[n];
                load(dt, s, off, stride, tmp, n);
                for (int i = 0; i < n; i++) buf[i] = (long) tmp[i];
            }
        }
    }

    static void store(DType dt, MemorySegment s, long off, long stride, long[] buf, int n) {
        switch (dt) {
            case I64 -> {
                if (stride == 1) {
                    MemorySegment.copy(buf, 0, s, LONG, off * 8, n);
                } else {
                    long b = off * 8, st = stride * 8;
                    for (int i = 0; i < n; i++, b += st) s.set(LONG, b, buf[i]);
                }
            }
            case I32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) s.set(INT, b, (int) buf[i]);
            }
            case U8 -> {
                for (int i = 0; i < n; i++) s.set(BYTE, off + i * stride, (byte) buf[i]);
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) s.set(BYTE, off + i * stride, (byte) (buf[i] != 0 ? 1 : 0));
            }
            case F32 -> {
                long b = off * 4, st = stride * 4;
                for (int i = 0; i < n; i++, b += st) s.set(FLOAT, b, (float) buf[i]);
            }
            case F64 -> {
                long b = off * 8, st = stride * 8;
                for (int i = 0; i < n; i++, b += st) s.set(DOUBLE, b, (double) buf[i]);
            }
            case F16 -> {
                long b = off * 2, st = stride * 2;
                for (int i = 0; i < n; i++, b += st) s.set(SHORT, b, HalfFloats.floatToF16((float) buf[i]));
            }
            case BF16 -> {
                long b = off * 2, st = stride * 2;
                for (int i = 0; i < n; i++, b += st) s.set(SHORT, b, HalfFloats.floatToBf16((float) buf[i]));
            }
        }
    }

    // ------------------------------------------------------------------ single elements

    static double getDouble(DType dt, MemorySegment s, long off) {
        return switch (dt) {
            case F32 -> s.get(FLOAT, off * 4);
            case F64 -> s.get(DOUBLE, off * 8);
            case F16 -> Float.float16ToFloat(s.get(SHORT, off * 2));
            case BF16 -> HalfFloats.bf16ToFloat(s.get(SHORT, off * 2));
            case I32 -> s.get(INT, off * 4);
            case I64 -> s.get(LONG, off * 8);
            case U8 -> s.get(BYTE, off) & 0xFF;
            case BOOL -> s.get(BYTE, off) != 0 ? 1 : 0;
        };
    }

    static void setDouble(DType dt, MemorySegment s, long off, double v) {
        switch (dt) {
            case F32 -> s.set(FLOAT, off * 4, (float) v);
            case F64 -> s.set(DOUBLE, off * 8, v);
            case F16 -> s.set(SHORT, off * 2, HalfFloats.doubleToF16(v));
            case BF16 -> s.set(SHORT, off * 2, HalfFloats.doubleToBf16(v));
            case I32 -> s.set(INT, off * 4, (int) (long) v);
            case I64 -> s.set(LONG, off * 8, (long) v);
            case U8 -> s.set(BYTE, off, (byte) (long) v);
            case BOOL -> s.set(BYTE, off, (byte) (v != 0 ? 1 : 0));
        }
    }

    static long getLong(DType dt, MemorySegment s, long off) {
        return switch (dt) {
            case I32 -> s.get(INT, off * 4);
            case I64 -> s.get(LONG, off * 8);
            case U8 -> s.get(BYTE, off) & 0xFF;
            case BOOL -> s.get(BYTE, off) != 0 ? 1 : 0;
            default -> (long) getDouble(dt, s, off);
        };
    }

    static void setLong(DType dt, MemorySegment s, long off, long v) {
        switch (dt) {
            case I32 -> s.set(INT, off * 4, (int) v);
            case I64 -> s.set(LONG, off * 8, v);
            case U8 -> s.set(BYTE, off, (byte) v);
            case BOOL -> s.set(BYTE, off, (byte) (v != 0 ? 1 : 0));
            default -> setDouble(dt, s, off, (double) v);
        }
    }

    /** The raw bits of one element, for dtype-preserving moves (gather, where, index). */
    static long getBits(int byteSize, MemorySegment s, long off) {
        return switch (byteSize) {
            case 1 -> s.get(BYTE, off);
            case 2 -> s.get(SHORT, off * 2);
            case 4 -> s.get(INT, off * 4);
            default -> s.get(LONG, off * 8);
        };
    }

    static void setBits(int byteSize, MemorySegment s, long off, long bits) {
        switch (byteSize) {
            case 1 -> s.set(BYTE, off, (byte) bits);
            case 2 -> s.set(SHORT, off * 2, (short) bits);
            case 4 -> s.set(INT, off * 4, (int) bits);
            default -> s.set(LONG, off * 8, bits);
        }
    }

    /** The bit pattern of value cast to dt (for fills). */
    static long bitsOf(DType dt, double value) {
        return switch (dt) {
            case F32 -> Float.floatToRawIntBits((float) value) & 0xFFFFFFFFL;
            case F64 -> Double.doubleToRawLongBits(value);
            case F16 -> HalfFloats.doubleToF16(value) & 0xFFFFL;
            case BF16 -> HalfFloats.doubleToBf16(value) & 0xFFFFL;
            case I32 -> ((int) (long) value) & 0xFFFFFFFFL;
            case I64 -> (long) value;
            case U8 -> ((long) value) & 0xFFL;
            case BOOL -> value != 0 ? 1 : 0;
        };
    }

    /** Whether dt computes in the long domain. */
    static boolean integral(DType dt) { return !dt.isFloating(); }
}
