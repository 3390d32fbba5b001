// Shared definitions for every jtensor kernel family: dtype traits, the strided-geometry struct the Java side
// fills in, index decomposition, and warp/block reductions.
//
// Layout contract with Java (io.jtensor.backend.cuda.Geometry): Geom<N> is passed by value and must match
//   offset 0: int rank; 4: int fits32; 8: long long numel; 16: long long size[8]; 80: long long stride[N][8]
// Strides and sizes are in elements. Java collapses mergeable dims and drops size-1 dims before packing, so the
// rank here is usually 1 or 2.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>
#include <limits.h>
#include <type_traits>

#define JT_MAX_RANK 8
typedef long long i64;

template <int N>
struct Geom {
    int rank;
    int fits32;   // 1 when numel and every operand's largest offset fit in 32 bits: cheaper index arithmetic

    i64 numel;
    i64 size[JT_MAX_RANK];
    i64 stride[N][JT_MAX_RANK];
};

// ---------------------------------------------------------------------------------------------- dtype traits
// Each dtype tag names its storage type S and the type arithmetic happens in (C): float for the 16-bit floats and
// F32, double for F64, long long for the integers and bool. ld/st convert between them.
struct Bool_ { typedef uint8_t S; typedef i64 C; static constexpr bool is_float = false; static constexpr bool is_bool = true; };
struct U8_   { typedef uint8_t S; typedef i64 C; static constexpr bool is_float = false; static constexpr bool is_bool = false; };
struct I32_  { typedef int32_t S; typedef i64 C; static constexpr bool is_float = false; static constexpr bool is_bool = false; };
struct I64_  { typedef i64 S;     typedef i64 C; static constexpr bool is_float = false; static constexpr bool is_bool = false; };
struct F16_  { typedef __half S;  typedef float C; static constexpr bool is_float = true; static constexpr bool is_bool = false; };
struct BF16_ { typedef __nv_bfloat16 S; typedef float C; static constexpr bool is_float = true; static constexpr bool is_bool = false; };
struct F32_  { typedef float S;   typedef float C; static constexpr bool is_float = true; static constexpr bool is_bool = false; };
struct F64_  { typedef double S;  typedef double C; static constexpr bool is_float = true; static constexpr bool is_bool = false; };

template <class D> __device__ __forceinline__ typename D::C ld(typename D::S s) {
    if constexpr (std::is_same<D, F16_>::value) return __half2float(s);
    else if constexpr (std::is_same<D, BF16_>::value) return __bfloat162float(s);
    else if constexpr (std::is_same<D, Bool_>::value) return s != 0 ? 1 : 0;
    else return (typename D::C) s;
}

template <class D> __device__ __forceinline__ typename D::S st(typename D::C c) {
    if constexpr (std::is_same<D, F16_>::value) return __float2half_rn(c);
    else if constexpr (std::is_same<D, BF16_>::value) return __float2bfloat16_rn(c);
    else if constexpr (std::is_same<D, Bool_>::value) return c != 0 ? 1 : 0;
    else return (typename D::S) c;
}

// A value of source dtype F converted to the storage of dtype T, rounding once where it can.
template <class T, class F> __device__ __forceinline__ typename T::S convert(typename F::S v) {
    if constexpr (std::is_same<T, F>::value) {
        return v;
    } else if constexpr (T::is_bool) {
        if constexpr (F::is_float) return ld<F>(v) != 0 ? 1 : 0;  // NaN is true, as in PyTorch
        else return v != 0 ? 1 : 0;
    } else if constexpr (T::is_float) {
        // As PyTorch (and jtensor's CPU backend): F64 narrows to the 16-bit floats through F32, integers widen
        // through F64.
        if constexpr (std::is_same<F, F64_>::value && !std::is_same<T, F64_>::value) return st<T>((float) v);
        else if constexpr (!F::is_float) return st<T>((typename T::C) (double) ld<F>(v));
        else return st<T>((typename T::C) ld<F>(v));
    } else {
        // To an integer: floats truncate toward zero through a 64-bit integer, integers wrap.
        if constexpr (F::is_float) {
            double d = (double) ld<F>(v);
            return (typename T::S) (i64) d;
        } else {
            return (typename T::S) (i64) v;
        }
    }
}

// ---------------------------------------------------------------------------------------------- indexing
// Offsets (in elements) of the linear, row-major index i of g's shape, for each of g's operands.
template <int N, typename I>
__device__ __forceinline__ void offsets(const Geom<N>& g, I i, I (&off)[N]) {
#pragma unroll
    for (int k = 0; k < N; k++) off[k] = 0;
#pragma unroll
    for (int d = JT_MAX_RANK - 1; d >= 0; d--) {
        if (d < g.rank) {
            I s = (I) g.size[d];
            I c = i % s;
            i /= s;
#pragma unroll
            for (int k = 0; k < N; k++) off[k] += c * (I) g.stride[k][d];
        }
    }
}

