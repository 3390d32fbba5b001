// Fused softmax / log-softmax along one dim, forward and backward.
//
// Java passes the geometry of every other dim (outer; strides of the output then the inputs), the length L of the
// softmax dim and each operand's stride along it. Three variants:
//   softmax_{fwd,bwd}_warp_<dtype>:  one warp per row, the row held in registers (L <= 1024, unit strides): one read
//                                    and one write per element;
//   softmax_{fwd,bwd}_block_<dtype>: one block per row for longer rows (unit strides): an online max/sum pass, then
//                                    the write pass, which re-reads x mostly from L2;
//   softmax_{fwd,bwd}_cols_<dtype>:  one thread per row when the dim is not the innermost (e.g. channels of NCHW), so
//                                    that neighbouring threads read neighbouring elements.
// Forward: y = exp(x - max) / sum, or x - max - log(sum). Backward (y is the forward output):
//   softmax:     gx = y * (gy - sum(gy * y));   log-softmax: gx = gy - exp(y) * sum(gy).
#include "common.cuh"
#include "mathops.cuh"

#define WARP_MAX_ELEMS 32  // 32 lanes x 32 registers: rows up to 1024

// A running (max, sum of exp(x - max)) over part of a row. A state that saw a NaN is "poisoned": (+inf, NaN).
// It wins every merge (no max is above +inf) and its NaN sum absorbs whatever merges into it, so the row's sum is
// NaN and every output NaN, as on the CPU backend and in PyTorch. (A NaN left only in s would be lost where the
// thread saw only -inf otherwise: a state whose max is -inf is dropped by the merge.) A genuine +inf in the row
// gives the same all-NaN row through exp(inf - inf). A state that saw only -inf keeps m = -inf; its s is
// meaningless and the merge ignores it.
template <class C>
struct MaxSum { C m; C s; };

template <class C>
__device__ __forceinline__ MaxSum<C> ms_poisoned() { return MaxSum<C>{(C) INFINITY, (C) NAN}; }

template <class C>
__device__ __forceinline__ MaxSum<C> ms_add(MaxSum<C> a, C x) {
    if (x > a.m) {
        a.s = a.s * m_exp(a.m - x) + (C) 1;
        a.m = x;
    } else if (x == x) {
        a.s += m_exp(x - a.m);
    } else {
        a = ms_poisoned<C>();
    }
    return a;
}

// (The merge itself has no NaN test: on sm_90a one made ptxas spill in the F64 block kernels.)
template <class C>
__device__ __forceinline__ MaxSum<C> ms_merge(MaxSum<C> a, MaxSum<C> b) {
    if (b.m > a.m) { MaxSum<C> t = a; a = b; b = t; }
    if (b.m == (C) -INFINITY) return a;
    a.s += b.s * m_exp(b.m - a.m);
    return a;
}

template <class C>
__device__ __forceinline__ C warp_max(C v) {
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) { C o = __shfl_xor_sync(0xffffffffu, v, d); v = o > v ? o : v; }
    return v;
}

template <class C>
__device__ __forceinline__ MaxSum<C> warp_ms(MaxSum<C> a) {
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) {
        MaxSum<C> b;
        b.m = __shfl_xor_sync(0xffffffffu, a.m, d);
        b.s = __shfl_xor_sync(0xffffffffu, a.s, d);
        a = ms_merge(a, b);
    }
    return a;
}

// Merges the per-thread states of a block; every thread receives the result.
template <class C>
__device__ __forceinline__ MaxSum<C> block_ms(MaxSum<C> a) {
    __shared__ MaxSum<C> part[32];
    __shared__ MaxSum<C> result;
    a = warp_ms(a);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    if (lane == 0) part[w] = a;
    __syncthreads();
    if (w == 0) {
        MaxSum<C> b = lane < nw ? part[lane] : MaxSum<C>{(C) -INFINITY, (C) 0};
        b = warp_ms(b);
        if (lane == 0) result = b;
    }
    __syncthreads();
    return result;
}

