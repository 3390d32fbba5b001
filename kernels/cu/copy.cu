// Copies, casts and fills over strided operands.
// Entry points: copy_cast_<from>_<to> (all 64 dtype pairs), copy_bits_b{8,16,32,64} (same-dtype copies move raw
// bits, so one kernel per element width serves every dtype), copy_fill_<dtype>.
#include "common.cuh"

// dst = convert(src); strides: dst, src.
template <class F, class T>
__device__ void cast_kernel(const Geom<2>& g, const typename F::S* __restrict__ src, typename T::S* __restrict__ dst) {
    if (all_contiguous(g)) {
        JT_GRID_STRIDE(i, g.numel) dst[i] = convert<T, F>(src[i]);
    } else {
        for_each_strided(g, [&](const i64 (&o)[2]) { dst[o[0]] = convert<T, F>(src[o[1]]); });
    }
}

template <class S>
__device__ void bits_kernel(const Geom<2>& g, const S* __restrict__ src, S* __restrict__ dst) {
    constexpr int V = 16 / sizeof(S);
    if (all_contiguous(g)) {
        for_each_contiguous<V>(g.numel, aligned16(src) && aligned16(dst),
            [&](i64 v) { reinterpret_cast<Pack<S, V>*>(dst)[v] = reinterpret_cast<const Pack<S, V>*>(src)[v]; },
            [&](i64 i) { dst[i] = src[i]; });
    } else {
        for_each_strided(g, [&](const i64 (&o)[2]) { dst[o[0]] = src[o[1]]; });
    }
}

// Every element of dst set to value (already converted by the caller into dst's bits).
template <class S>
__device__ void fill_kernel(const Geom<1>& g, S* __restrict__ dst, S value) {
    if (all_contiguous(g)) {
        JT_GRID_STRIDE(i, g.numel) dst[i] = value;
    } else {
        for_each_strided(g, [&](const i64 (&o)[1]) { dst[o[0]] = value; });
    }
}

#define JT_CAST(F, fname, T, tname) \
    extern "C" __global__ void copy_cast_##fname##_##tname(Geom<2> g, const F::S* src, T::S* dst) { cast_kernel<F, T>(g, src, dst); }
#define JT_CAST_FROM(F, fname) \
    JT_CAST(F, fname, Bool_, bool) JT_CAST(F, fname, U8_, u8) JT_CAST(F, fname, I32_, i32) JT_CAST(F, fname, I64_, i64) \
    JT_CAST(F, fname, F16_, f16) JT_CAST(F, fname, BF16_, bf16) JT_CAST(F, fname, F32_, f32) JT_CAST(F, fname, F64_, f64)
JT_ALL_DTYPES(JT_CAST_FROM)

#define JT_BITS(S, name) \
    extern "C" __global__ void copy_bits_##name(Geom<2> g, const S* src, S* dst) { bits_kernel<S>(g, src, dst); } \
    extern "C" __global__ void copy_fill_##name(Geom<1> g, S* dst, S value) { fill_kernel<S>(g, dst, value); }
JT_BITS(uint8_t, b8)
JT_BITS(uint16_t, b16)
JT_BITS(uint32_t, b32)
JT_BITS(unsigned long long, b64)
