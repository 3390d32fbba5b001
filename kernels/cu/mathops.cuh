// Scalar definitions of every unary and binary op, in the compute type of a dtype (float, double or long long).
// Kept apart from the loops so that elementwise.cu, optim.cu and amp.cu share one meaning of each op.
#pragma once
#include "common.cuh"
#include "ops.cuh"

#define JT_OVERLOAD1(name, ff, df) \
    __device__ __forceinline__ float name(float x) { return ff(x); } \
    __device__ __forceinline__ double name(double x) { return df(x); }
JT_OVERLOAD1(m_exp, expf, exp)
JT_OVERLOAD1(m_log, logf, log)
JT_OVERLOAD1(m_sqrt, sqrtf, sqrt)
JT_OVERLOAD1(m_sin, sinf, sin)
JT_OVERLOAD1(m_cos, cosf, cos)
JT_OVERLOAD1(m_tanh, tanhf, tanh)
JT_OVERLOAD1(m_erf, erff, erf)
JT_OVERLOAD1(m_erfc, erfcf, erfc)
JT_OVERLOAD1(m_log1p, log1pf, log1p)
JT_OVERLOAD1(m_expm1, expm1f, expm1)
JT_OVERLOAD1(m_floor, floorf, floor)
JT_OVERLOAD1(m_ceil, ceilf, ceil)
JT_OVERLOAD1(m_rint, rintf, rint)
JT_OVERLOAD1(m_fabs, fabsf, fabs)
__device__ __forceinline__ float m_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double m_pow(double a, double b) { return pow(a, b); }
__device__ __forceinline__ float m_atan2(float a, float b) { return atan2f(a, b); }
__device__ __forceinline__ double m_atan2(double a, double b) { return atan2(a, b); }
__device__ __forceinline__ float m_fmod(float a, float b) { return fmodf(a, b); }
__device__ __forceinline__ double m_fmod(double a, double b) { return fmod(a, b); }

// max / min that propagate NaN (PyTorch's rule, and the CPU backend's): once a NaN is folded in it stays.
template <class C>
__device__ __forceinline__ C max_nan(C a, C b) {
#if __CUDA_ARCH__ >= 800
    if constexpr (std::is_same<C, float>::value) {
        float r;
        asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
        return r;
    }
#endif
    // comparisons with NaN are false, so a NaN held in a stays, and a NaN b replaces it
    return (b > a || b != b) ? b : a;
}

template <class C>
__device__ __forceinline__ C min_nan(C a, C b) {
#if __CUDA_ARCH__ >= 800
    if constexpr (std::is_same<C, float>::value) {
        float r;
        asm("min.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
        return r;
    }
#endif
    return (b < a || b != b) ? b : a;
}

// Integer power by squaring; negative exponents give 0 except for bases 1 and -1 (what the integer result rounds to).
__device__ __forceinline__ i64 ipow(i64 base, i64 e) {
    if (e < 0) return base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
    i64 r = 1;
    while (e > 0) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return r;
}

// ---------------------------------------------------------------------------------------------- unary
template <class C>
__device__ __forceinline__ C unary_float(int op, C x, double p1, double p2) {
    const C one = (C) 1, zero = (C) 0;
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return m_fabs(x);
        case U_SIGN: return (C) ((zero < x) - (x < zero));
        case U_EXP: return m_exp(x);
        case U_LOG: return m_log(x);
        case U_SQRT: return m_sqrt(x);
        case U_RSQRT: return one / m_sqrt(x);
        case U_SIN: return m_sin(x);
        case U_COS: return m_cos(x);
        case U_TANH: return m_tanh(x);
        case U_SIGMOID: return one / (one + m_exp(-x));
        case U_RELU: return x < zero ? zero : x;
        case U_LEAKY_RELU: return x > zero ? x : x * (C) p1;
        case U_ELU: return x > zero ? x : (C) p1 * m_expm1(x);
        // x * Phi(x) through erfc, which stays accurate in the negative tail where 1 + erf(x) cancels.
        case U_GELU: return (C) 0.5 * x * m_erfc(-x * (C) 0.70710678118654752440);
        case U_POW: return m_pow(x, (C) p1);
        case U_CLAMP: {
            C r = x;
            if (p1 == p1 && r < (C) p1) r = (C) p1;
            if (p2 == p2 && r > (C) p2) r = (C) p2;
            return r;
        }
        case U_RECIPROCAL: return one / x;
        case U_SQUARE: return x * x;
        case U_LOG1P: return m_log1p(x);
        case U_EXPM1: return m_expm1(x);
        case U_FLOOR: return m_floor(x);
        case U_CEIL: return m_ceil(x);
        case U_ROUND: return m_rint(x);
        case U_LOGICAL_NOT: return x == zero ? one : zero;
        case U_ADD_SCALAR: return x + (C) p1;
        case U_MUL_SCALAR: return x * (C) p1;
        case U_RSUB_SCALAR: return (C) p1 - x;
        case U_RDIV_SCALAR: return (C) p1 / x;
        case U_ISNAN: return x != x ? one : zero;
        case U_NONFINITE: return (x != x || m_fabs(x) == (C) INFINITY) ? one : zero;
        default: return x;
    }
}

