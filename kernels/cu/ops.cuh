// Op codes shared with Java (io.jtensor.backend.cuda.KernelCodes; a unit test checks that both agree).
#pragma once

// Unary ops (io.jtensor.backend.UnaryOp).
#define U_NEG 0
#define U_ABS 1
#define U_SIGN 2
#define U_EXP 3
#define U_LOG 4
#define U_SQRT 5
#define U_RSQRT 6
#define U_SIN 7
#define U_COS 8
#define U_TANH 9
#define U_SIGMOID 10
#define U_RELU 11
#define U_LEAKY_RELU 12
#define U_ELU 13
#define U_GELU 14
#define U_POW 15
#define U_CLAMP 16
#define U_RECIPROCAL 17
#define U_SQUARE 18
#define U_LOG1P 19
#define U_EXPM1 20
#define U_FLOOR 21
#define U_CEIL 22
#define U_ROUND 23
#define U_LOGICAL_NOT 24
#define U_ADD_SCALAR 25
#define U_MUL_SCALAR 26
#define U_RSUB_SCALAR 27
#define U_RDIV_SCALAR 28
#define U_ISNAN 29
#define U_NONFINITE 30

// Binary ops (io.jtensor.backend.BinaryOp).
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAXIMUM 5
#define B_MINIMUM 6
#define B_ATAN2 7
#define B_REMAINDER 8
#define B_EQ 9
#define B_NE 10
#define B_LT 11
#define B_LE 12
#define B_GT 13
#define B_GE 14
#define B_LOGICAL_AND 15
#define B_LOGICAL_OR 16
#define B_LOGICAL_XOR 17
#define B_RELU_BACKWARD 18
#define B_SIGMOID_BACKWARD 19
#define B_TANH_BACKWARD 20
#define B_GELU_BACKWARD 21

// Reductions (io.jtensor.backend.ReduceOp).
#define R_SUM 0
#define R_PROD 1
#define R_MAX 2
#define R_MIN 3
#define R_ARGMAX 4
#define R_ARGMIN 5
#define R_ANY 6
#define R_ALL 7
#define R_LOGSUMEXP 8

// Device error codes written to the error flag (see report_error).
#define E_INDEX_OUT_OF_RANGE 1
#define E_DIVISION_BY_ZERO 2
#define E_NEGATIVE_EXPONENT 3
