package io.jtensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;

/** Shared helpers for op tests: inputs on a device, element-wise comparison with a tolerance. */
final class Checks {
    private Checks() {}

    /** A CPU array of doubles moved to dtype and device (the intermediate arrays are closed). */
    static NDArray on(Device d, DType dt, double[] values, long... shape) {
        try (NDArray f = NDArray.of(values, shape); NDArray c = f.to(dt)) {
            return c.to(d);
        }
    }

    static NDArray on(Device d, NDArray cpu) {
        try (cpu) {
            return cpu.to(d);
        }
    }

    static double[] randomValues(long seed, int n, double lo, double hi) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return v;
    }

    /** Relative tolerance that a result rounded into dt can meet. */
    static double tol(DType dt) {
        return switch (dt) {
            case F64 -> 1e-12;
            case F32 -> 2e-6;
            case F16 -> 2e-3;
            case BF16 -> 1.6e-2;
            default -> 0;
        };
    }

    /** The value v rounded to dt's precision (as the engine would store it), computed independently. */
    static double roundTo(DType dt, double v) {
        return switch (dt) {
            case F32 -> (float) v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16((float) v));
            case BF16 -> bf16(v);
            case F64 -> v;
            case I64 -> (long) v;
            case I32 -> (int) (long) v;
            case U8 -> ((long) v) & 0xFF;
            case BOOL -> v != 0 ? 1 : 0;
        };
    }

    /** Round-to-nearest-even to 8 mantissa bits, done with doubles (independent of bit tricks). */
    static double bf16(double v) {
        float f = (float) v;
        if (Float.isNaN(f) || Float.isInfinite(f) || f == 0) return f;
        int exp = Math.getExponent(f);
        double ulp = Math.scalb(1.0, exp - 7);
        double q = f / ulp;
        double r = Math.rint(q) * ulp;
        return (float) r;
    }

    static void assertClose(String what, double[] expected, double[] actual, double rel, double abs) {
        assertClose(what, expected, actual, rel, i -> abs);
    }

    /** |actual - expected| <= abs(i) + rel * |expected| for each element i: for errors whose scale is not the result's. */
    static void assertClose(String what, double[] expected, double[] actual, double rel, java.util.function.IntToDoubleFunction absOf) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(e)) {
                assertTrue(Double.isNaN(a), what + "[" + i + "]: expected NaN, got " + a);
                continue;
            }
            if (Double.isInfinite(e)) {
                assertEquals(e, a, what + "[" + i + "]");
                continue;
            }
            double diff = Math.abs(e - a);
            if (diff > absOf.applyAsDouble(i) + rel * Math.abs(e)) {
                int from = Math.max(0, i - 3), to = Math.min(expected.length, i + 4);
                fail(what + "[" + i + "]: expected " + e + ", got " + a + " (diff " + diff + ")\nexpected[" + from + ".." + to + ") "
                        + Arrays.toString(Arrays.copyOfRange(expected, from, to)) + "\nactual  [" + from + ".." + to + ") "
                        + Arrays.toString(Arrays.copyOfRange(actual, from, to)));
            }
        }
    }

    static void assertClose(String what, double[] expected, NDArray actual, double rel, double abs) {
        assertClose(what, expected, actual.toDoubleArray(), rel, abs);
    }

    static void assertShape(NDArray a, long... shape) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(shape, a.shape(),
                () -> "shape: expected " + Arrays.toString(shape) + " got " + Arrays.toString(a.shape()));
    }

    /** Row-major element values of a view given the base data, its strides and offset (independent index math). */
    static double[] viewValues(double[] base, long[] shape, long[] strides, long offset) {
        int n = (int) Shapes.numel(shape);
        double[] out = new double[n];
        long[] idx = new long[shape.length];
        for (int i = 0; i < n; i++) {
            long off = offset;
            for (int d = 0; d < shape.length; d++) off += idx[d] * strides[d];
            out[i] = base[(int) off];
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }
}