template <class C>
__device__ __forceinline__ C softmax_out(C x, C m, C s, C logs, bool log) { return log ? x - m - logs : m_exp(x - m) / s; }

// ---------------------------------------------------------------------------------------------- forward
template <class D>
__device__ void fwd_warp(const Geom<2>& outer, i64 L, const typename D::S* __restrict__ x, typename D::S* __restrict__ y, int log) {
    typedef typename D::C C;
    int lane = threadIdx.x & 31;
    i64 row = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= outer.numel) return;
    i64 off[2];
    offsets<2, i64>(outer, row, off);
    const typename D::S* xr = x + off[1];
    typename D::S* yr = y + off[0];
    C v[WARP_MAX_ELEMS];
    C m = (C) -INFINITY;
#pragma unroll
    for (int k = 0; k < WARP_MAX_ELEMS; k++) {
        i64 j = (i64) k * 32 + lane;
        v[k] = j < L ? ld<D>(xr[j]) : (C) -INFINITY;
        m = v[k] > m ? v[k] : m;
    }
    m = warp_max(m);
    C s = 0;
#pragma unroll
    for (int k = 0; k < WARP_MAX_ELEMS; k++) {
        if ((i64) k * 32 + lane < L) s += m_exp(v[k] - m);
    }
    s = warp_sum(s);
    C logs = m_log(s);
#pragma unroll
    for (int k = 0; k < WARP_MAX_ELEMS; k++) {
        i64 j = (i64) k * 32 + lane;
        if (j < L) yr[j] = st<D>(softmax_out<C>(v[k], m, s, logs, log != 0));
    }
}

template <class D>
__device__ void fwd_block(const Geom<2>& outer, i64 L, const typename D::S* __restrict__ x, typename D::S* __restrict__ y, int log) {
    typedef typename D::C C;
    i64 off[2];
    offsets<2, i64>(outer, (i64) blockIdx.x, off);
    const typename D::S* xr = x + off[1];
    typename D::S* yr = y + off[0];
    MaxSum<C> a{(C) -INFINITY, (C) 0};
    for (i64 j = threadIdx.x; j < L; j += blockDim.x) a = ms_add(a, ld<D>(xr[j]));
    a = block_ms(a);
    C logs = m_log(a.s);
    for (i64 j = threadIdx.x; j < L; j += blockDim.x) yr[j] = st<D>(softmax_out<C>(ld<D>(xr[j]), a.m, a.s, logs, log != 0));
}

template <class D>
__device__ void fwd_cols(const Geom<2>& outer, i64 L, i64 ys, i64 xs, const typename D::S* __restrict__ x,
                         typename D::S* __restrict__ y, int log) {
    typedef typename D::C C;
    JT_GRID_STRIDE(row, outer.numel) {
        i64 off[2];
        offsets<2, i64>(outer, row, off);
        const typename D::S* xr = x + off[1];
        typename D::S* yr = y + off[0];
        MaxSum<C> a{(C) -INFINITY, (C) 0};
        for (i64 j = 0; j < L; j++) a = ms_add(a, ld<D>(xr[j * xs]));
        C logs = m_log(a.s);
        for (i64 j = 0; j < L; j++) yr[j * ys] = st<D>(softmax_out<C>(ld<D>(xr[j * xs]), a.m, a.s, logs, log != 0));
    }
}

// ---------------------------------------------------------------------------------------------- backward
// outer strides: gx, y, gy.
template <class C>
__device__ __forceinline__ C grad_term(C y, C gy, bool log) { return log ? gy : gy * y; }

template <class C>
__device__ __forceinline__ C grad_out(C y, C gy, C dot, bool log) { return log ? gy - m_exp(y) * dot : y * (gy - dot); }

