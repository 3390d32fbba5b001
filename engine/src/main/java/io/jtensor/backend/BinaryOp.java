package io.jtensor.backend;

/** Elementwise ops of two inputs. Comparisons and logical ops write BOOL. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, ATAN2, REMAINDER,
    EQ, NE, LT, LE, GT, GE,
    LOGICAL_AND, LOGICAL_OR, LOGICAL_XOR,
    /** Gradient helpers that would otherwise take several passes. */
    RELU_BACKWARD,      // a = grad, b = input: a * (b > 0)
    SIGMOID_BACKWARD,   // a = grad, b = output y: a * y * (1 - y)
    TANH_BACKWARD,      // a = grad, b = output y: a * (1 - y^2)
    GELU_BACKWARD;      // a = grad, b = input x

    public boolean isComparison() {
        return switch (this) {
            case EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR, LOGICAL_XOR -> true;
            default -> false;
        };
    }
}