// True when every operand walks memory with unit stride (rank 1, stride 1), so the linear index is the offset.
template <int N>
__device__ __forceinline__ bool all_contiguous(const Geom<N>& g) {
    if (g.rank > 1) return false;
    if (g.rank == 0) return true;
#pragma unroll
    for (int k = 0; k < N; k++) if (g.stride[k][0] != 1) return false;
    return true;
}

__device__ __forceinline__ bool aligned16(const void* p) { return (((uintptr_t) p) & 15) == 0; }

// A run of V elements loaded or stored with one vector instruction.
template <class S, int V>
struct alignas(sizeof(S) * V) Pack { S v[V]; };

// A 16-byte pack loaded through the read-only cache, and stored (p 16-byte aligned).
template <class S>
__device__ __forceinline__ Pack<S, 16 / sizeof(S)> ld_pack(const S* p) {
    uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
    Pack<S, 16 / sizeof(S)> r;
    memcpy(&r, &raw, 16);
    return r;
}

template <class S>
__device__ __forceinline__ void st_pack(S* p, const Pack<S, 16 / sizeof(S)>& v) {
    uint4 raw;
    memcpy(&raw, &v, 16);
    *reinterpret_cast<uint4*>(p) = raw;
}

// ---------------------------------------------------------------------------------------------- reductions
template <class T>
__device__ __forceinline__ T shfl_down(T v, int delta) { return __shfl_down_sync(0xffffffffu, v, delta); }

// Sum over the warp; every lane receives it.
template <class C>
__device__ __forceinline__ C warp_sum(C v) {
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffffu, v, d);
    return v;
}

// Sum over the block; every thread receives it. Safe to call twice in a row (see the comment in the body).
template <class C>
__device__ __forceinline__ C block_sum(C v) {
    __shared__ C part[32];
    __shared__ C result;
    v = warp_sum(v);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    if (lane == 0) part[w] = v;
    __syncthreads();
    // result is rewritten only after the next call's barrier, which every thread reaches after reading it here
    if (w == 0) {
        C b = lane < nw ? part[lane] : (C) 0;
        b = warp_sum(b);
        if (lane == 0) result = b;
    }
    __syncthreads();
    return result;
}

// Device-side error flag {int code, int pad, long long value}: a kernel that meets bad input (an index out of range,
// an integer division by zero) records the first code and its value. Java zeroes a flag for each such launch,
// reads it back right after the kernel and throws there (CudaDevice.launchChecked).
__device__ __forceinline__ void report_error(int* flag, int code, i64 value) {
    if (flag != nullptr && atomicCAS(flag, 0, code) == 0) {
        *reinterpret_cast<volatile i64*>(flag + 2) = value;
    }
}

#define JT_GRID_STRIDE(i, n) for (i64 i = (i64) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64) gridDim.x * blockDim.x)

// Calls f(off) for every element of g, off[k] being operand k's offset; 32-bit index arithmetic when Java found
// that every index and offset fits (Geometry.fits32).
template <int N, class F>
__device__ __forceinline__ void for_each_strided(const Geom<N>& g, F f) {
    if (g.fits32) {
        int n = (int) g.numel;
        for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
            int off[N];
            offsets<N, int>(g, i, off);
            i64 o[N];
#pragma unroll
            for (int k = 0; k < N; k++) o[k] = off[k];
            f(o);
        }
    } else {
        JT_GRID_STRIDE(i, g.numel) {
            i64 off[N];
            offsets<N, i64>(g, i, off);
            f(off);
        }
    }
}

// Contiguous operands: fvec(v) handles elements [v*V, v*V+V) with vector accesses when vec_ok, fone(i) one element.
template <int V, class FV, class F1>
__device__ __forceinline__ void for_each_contiguous(i64 n, bool vec_ok, FV fvec, F1 fone) {
    if (vec_ok) {
        i64 nv = n / V;
        JT_GRID_STRIDE(v, nv) fvec(v);
        i64 tail = n - nv * V;
        JT_GRID_STRIDE(j, tail) fone(nv * V + j);
    } else {
        JT_GRID_STRIDE(i, n) fone(i);
    }
}

// Instantiates MACRO(tag, suffix) for every dtype / for the floating dtypes.
#define JT_ALL_DTYPES(M) M(Bool_, bool) M(U8_, u8) M(I32_, i32) M(I64_, i64) M(F16_, f16) M(BF16_, bf16) M(F32_, f32) M(F64_, f64)
#define JT_FLOAT_DTYPES(M) M(F16_, f16) M(BF16_, bf16) M(F32_, f32) M(F64_, f64)
