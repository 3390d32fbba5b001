package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.backend.BackendContract;
import io.jtensor.backend.UnaryOp;

/**
 * Every unary op over buffers, in the double domain (floating dtypes) and the long domain (integers and bool).
 * Semantics follow PyTorch: SIGN of NaN is 0, ROUND is half-to-even, CLAMP with NaN bounds is unbounded on that
 * side and with min > max gives max, RELU and CLAMP propagate NaN.
 */
final class UnaryMath {
    private static final double SQRT_HALF = Math.sqrt(0.5);

    private UnaryMath() {}

    /** Ops that stay exact on integers; the rest compute in double even for integer inputs. */
    static boolean hasLongForm(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SIGN, RELU, SQUARE, CLAMP, FLOOR, CEIL, ROUND, LOGICAL_NOT, ISNAN, NONFINITE,
                 ADD_SCALAR, MUL_SCALAR, RSUB_SCALAR, POW -> true;
            default -> false;
        };
    }

    /**
     * out[i] = op(x[i]) for i < n. {@code precise} asks for double accuracy where a float-accurate shortcut exists
     * (GELU's erf); x and out may be the same array.
     */
    static void apply(UnaryOp op, double[] x, double[] out, int n, double p1, double p2, boolean precise) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) out[i] = -x[i]; }
            case ABS -> { for (int i = 0; i < n; i++) out[i] = Math.abs(x[i]); }
            case SIGN -> { for (int i = 0; i < n; i++) out[i] = x[i] > 0 ? 1 : x[i] < 0 ? -1 : 0; }
            case EXP -> { for (int i = 0; i < n; i++) out[i] = Math.exp(x[i]); }
            case LOG -> { for (int i = 0; i < n; i++) out[i] = Math.log(x[i]); }
            case SQRT -> { for (int i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); }
            case RSQRT -> { for (int i = 0; i < n; i++) out[i] = 1.0 / Math.sqrt(x[i]); }
            case SIN -> { for (int i = 0; i < n; i++) out[i] = Math.sin(x[i]); }
            case COS -> { for (int i = 0; i < n; i++) out[i] = Math.cos(x[i]); }
            case TANH -> { for (int i = 0; i < n; i++) out[i] = StrictMath.tanh(x[i]); }  // the same bits in every JIT tier
            case SIGMOID -> { for (int i = 0; i < n; i++) out[i] = sigmoid(x[i]); }
            case RELU -> { for (int i = 0; i < n; i++) out[i] = x[i] > 0 || x[i] != x[i] ? x[i] : 0; }
            case LEAKY_RELU -> { for (int i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : x[i] * p1; }
            case ELU -> { for (int i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : p1 * Math.expm1(x[i]); }
            case GELU -> {
                // x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2, exact in the negative tail where 1 + erf cancels
                if (precise) for (int i = 0; i < n; i++) out[i] = 0.5 * x[i] * Erf.erfc(-x[i] * SQRT_HALF);
                else for (int i = 0; i < n; i++) out[i] = 0.5 * x[i] * Erf.erfcFast(-x[i] * SQRT_HALF);
            }
            case POW -> pow(x, out, n, p1);
            case CLAMP -> {
                boolean hasLo = !Double.isNaN(p1), hasHi = !Double.isNaN(p2);
                for (int i = 0; i < n; i++) {
                    double v = x[i];
                    if (hasLo && v < p1) v = p1;
                    if (hasHi && v > p2) v = p2;
                    out[i] = v;
                }
            }
            case RECIPROCAL -> { for (int i = 0; i < n; i++) out[i] = 1.0 / x[i]; }
            case SQUARE -> { for (int i = 0; i < n; i++) out[i] = x[i] * x[i]; }
            case LOG1P -> { for (int i = 0; i < n; i++) out[i] = Math.log1p(x[i]); }
            case EXPM1 -> { for (int i = 0; i < n; i++) out[i] = Math.expm1(x[i]); }
            case FLOOR -> { for (int i = 0; i < n; i++) out[i] = Math.floor(x[i]); }
            case CEIL -> { for (int i = 0; i < n; i++) out[i] = Math.ceil(x[i]); }
            case ROUND -> { for (int i = 0; i < n; i++) out[i] = Math.rint(x[i]); }
            case LOGICAL_NOT -> { for (int i = 0; i < n; i++) out[i] = x[i] == 0 ? 1 : 0; }
            case ADD_SCALAR -> { for (int i = 0; i < n; i++) out[i] = x[i] + p1; }
            case MUL_SCALAR -> { for (int i = 0; i < n; i++) out[i] = x[i] * p1; }
            case RSUB_SCALAR -> { for (int i = 0; i < n; i++) out[i] = p1 - x[i]; }
            case RDIV_SCALAR -> { for (int i = 0; i < n; i++) out[i] = p1 / x[i]; }
            case ISNAN -> { for (int i = 0; i < n; i++) out[i] = x[i] != x[i] ? 1 : 0; }
            case NONFINITE -> { for (int i = 0; i < n; i++) out[i] = Double.isFinite(x[i]) ? 0 : 1; }
        }
    }

    static double sigmoid(double v) { return 1.0 / (1.0 + Math.exp(-v)); }

    /** PyTorch's pow-by-scalar shortcuts (x*x for 2, sqrt for 0.5, ...), which also fix its edge cases. */
    private static void pow(double[] x, double[] out, int n, double e) {
        if (e == 2) {
            for (int i = 0; i < n; i++) out[i] = x[i] * x[i];
        } else if (e == 3) {
            for (int i = 0; i < n; i++) out[i] = x[i] * x[i] * x[i];
        } else if (e == 1) {
            System.arraycopy(x, 0, out, 0, n);
        } else if (e == 0.5) {
            for (int i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
        } else if (e == -0.5) {
            for (int i = 0; i < n; i++) out[i] = 1.0 / Math.sqrt(x[i]);
        } else if (e == -1) {
            for (int i = 0; i < n; i++) out[i] = 1.0 / x[i];
        } else if (e == -2) {
            for (int i = 0; i < n; i++) out[i] = 1.0 / (x[i] * x[i]);
        } else {
            for (int i = 0; i < n; i++) out[i] = Math.pow(x[i], e);
        }
    }

    /** The long-domain form of the ops in {@link #hasLongForm}; scalars are integral by the engine's promotion. */
    static void apply(UnaryOp op, long[] x, long[] out, int n, double p1, double p2) {
        switch (op) {
            case NEG -> { for (int i = 0; i < n; i++) out[i] = -x[i]; }
            case ABS -> { for (int i = 0; i < n; i++) out[i] = Math.abs(x[i]); }
            case SIGN -> { for (int i = 0; i < n; i++) out[i] = Long.signum(x[i]); }
            case RELU -> { for (int i = 0; i < n; i++) out[i] = Math.max(x[i], 0); }
            case SQUARE -> { for (int i = 0; i < n; i++) out[i] = x[i] * x[i]; }
            case CLAMP -> {
                boolean hasLo = !Double.isNaN(p1), hasHi = !Double.isNaN(p2);
                long lo = (long) Math.ceil(p1), hi = (long) Math.floor(p2);
                for (int i = 0; i < n; i++) {
                    long v = x[i];
                    if (hasLo && v < lo) v = lo;
                    if (hasHi && v > hi) v = hi;
                    out[i] = v;
                }
            }
            case FLOOR, CEIL, ROUND -> System.arraycopy(x, 0, out, 0, n);
            case LOGICAL_NOT -> { for (int i = 0; i < n; i++) out[i] = x[i] == 0 ? 1 : 0; }
            case ISNAN, NONFINITE -> { for (int i = 0; i < n; i++) out[i] = 0; }
            case ADD_SCALAR -> { long s = (long) p1; for (int i = 0; i < n; i++) out[i] = x[i] + s; }
            case MUL_SCALAR -> { long s = (long) p1; for (int i = 0; i < n; i++) out[i] = x[i] * s; }
            case RSUB_SCALAR -> { long s = (long) p1; for (int i = 0; i < n; i++) out[i] = s - x[i]; }
            case POW -> {
                BackendContract.requireUnaryParameters(op, DType.I64, p1);
                long e = (long) p1;
                for (int i = 0; i < n; i++) out[i] = BinaryMath.powLong(x[i], e);
            }
            default -> throw new IllegalArgumentException(op + " has no integer form");
        }
    }
}
