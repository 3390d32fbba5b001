package io.jtensor.backend.cpu;

import io.jtensor.backend.BackendContract;
import io.jtensor.backend.BinaryOp;

/**
 * Every binary op over buffers, in the double domain and the long domain. Comparisons and logical ops write 1 or 0.
 * MAXIMUM/MINIMUM propagate NaN; REMAINDER takes the sign of the divisor (Python's %).
 */
final class BinaryMath {
    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2 * Math.PI);

    private BinaryMath() {}

    /** out[i] = a[i] op b[i]; out may alias a or b. */
    static void apply(BinaryOp op, double[] a, double[] b, double[] out, int n, boolean precise) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[i] = a[i] + b[i]; }
            case SUB -> { for (int i = 0; i < n; i++) out[i] = a[i] - b[i]; }
            case MUL -> { for (int i = 0; i < n; i++) out[i] = a[i] * b[i]; }
            case DIV -> { for (int i = 0; i < n; i++) out[i] = a[i] / b[i]; }
            case POW -> { for (int i = 0; i < n; i++) out[i] = Math.pow(a[i], b[i]); }
            case MAXIMUM -> { for (int i = 0; i < n; i++) out[i] = Math.max(a[i], b[i]); }
            case MINIMUM -> { for (int i = 0; i < n; i++) out[i] = Math.min(a[i], b[i]); }
            case ATAN2 -> { for (int i = 0; i < n; i++) out[i] = Math.atan2(a[i], b[i]); }
            case REMAINDER -> { for (int i = 0; i < n; i++) out[i] = remainder(a[i], b[i]); }
            case EQ -> { for (int i = 0; i < n; i++) out[i] = a[i] == b[i] ? 1 : 0; }
            case NE -> { for (int i = 0; i < n; i++) out[i] = a[i] != b[i] ? 1 : 0; }
            case LT -> { for (int i = 0; i < n; i++) out[i] = a[i] < b[i] ? 1 : 0; }
            case LE -> { for (int i = 0; i < n; i++) out[i] = a[i] <= b[i] ? 1 : 0; }
            case GT -> { for (int i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0; }
            case GE -> { for (int i = 0; i < n; i++) out[i] = a[i] >= b[i] ? 1 : 0; }
            case LOGICAL_AND -> { for (int i = 0; i < n; i++) out[i] = a[i] != 0 && b[i] != 0 ? 1 : 0; }
            case LOGICAL_OR -> { for (int i = 0; i < n; i++) out[i] = a[i] != 0 || b[i] != 0 ? 1 : 0; }
            case LOGICAL_XOR -> { for (int i = 0; i < n; i++) out[i] = (a[i] != 0) != (b[i] != 0) ? 1 : 0; }
            case RELU_BACKWARD -> { for (int i = 0; i < n; i++) out[i] = b[i] > 0 ? a[i] : 0; }
            case SIGMOID_BACKWARD -> { for (int i = 0; i < n; i++) out[i] = a[i] * (1 - b[i]) * b[i]; }
            case TANH_BACKWARD -> { for (int i = 0; i < n; i++) out[i] = a[i] * (1 - b[i]) * (1 + b[i]); }
            case GELU_BACKWARD -> {
                for (int i = 0; i < n; i++) {
                    double x = b[i];
                    double cdf = 0.5 * (precise ? Erf.erfc(-x * SQRT_HALF) : Erf.erfcFast(-x * SQRT_HALF));
                    double pdf = Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
                    out[i] = a[i] * (cdf + x * pdf);
                }
            }
        }
    }

    /** Python-style remainder: fmod, then moved into the divisor's sign. */
    static double remainder(double a, double b) {
        double r = a % b;
        if (r != 0 && (r < 0) != (b < 0)) r += b;
        return r;
    }

    static void apply(BinaryOp op, long[] a, long[] b, long[] out, int n) {
        switch (op) {
            case ADD -> { for (int i = 0; i < n; i++) out[i] = a[i] + b[i]; }
            case SUB -> { for (int i = 0; i < n; i++) out[i] = a[i] - b[i]; }
            case MUL -> { for (int i = 0; i < n; i++) out[i] = a[i] * b[i]; }
            case DIV -> {
                for (int i = 0; i < n; i++) {
                    if (b[i] == 0) throw BackendContract.integerDivisionByZero(op);
                    out[i] = Math.floorDiv(a[i], b[i]);
                }
            }
            case POW -> {
                for (int i = 0; i < n; i++) {
                    if (b[i] < 0) throw BackendContract.negativeIntegerExponent(b[i]);
                    out[i] = powLong(a[i], b[i]);
                }
            }
            case MAXIMUM -> { for (int i = 0; i < n; i++) out[i] = Math.max(a[i], b[i]); }
            case MINIMUM -> { for (int i = 0; i < n; i++) out[i] = Math.min(a[i], b[i]); }
            case ATAN2 -> { for (int i = 0; i < n; i++) out[i] = (long) Math.atan2(a[i], b[i]); }
            case REMAINDER -> {
                for (int i = 0; i < n; i++) {
                    if (b[i] == 0) throw BackendContract.integerDivisionByZero(op);
                    out[i] = Math.floorMod(a[i], b[i]);
                }
            }
            case EQ -> { for (int i = 0; i < n; i++) out[i] = a[i] == b[i] ? 1 : 0; }
            case NE -> { for (int i = 0; i < n; i++) out[i] = a[i] != b[i] ? 1 : 0; }
            case LT -> { for (int i = 0; i < n; i++) out[i] = a[i] < b[i] ? 1 : 0; }
            case LE -> { for (int i = 0; i < n; i++) out[i] = a[i] <= b[i] ? 1 : 0; }
            case GT -> { for (int i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0; }
            case GE -> { for (int i = 0; i < n; i++) out[i] = a[i] >= b[i] ? 1 : 0; }
            case LOGICAL_AND -> { for (int i = 0; i < n; i++) out[i] = a[i] != 0 && b[i] != 0 ? 1 : 0; }
            case LOGICAL_OR -> { for (int i = 0; i < n; i++) out[i] = a[i] != 0 || b[i] != 0 ? 1 : 0; }
            case LOGICAL_XOR -> { for (int i = 0; i < n; i++) out[i] = (a[i] != 0) != (b[i] != 0) ? 1 : 0; }
            case RELU_BACKWARD -> { for (int i = 0; i < n; i++) out[i] = b[i] > 0 ? a[i] : 0; }
            case SIGMOID_BACKWARD -> { for (int i = 0; i < n; i++) out[i] = a[i] * (1 - b[i]) * b[i]; }
            case TANH_BACKWARD -> { for (int i = 0; i < n; i++) out[i] = a[i] * (1 - b[i] * b[i]); }
            case GELU_BACKWARD -> throw new IllegalArgumentException("GELU_BACKWARD: expected a floating dtype");
        }
    }

    /** x^e for e >= 0 by squaring, wrapping on overflow like a C integer. */
    static long powLong(long x, long e) {
        long r = 1, base = x;
        while (e > 0) {
            if ((e & 1) != 0) r *= base;
            base *= base;
            e >>= 1;
        }
        return r;
    }
}