template <class D>
__device__ void bwd_warp(const Geom<3>& outer, i64 L, const typename D::S* __restrict__ y, const typename D::S* __restrict__ gy,
                         typename D::S* __restrict__ gx, int log) {
    typedef typename D::C C;
    int lane = threadIdx.x & 31;
    i64 row = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= outer.numel) return;
    i64 off[3];
    offsets<3, i64>(outer, row, off);
    C yv[WARP_MAX_ELEMS], gv[WARP_MAX_ELEMS];
    C dot = 0;
#pragma unroll
    for (int k = 0; k < WARP_MAX_ELEMS; k++) {
        i64 j = (i64) k * 32 + lane;
        yv[k] = j < L ? ld<D>(y[off[1] + j]) : (C) 0;
        gv[k] = j < L ? ld<D>(gy[off[2] + j]) : (C) 0;
        dot += grad_term<C>(yv[k], gv[k], log != 0);
    }
    dot = warp_sum(dot);
#pragma unroll
    for (int k = 0; k < WARP_MAX_ELEMS; k++) {
        i64 j = (i64) k * 32 + lane;
        if (j < L) gx[off[0] + j] = st<D>(grad_out<C>(yv[k], gv[k], dot, log != 0));
    }
}

template <class D>
__device__ void bwd_block(const Geom<3>& outer, i64 L, const typename D::S* __restrict__ y, const typename D::S* __restrict__ gy,
                          typename D::S* __restrict__ gx, int log) {
    typedef typename D::C C;
    i64 off[3];
    offsets<3, i64>(outer, (i64) blockIdx.x, off);
    C dot = 0;
    for (i64 j = threadIdx.x; j < L; j += blockDim.x) dot += grad_term<C>(ld<D>(y[off[1] + j]), ld<D>(gy[off[2] + j]), log != 0);
    dot = block_sum(dot);
    for (i64 j = threadIdx.x; j < L; j += blockDim.x) {
        gx[off[0] + j] = st<D>(grad_out<C>(ld<D>(y[off[1] + j]), ld<D>(gy[off[2] + j]), dot, log != 0));
    }
}

template <class D>
__device__ void bwd_cols(const Geom<3>& outer, i64 L, i64 gxs, i64 ys, i64 gys, const typename D::S* __restrict__ y,
                         const typename D::S* __restrict__ gy, typename D::S* __restrict__ gx, int log) {
    typedef typename D::C C;
    JT_GRID_STRIDE(row, outer.numel) {
        i64 off[3];
        offsets<3, i64>(outer, row, off);
        C dot = 0;
        for (i64 j = 0; j < L; j++) dot += grad_term<C>(ld<D>(y[off[1] + j * ys]), ld<D>(gy[off[2] + j * gys]), log != 0);
        for (i64 j = 0; j < L; j++) {
            gx[off[0] + j * gxs] = st<D>(grad_out<C>(ld<D>(y[off[1] + j * ys]), ld<D>(gy[off[2] + j * gys]), dot, log != 0));
        }
    }
}

#define JT_SOFTMAX(D, name) \
    extern "C" __global__ void softmax_fwd_warp_##name(Geom<2> outer, i64 L, const D::S* x, D::S* y, int log) { \
        fwd_warp<D>(outer, L, x, y, log); } \
    extern "C" __global__ void softmax_fwd_block_##name(Geom<2> outer, i64 L, const D::S* x, D::S* y, int log) { \
        fwd_block<D>(outer, L, x, y, log); } \
    extern "C" __global__ void softmax_fwd_cols_##name(Geom<2> outer, i64 L, i64 ys, i64 xs, const D::S* x, D::S* y, int log) { \
        fwd_cols<D>(outer, L, ys, xs, x, y, log); } \
    extern "C" __global__ void softmax_bwd_warp_##name(Geom<3> outer, i64 L, const D::S* y, const D::S* gy, D::S* gx, int log) { \
        bwd_warp<D>(outer, L, y, gy, gx, log); } \
    extern "C" __global__ void softmax_bwd_block_##name(Geom<3> outer, i64 L, const D::S* y, const D::S* gy, D::S* gx, int log) { \
        bwd_block<D>(outer, L, y, gy, gx, log); } \
    extern "C" __global__ void softmax_bwd_cols_##name(Geom<3> outer, i64 L, i64 gxs, i64 ys, i64 gys, const D::S* y, \
                                                       const D::S* gy, D::S* gx, int log) { \
        bwd_cols<D>(outer, L, gxs, ys, gys, y, gy, gx, log); }