__device__ __forceinline__ i64 unary_int(int op, i64 x, double p1, double p2) {
    switch (op) {
        case U_NEG: return -x;
        case U_ABS: return x < 0 ? -x : x;
        case U_SIGN: return (0 < x) - (x < 0);
        case U_RELU: return x < 0 ? 0 : x;
        case U_POW:
            if (p1 == floor(p1)) return ipow(x, (i64) p1);
            return (i64) pow((double) x, p1);
        case U_CLAMP: {
            i64 r = x;
            if (p1 == p1 && (double) r < p1) r = (i64) ceil(p1);
            if (p2 == p2 && (double) r > p2) r = (i64) floor(p2);
            return r;
        }
        case U_SQUARE: return x * x;
        case U_FLOOR: case U_CEIL: case U_ROUND: return x;
        case U_LOGICAL_NOT: return x == 0 ? 1 : 0;
        case U_ADD_SCALAR: return x + (i64) p1;
        case U_MUL_SCALAR: return x * (i64) p1;
        case U_RSUB_SCALAR: return (i64) p1 - x;
        case U_ISNAN: case U_NONFINITE: return 0;
        case U_LEAKY_RELU: return x > 0 ? x : (i64) ((double) x * p1);
        // Ops defined only for floating inputs (EXP, SIN, ...): the Java side computes them in a floating dtype.
        default: return x;
    }
}

template <class D>
__device__ __forceinline__ typename D::C unary_op(int op, typename D::C x, double p1, double p2) {
    if constexpr (D::is_float) return unary_float<typename D::C>(op, x, p1, p2);
    else return unary_int(op, x, p1, p2);
}

// ---------------------------------------------------------------------------------------------- binary
template <class C>
__device__ __forceinline__ C binary_float(int op, C a, C b) {
    const C one = (C) 1, zero = (C) 0;
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return m_pow(a, b);
        case B_MAXIMUM: return a != a ? a : (b != b ? b : (a > b ? a : b));
        case B_MINIMUM: return a != a ? a : (b != b ? b : (a < b ? a : b));
        case B_ATAN2: return m_atan2(a, b);
        case B_REMAINDER: {
            C r = m_fmod(a, b);
            if (r != zero && ((r < zero) != (b < zero))) r += b;
            return r;
        }
        case B_RELU_BACKWARD: return b > zero ? a : zero;
        case B_SIGMOID_BACKWARD: return a * b * (one - b);
        case B_TANH_BACKWARD: return a * (one - b * b);
        case B_GELU_BACKWARD: {
            C cdf = (C) 0.5 * m_erfc(-b * (C) 0.70710678118654752440);
            C pdf = m_exp((C) -0.5 * b * b) * (C) 0.39894228040143267794;
            return a * (cdf + b * pdf);
        }
        default: return a;
    }
}

__device__ __forceinline__ i64 binary_int(int op, i64 a, i64 b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: {  // floor division, as the CPU backend; division by zero gives 0 here, elementwise.cu reports it
            if (b == 0) return 0;
            i64 q = a / b;
            if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
            return q;
        }
        case B_POW: return ipow(a, b);
        case B_MAXIMUM: return a > b ? a : b;
        case B_MINIMUM: return a < b ? a : b;
        case B_ATAN2: return (i64) atan2((double) a, (double) b);
        case B_REMAINDER: {
            if (b == 0) return 0;
            i64 r = a % b;
            if (r != 0 && ((r < 0) != (b < 0))) r += b;
            return r;
        }
        case B_RELU_BACKWARD: return b > 0 ? a : 0;
        case B_SIGMOID_BACKWARD: return a * b * (1 - b);
        case B_TANH_BACKWARD: return a * (1 - b * b);
        default: return a;  // GELU_BACKWARD is floating-only: the Java side casts
    }
}

template <class D>
__device__ __forceinline__ typename D::C binary_op(int op, typename D::C a, typename D::C b) {
    if constexpr (D::is_float) return binary_float<typename D::C>(op, a, b);
    else return binary_int(op, a, b);
}

// ISNAN, NONFINITE, LOGICAL_NOT: 1 or 0.
template <class C>
__device__ __forceinline__ uint8_t predicate_op(int op, C x) {
    switch (op) {
        case U_ISNAN: return x != x;
        case U_NONFINITE:
            if constexpr (std::is_integral<C>::value) return 0;
            else return x != x || x == (C) INFINITY || x == (C) -INFINITY;
        case U_LOGICAL_NOT: return x == (C) 0;
        default: return 0;
    }
}

// Comparisons and logical ops: 1 or 0.
template <class C>
__device__ __forceinline__ uint8_t compare_op(int op, C a, C b) {
    switch (op) {
        case B_EQ: return a == b;
        case B_NE: return a != b;
        case B_LT: return a < b;
        case B_LE: return a <= b;
        case B_GT: return a > b;
        case B_GE: return a >= b;
        case B_LOGICAL_AND: return (a != (C) 0) && (b != (C) 0);
        case B_LOGICAL_OR: return (a != (C) 0) || (b != (C) 0);
        case B_LOGICAL_XOR: return (a != (C) 0) != (b != (C) 0);
        default: return 0;
    }
}
