package io.jtensor.backend;

/**
 * Elementwise ops of one input. {@code p1}/{@code p2} are the op's parameters where it has any:
 * POW (exponent), LEAKY_RELU (slope), ELU (alpha), CLAMP (min, max; NaN means unbounded), ADD_SCALAR/MUL_SCALAR (scalar),
 * RSUB_SCALAR (scalar - x), RDIV_SCALAR (scalar / x).
 */
public enum UnaryOp {
    NEG, ABS, SIGN, EXP, LOG, SQRT, RSQRT, SIN, COS, TANH, SIGMOID, RELU, LEAKY_RELU, ELU, GELU,
    POW, CLAMP, RECIPROCAL, SQUARE, LOG1P, EXPM1, FLOOR, CEIL, ROUND, LOGICAL_NOT,
    ADD_SCALAR, MUL_SCALAR, RSUB_SCALAR, RDIV_SCALAR,
    /** 1 where x is NaN. */
    ISNAN,
    /** 1 where x is +-inf or NaN. */
    NONFINITE
}