JT_FLOAT_DTYPES(JT_SOFTMAX)

#include "softmax_vec.cuh"
#include "softmax_vec2.cuh"

// ---------------------------------------------------------------------------------------------- cross-entropy
// Fused cross-entropy of logits [N, C, inner] (contiguous; inner = positions per image, 1 for [N, C]) against I64
// targets [N, inner], per position p = n * inner + s: loss = lse - (1 - e) x[t] - (e / C) sum_c x[c] (0 where
// t == ignore), and lse kept for the backward: gx[c] = g[p] * (exp(x[c] - lse) - e / C - (1 - e) [c == t]).
//   xent_fwd_rows_<dt>, xent_bwd_rows_<dt>: inner == 1, one warp per position, lanes along its classes;
//   xent_fwd_cols_<dt>, xent_bwd_cols_<dt>: inner > 1, one thread per position, its classes inner apart, so that
//                                           neighbouring threads read neighbouring positions.
// lse is the softmax kernels' (max, sum) merge (MaxSum: a NaN or a +inf makes it NaN, as in PyTorch). A target
// outside [0, C) that is not ignore goes to the error flag (Java throws) and leaves its loss 0.

template <class D>
__device__ __forceinline__ void xent_finish(i64 C, typename D::C lse, typename D::C xt, typename D::C sumx, i64 t, i64 ignore,
                                            typename D::C e, i64 p, typename D::S* __restrict__ loss,
                                            typename D::C* __restrict__ lseOut, int* err) {
    typedef typename D::C T;
    lseOut[p] = lse;
    T l = 0;
    if (t != ignore) {
        if (t < 0 || t >= C) report_error(err, E_INDEX_OUT_OF_RANGE, t);
        else l = lse - ((T) 1 - e) * xt - (e > (T) 0 ? e / (T) C * sumx : (T) 0);  // 0 * sumx is NaN for a -inf logit
    }
    loss[p] = st<D>(l);
}

template <class D>
__device__ void xent_fwd_rows(i64 P, i64 C, const typename D::S* __restrict__ x, const i64* __restrict__ tg, i64 ignore,
                              typename D::C e, typename D::S* __restrict__ loss, typename D::C* __restrict__ lse, int* err) {
    typedef typename D::C T;
    const int lane = threadIdx.x & 31;
    const i64 p = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (p >= P) return;  // the whole warp
    const typename D::S* xr = x + p * C;
    MaxSum<T> a{(T) -INFINITY, (T) 0};
    T sumx = 0;
    for (i64 c = lane; c < C; c += 32) {
        T v = ld<D>(xr[c]);
        a = ms_add(a, v);
        sumx += v;
    }
    a = warp_ms(a);
    sumx = warp_sum(sumx);
    if (lane == 0) {
        i64 t = tg[p];
        T xt = (t >= 0 && t < C) ? ld<D>(xr[t]) : (T) 0;
        xent_finish<D>(C, a.m + m_log(a.s), xt, sumx, t, ignore, e, p, loss, lse, err);
    }
}

template <class D>
__device__ void xent_fwd_cols(i64 N, i64 C, i64 inner, const typename D::S* __restrict__ x, const i64* __restrict__ tg, i64 ignore,
                              typename D::C e, typename D::S* __restrict__ loss, typename D::C* __restrict__ lse, int* err) {
    typedef typename D::C T;
    JT_GRID_STRIDE(p, N * inner) {
        i64 n = p / inner, s = p - n * inner;
        const typename D::S* xr = x + n * C * inner + s;
        MaxSum<T> a{(T) -INFINITY, (T) 0};
        T sumx = 0;
        for (i64 c = 0; c < C; c++) {
            T v = ld<D>(xr[c * inner]);
            a = ms_add(a, v);
            sumx += v;
        }
        i64 t = tg[p];
        T xt = (t >= 0 && t < C) ? ld<D>(xr[t * inner]) : (T) 0;
        xent_finish<D>(C, a.m + m_log(a.s), xt, sumx, t, ignore, e, p, loss, lse, err);
    }
}

