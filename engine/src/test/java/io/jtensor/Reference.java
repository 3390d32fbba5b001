package io.jtensor;

import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;

/** Double-precision reference semantics of the elementwise ops, written from their definitions. */
final class Reference {
    private Reference() {}

    /** erfc(z) for z >= 0 as (2/sqrt pi) * integral_z^{z+6} e^{-t^2} dt by composite Simpson (the rest is below 1e-15 of it). */
    static double erfcTail(double z) {
        int n = 30000;
        double h = 6.0 / n, s = 0, carry = 0;
        for (int i = 0; i <= n; i++) {
            double t = z + i * h;
            double w = i == 0 || i == n ? 1 : (i % 2 == 1 ? 4 : 2);
            // Kahan summation: 60000 terms would otherwise lose more digits than F64 results may
            double y = w * Math.exp(-t * t) - carry, next = s + y;
            carry = (next - s) - y;
            s = next;
        }
        return 2 / Math.sqrt(Math.PI) * s * h / 3;
    }

    /** The standard normal CDF, accurate in relative terms in both tails. */
    static double phi(double x) {
        double tail = 0.5 * erfcTail(Math.abs(x) / Math.sqrt(2));
        return x < 0 ? tail : 1 - tail;
    }

    static double unary(UnaryOp op, double x, double p1, double p2) {
        return switch (op) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> x > 0 ? 1 : x < 0 ? -1 : 0;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case RELU -> Double.isNaN(x) ? x : x > 0 ? x : 0;
            case LEAKY_RELU -> x > 0 ? x : p1 * x;
            case ELU -> x > 0 ? x : p1 * (Math.exp(x) - 1);
            case GELU -> x * phi(x);
            case POW -> Math.pow(x, p1);
            case CLAMP -> Double.isNaN(x) ? x : Math.min(Double.isNaN(p2) ? Double.POSITIVE_INFINITY : p2,
                    Math.max(Double.isNaN(p1) ? Double.NEGATIVE_INFINITY : p1, x));
            case RECIPROCAL -> 1 / x;
            case SQUARE -> x * x;
            case LOG1P -> Math.log(1 + x);
            case EXPM1 -> Math.exp(x) - 1;
            case FLOOR -> Math.floor(x);
            case CEIL -> Math.ceil(x);
            case ROUND -> Math.rint(x);
            case LOGICAL_NOT -> x == 0 ? 1 : 0;
            case ADD_SCALAR -> x + p1;
            case MUL_SCALAR -> x * p1;
            case RSUB_SCALAR -> p1 - x;
            case RDIV_SCALAR -> p1 / x;
            case ISNAN -> Double.isNaN(x) ? 1 : 0;
            case NONFINITE -> Double.isNaN(x) || Double.isInfinite(x) ? 1 : 0;
        };
    }

    static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAXIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MINIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
            case ATAN2 -> Math.atan2(a, b);
            case REMAINDER -> a - Math.floor(a / b) * b;
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case LOGICAL_AND -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> a != 0 || b != 0 ? 1 : 0;
            case LOGICAL_XOR -> (a != 0) ^ (b != 0) ? 1 : 0;
            case RELU_BACKWARD -> b > 0 ? a : 0;
            case SIGMOID_BACKWARD -> a * b * (1 - b);
            case TANH_BACKWARD -> a * (1 - b * b);
            case GELU_BACKWARD -> a * (phi(b) + b * Math.exp(-b * b / 2) / Math.sqrt(2 * Math.PI));
        };
    }
}
