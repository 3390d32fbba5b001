package io.jtensor.backend.cuda;

import io.jtensor.DType;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ReduceOp;
import io.jtensor.backend.UnaryOp;

/**
 * Op codes and name suffixes the kernels understand (kernels/cu/ops.cuh). Mapped explicitly rather than by
 * ordinal, so that reordering an enum cannot silently change what a kernel computes; KernelCodesTest checks these
 * numbers against ops.cuh.
 */
final class KernelCodes {
    private KernelCodes() {}

    static int unary(UnaryOp op) {
        return switch (op) {
            case NEG -> 0; case ABS -> 1; case SIGN -> 2; case EXP -> 3; case LOG -> 4; case SQRT -> 5; case RSQRT -> 6;
            case SIN -> 7; case COS -> 8; case TANH -> 9; case SIGMOID -> 10; case RELU -> 11; case LEAKY_RELU -> 12;
            case ELU -> 13; case GELU -> 14; case POW -> 15; case CLAMP -> 16; case RECIPROCAL -> 17; case SQUARE -> 18;
            case LOG1P -> 19; case EXPM1 -> 20; case FLOOR -> 21; case CEIL -> 22; case ROUND -> 23; case LOGICAL_NOT -> 24;
            case ADD_SCALAR -> 25; case MUL_SCALAR -> 26; case RSUB_SCALAR -> 27; case RDIV_SCALAR -> 28;
            case ISNAN -> 29; case NONFINITE -> 30;
        };
    }

    static int binary(BinaryOp op) {
        return switch (op) {
            case ADD -> 0; case SUB -> 1; case MUL -> 2; case DIV -> 3; case POW -> 4; case MAXIMUM -> 5; case MINIMUM -> 6;
            case ATAN2 -> 7; case REMAINDER -> 8; case EQ -> 9; case NE -> 10; case LT -> 11; case LE -> 12; case GT -> 13;
            case GE -> 14; case LOGICAL_AND -> 15; case LOGICAL_OR -> 16; case LOGICAL_XOR -> 17; case RELU_BACKWARD -> 18;
            case SIGMOID_BACKWARD -> 19; case TANH_BACKWARD -> 20; case GELU_BACKWARD -> 21;
        };
    }

    static int reduce(ReduceOp op) {
        return switch (op) {
            case SUM -> 0; case PROD -> 1; case MAX -> 2; case MIN -> 3; case ARGMAX -> 4; case ARGMIN -> 5;
            case ANY -> 6; case ALL -> 7; case LOGSUMEXP -> 8;
        };
    }

    /** Error codes kernels write into the device error flag. */
    static final int E_INDEX_OUT_OF_RANGE = 1;
    static final int E_DIVISION_BY_ZERO = 2;
    static final int E_NEGATIVE_EXPONENT = 3;

    /** The dtype part of a kernel name: bool, u8, i32, i64, f16, bf16, f32, f64. */
    static String suffix(DType t) {
        return switch (t) {
            case BOOL -> "bool"; case U8 -> "u8"; case I32 -> "i32"; case I64 -> "i64";
            case F16 -> "f16"; case BF16 -> "bf16"; case F32 -> "f32"; case F64 -> "f64";
        };
    }

    /** The width part of a bits-only kernel name: b8, b16, b32, b64. */
    static String width(DType t) { return "b" + t.byteSize() * 8; }

    /** Unary ops that only make sense on floating inputs: integer inputs are computed in F32. */
    static boolean floatOnly(UnaryOp op) {
        return switch (op) {
            case EXP, LOG, SQRT, RSQRT, SIN, COS, TANH, SIGMOID, ELU, GELU, RECIPROCAL, LOG1P, EXPM1, RDIV_SCALAR -> true;
            default -> false;
        };
    }

    /** Unary ops that write BOOL. */
    static boolean predicate(UnaryOp op) {
        return op == UnaryOp.ISNAN || op == UnaryOp.NONFINITE || op == UnaryOp.LOGICAL_NOT;
    }

    /** Per-dtype kernel names of a family, computed once so that a launch does no string work. */
    static String[] names(String prefix) {
        DType[] all = DType.values();
        String[] n = new String[all.length];
        for (DType t : all) n[t.ordinal()] = prefix + suffix(t);
        return n;
    }

    static String[] widthNames(String prefix) {
        DType[] all = DType.values();
        String[] n = new String[all.length];
        for (DType t : all) n[t.ordinal()] = prefix + width(t);
        return n;
    }
}