// g * (exp(v - lse) - e / C - (1 - e) [c == t]) for one logit v of class c.
template <class T>
__device__ __forceinline__ T xent_grad(T v, T lse, T g, i64 c, i64 t, T e, T uniform) {
    return g * (m_exp(v - lse) - uniform - (c == t ? (T) 1 - e : (T) 0));
}

template <class D>
__device__ void xent_bwd_rows(i64 P, i64 C, const typename D::S* __restrict__ x, const i64* __restrict__ tg,
                              const typename D::C* __restrict__ lse, const typename D::S* __restrict__ gl, i64 ignore,
                              typename D::C e, typename D::S* __restrict__ gx) {
    typedef typename D::C T;
    const int lane = threadIdx.x & 31;
    const i64 p = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (p >= P) return;
    const i64 t = tg[p];
    const T g = t != ignore ? ld<D>(gl[p]) : (T) 0, L = lse[p], uniform = e / (T) C;
    const typename D::S* xr = x + p * C;
    typename D::S* gr = gx + p * C;
    for (i64 c = lane; c < C; c += 32) gr[c] = st<D>(xent_grad<T>(ld<D>(xr[c]), L, g, c, t, e, uniform));
}

template <class D>
__device__ void xent_bwd_cols(i64 N, i64 C, i64 inner, const typename D::S* __restrict__ x, const i64* __restrict__ tg,
                              const typename D::C* __restrict__ lse, const typename D::S* __restrict__ gl, i64 ignore,
                              typename D::C e, typename D::S* __restrict__ gx) {
    typedef typename D::C T;
    JT_GRID_STRIDE(p, N * inner) {
        i64 n = p / inner, s = p - n * inner;
        const i64 t = tg[p];
        const T g = t != ignore ? ld<D>(gl[p]) : (T) 0, L = lse[p], uniform = e / (T) C;
        const i64 base = n * C * inner + s;
        for (i64 c = 0; c < C; c++) gx[base + c * inner] = st<D>(xent_grad<T>(ld<D>(x[base + c * inner]), L, g, c, t, e, uniform));
    }
}

#define JT_XENT(D, name) \
    extern "C" __global__ void __launch_bounds__(256) xent_fwd_rows_##name(i64 P, i64 C, const D::S* x, const i64* tg, i64 ignore, \
            D::C e, D::S* loss, D::C* lse, int* err) { xent_fwd_rows<D>(P, C, x, tg, ignore, e, loss, lse, err); } \
    extern "C" __global__ void xent_fwd_cols_##name(i64 N, i64 C, i64 inner, const D::S* x, const i64* tg, i64 ignore, D::C e, \
            D::S* loss, D::C* lse, int* err) { xent_fwd_cols<D>(N, C, inner, x, tg, ignore, e, loss, lse, err); } \
    extern "C" __global__ void xent_bwd_rows_##name(i64 P, i64 C, const D::S* x, const i64* tg, const D::C* lse, \
            const D::S* gl, i64 ignore, D::C e, D::S* gx) { xent_bwd_rows<D>(P, C, x, tg, lse, gl, ignore, e, gx); } \
    extern "C" __global__ void xent_bwd_cols_##name(i64 N, i64 C, i64 inner, const D::S* x, const i64* tg, const D::C* lse, \
            const D::S* gl, i64 ignore, D::C e, D::S* gx) { xent_bwd_cols<D>(N, C, inner, x, tg, lse, gl, ignore, e, gx); }
JT_FLOAT_DTYPES(JT_XENT)
