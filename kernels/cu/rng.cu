// Philox 4x32-10 random numbers, the same stream as io.jtensor.Philox on the CPU: element i of a draw at `offset`
// takes lane i % 4 of the block for counter (offset + i / 4, 0) under key `seed`. Uniforms are bit-identical with
// the CPU; normals (Box-Muller in double) agree to the last bit or two of a double.
// A uniform in [lo, hi) computed in double can round to hi itself in a narrower dtype (u = 1 - 2^-24 gives 1.0 in
// BF16, 3 - 2^-22 gives 3.0 in F16); as on the CPU (CpuRandom.fixUpperBound) such values become the largest value
// of the dtype below hi, so that every dtype keeps [lo, hi).
// Entry points: rng_uniform_<dtype>, rng_normal_<dtype> for the floating dtypes; out is contiguous.
#include "common.cuh"

__device__ __forceinline__ uint4 philox(unsigned long long counter, unsigned long long seed) {
    const unsigned int M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    unsigned int c0 = (unsigned int) counter, c1 = (unsigned int) (counter >> 32), c2 = 0, c3 = 0;
    unsigned int k0 = (unsigned int) seed, k1 = (unsigned int) (seed >> 32);
#pragma unroll
    for (int round = 0; round < 10; round++) {
        unsigned int hi0 = __umulhi(M0, c0), lo0 = M0 * c0;
        unsigned int hi1 = __umulhi(M1, c2), lo1 = M1 * c2;
        unsigned int n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += W0;
        k1 += W1;
    }
    return make_uint4(c0, c1, c2, c3);
}

#define TWO_POW_M24 (1.0 / 16777216.0)

__device__ __forceinline__ double uniform01(unsigned int bits) { return (double) (bits >> 8) * TWO_POW_M24; }

// The normal of `lane` from the Box-Muller pair (lane & 2, (lane & 2) + 1), as Philox.normal computes it.
__device__ __forceinline__ double normal_of(const unsigned int (&b)[4], int lane) {
    int pair = lane & 2;
    double u1 = ((double) (b[pair] >> 8) + 1.0) * TWO_POW_M24;
    double u2 = (double) (b[pair + 1] >> 8) * TWO_POW_M24;
    double r = sqrt(-2.0 * log(u1));
    double theta = 2.0 * 3.141592653589793 * u2;
    return (lane & 1) == 0 ? r * cos(theta) : r * sin(theta);
}

// A floating storage value as the unsigned integer of its width, and back.
template <class D> __device__ __forceinline__ auto float_bits(typename D::S v) {
    if constexpr (std::is_same<D, F16_>::value) return __half_as_ushort(v);
    else if constexpr (std::is_same<D, BF16_>::value) return __bfloat16_as_ushort(v);
    else if constexpr (std::is_same<D, F32_>::value) return __float_as_uint(v);
    else return (unsigned long long) __double_as_longlong(v);
}

template <class D, class U> __device__ __forceinline__ typename D::S from_float_bits(U b) {
    if constexpr (std::is_same<D, F16_>::value) return __ushort_as_half((unsigned short) b);
    else if constexpr (std::is_same<D, BF16_>::value) return __ushort_as_bfloat16((unsigned short) b);
    else if constexpr (std::is_same<D, F32_>::value) return __uint_as_float((unsigned int) b);
    else return __longlong_as_double((long long) b);
}

// The largest value of D strictly below hi, step for step as CpuRandom.largestBelow: hi rounded into D when that is
// below hi; else the negative value nearest zero when it rounded to zero; else one step down from the rounded value
// (Math.nextDown for F32 and F64, which keeps NaN and -infinity; a step of the bit pattern for F16 and BF16).
template <class D> __device__ typename D::S largest_below(double hi) {
    typename D::S r = convert<D, F64_>(hi);
    double rd = (double) ld<D>(r);
    if (rd < hi) return r;
    auto b = float_bits<D>(r);
    typedef decltype(b) U;
    if (rd == 0) return from_float_bits<D>((U) ((U) 1 << (8 * sizeof(U) - 1)) | (U) 1);
    constexpr bool wide = std::is_same<D, F32_>::value || std::is_same<D, F64_>::value;
    if (wide && (rd != rd || rd == -INFINITY)) return r;
    return from_float_bits<D>((U) (rd > 0 ? b - 1 : b + 1));
}

template <class D, bool NORMAL>
__device__ void rng_kernel(i64 seed, i64 offset, i64 n, double a, double b, typename D::S* __restrict__ out) {
    typedef typename D::S S;
    i64 blocks = (n + 3) / 4;
    S below_hi = NORMAL ? S() : largest_below<D>(b);
    JT_GRID_STRIDE(t, blocks) {
        uint4 q = philox((unsigned long long) (offset + t), (unsigned long long) seed);
        unsigned int bits[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int lane = 0; lane < 4; lane++) {
            i64 i = t * 4 + lane;
            if (i < n) {
                // Two roundings, as Java computes it: __dmul_rn keeps nvcc from fusing the product into an fma,
                // which would round once and differ from the CPU in the last bit whenever the product is inexact.
                double v = NORMAL ? a + __dmul_rn(b, normal_of(bits, lane)) : a + __dmul_rn(b - a, uniform01(bits[lane]));
                S s = convert<D, F64_>(v);
                // the CPU's test, on the value as stored: (double) of the rounded value >= hi
                if (!NORMAL && (double) ld<D>(s) >= b) s = below_hi;
                out[i] = s;
            }
        }
    }
}

#define JT_RNG(D, name) \
    extern "C" __global__ void rng_uniform_##name(i64 seed, i64 offset, i64 n, double lo, double hi, D::S* out) { \
        rng_kernel<D, false>(seed, offset, n, lo, hi, out); } \
    extern "C" __global__ void rng_normal_##name(i64 seed, i64 offset, i64 n, double mean, double std, D::S* out) { \
        rng_kernel<D, true>(seed, offset, n, mean, std, out); }
JT_FLOAT_DTYPES(JT_RNG)
