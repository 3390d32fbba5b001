// Reductions over any set of dims of a strided input.
//
// Java splits x's dims into kept dims (outer: out's shape without the reduced dims; strides of out, then x) and
// reduced dims (inner: sizes and x strides), each collapsed. Two strategies:
//   reduce_rows_<dtype>: one block per output element, its threads striding over the reduced elements, warp-shuffle
//                        then shared-memory combine; used when the reduced elements are contiguous;
//   reduce_cols_<dtype>: one thread per output element looping over the reduced elements; used when they are
//                        strided (reducing a leading dim), so that neighbouring threads read neighbouring elements.
// Either may split the reduced range over gridDim.y blocks (when there are few outputs): each writes its partial
// state to `partial`, and reduce_combine_<dtype> folds the splits in order into the result.
//
// Results: SUM/PROD in the dtype (integers: I64), MAX/MIN in the dtype plus the index (I64, optional), ARGMAX/ARGMIN
// the index, ANY/ALL BOOL, LOGSUMEXP in the dtype. Indices are flat over the reduced dims, first occurrence on ties;
// NaN counts as the maximum (and minimum), as in PyTorch.
#include "common.cuh"
#include "mathops.cuh"

template <class D>
struct RAcc {
    typename D::C v;  // running value (the max for LOGSUMEXP)
    typename D::C s;  // LOGSUMEXP: sum of exp(x - v)
    i64 i;            // index of the extreme value; -1 while empty
};

template <class C> __device__ __forceinline__ bool is_nan(C x) { return x != x; }
template <class C> __device__ __forceinline__ C neg_inf() {
    if constexpr (std::is_integral<C>::value) return (C) LLONG_MIN;
    else return (C) -INFINITY;
}

template <class D>
__device__ __forceinline__ RAcc<D> r_init(int op) {
    typedef typename D::C C;
    RAcc<D> a;
    a.s = 0;
    a.i = -1;
    switch (op) {
        case R_PROD: case R_ALL: a.v = 1; break;
        case R_LOGSUMEXP: a.v = neg_inf<C>(); break;
        default: a.v = 0;
    }
    return a;
}

// Whether (bv, bi) should replace (av, ai) as the maximum (is_max) or minimum.
template <class C>
__device__ __forceinline__ bool r_better(bool is_max, C bv, i64 bi, C av, i64 ai) {
    if (ai < 0) return true;
    if (bi < 0) return false;
    bool bn = is_nan(bv), an = is_nan(av);
    if (bn || an) return bn && (!an || bi < ai);
    if (bv == av) return bi < ai;
    return is_max ? bv > av : bv < av;
}

template <class D>
__device__ __forceinline__ void r_step(int op, RAcc<D>& a, typename D::C x, i64 j) {
    typedef typename D::C C;
    switch (op) {
        case R_SUM: a.v += x; break;
        case R_PROD: a.v *= x; break;
        case R_MAX: case R_ARGMAX: if (r_better<C>(true, x, j, a.v, a.i)) { a.v = x; a.i = j; } break;
        case R_MIN: case R_ARGMIN: if (r_better<C>(false, x, j, a.v, a.i)) { a.v = x; a.i = j; } break;
        case R_ANY: a.v = (a.v != 0 || x != 0) ? 1 : 0; break;
        case R_ALL: a.v = (a.v != 0 && x != 0) ? 1 : 0; break;
        case R_LOGSUMEXP:
            if constexpr (D::is_float) {
                if (x == neg_inf<C>()) break;
                // a NaN becomes the running max (and r_combine prefers it), so it survives a lane whose other
                // elements are all -inf: a NaN kept only in s would be dropped with that lane's -inf max
                if (x > a.v || is_nan(x)) {
                    a.s = a.s * m_exp(a.v - x) + (C) 1;
                    a.v = x;
                } else {
                    a.s += m_exp(x - a.v);
                }
            }
            break;
    }
}

template <class D>
__device__ __forceinline__ RAcc<D> r_combine(int op, const RAcc<D>& a, const RAcc<D>& b) {
    typedef typename D::C C;
    RAcc<D> r = a;
    switch (op) {
        case R_SUM: r.v = a.v + b.v; break;
        case R_PROD: r.v = a.v * b.v; break;
        case R_MAX: case R_ARGMAX: if (r_better<C>(true, b.v, b.i, a.v, a.i)) r = b; break;
        case R_MIN: case R_ARGMIN: if (r_better<C>(false, b.v, b.i, a.v, a.i)) r = b; break;
        case R_ANY: r.v = (a.v != 0 || b.v != 0) ? 1 : 0; break;
        case R_ALL: r.v = (a.v != 0 && b.v != 0) ? 1 : 0; break;
        case R_LOGSUMEXP:
            if constexpr (D::is_float) {
                const RAcc<D>& hi = (b.v > a.v || is_nan(b.v)) ? b : a;
                const RAcc<D>& lo = (b.v > a.v || is_nan(b.v)) ? a : b;
                r = hi;
                if (lo.v != neg_inf<C>()) r.s = hi.s + lo.s * m_exp(lo.v - hi.v);
            }
            break;
    }
    return r;
}

template <class D>
__device__ __forceinline__ RAcc<D> r_shfl_down(const RAcc<D>& a, int delta) {
    RAcc<D> b;
    b.v = shfl_down(a.v, delta);
    b.s = shfl_down(a.s, delta);
    b.i = shfl_down(a.i, delta);
    return b;
}

template <class D>
__device__ __forceinline__ RAcc<D> r_warp(int op, RAcc<D> a) {
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) a = r_combine<D>(op, a, r_shfl_down<D>(a, d));
    return a;
}

// Combines the states of all threads of the block; the result is valid in thread 0.
template <class D>
__device__ __forceinline__ RAcc<D> r_block(int op, RAcc<D> a) {
    __shared__ RAcc<D> warps[32];
    a = r_warp<D>(op, a);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    if (nw == 1) return a;
    if (lane == 0) warps[w] = a;
    __syncthreads();
    if (w == 0) {
        a = lane < nw ? warps[lane] : r_init<D>(op);
        a = r_warp<D>(op, a);
    }
    return a;
}

// Writes the final value of output element o (out offset oo).
template <class D>
__device__ __forceinline__ void r_store(int op, const RAcc<D>& a, void* out, i64* idx, i64 oo) {
    typedef typename D::C C;
    switch (op) {
        case R_SUM: case R_PROD:
            if constexpr (D::is_float) reinterpret_cast<typename D::S*>(out)[oo] = st<D>(a.v);
            else reinterpret_cast<i64*>(out)[oo] = (i64) a.v;
            break;
        case R_MAX: case R_MIN:
            reinterpret_cast<typename D::S*>(out)[oo] = st<D>(a.v);
            if (idx != nullptr) idx[oo] = a.i < 0 ? 0 : a.i;
            break;
        case R_ARGMAX: case R_ARGMIN:
            reinterpret_cast<i64*>(out)[oo] = a.i < 0 ? 0 : a.i;
            break;
        case R_ANY: case R_ALL:
            reinterpret_cast<uint8_t*>(out)[oo] = a.v != 0 ? 1 : 0;
            break;
        case R_LOGSUMEXP:
            if constexpr (D::is_float) {
                C r = (a.v == neg_inf<C>() || a.s == (C) 0) ? a.v : a.v + m_log(a.s);
                if (m_fabs(a.v) == (C) INFINITY && a.v > 0) r = a.v;
                reinterpret_cast<typename D::S*>(out)[oo] = st<D>(r);
            }
            break;
    }
}

// The range of reduced elements split s of `splits` covers.
__device__ __forceinline__ void split_range(i64 n, int splits, int s, i64& lo, i64& hi) {
    i64 chunk = (n + splits - 1) / splits;
    lo = (i64) s * chunk;
    hi = lo + chunk < n ? lo + chunk : n;
}

template <class D>
__device__ void rows_kernel(int op, const Geom<2>& outer, const Geom<1>& inner, const typename D::S* __restrict__ x,
                            void* out, i64* idx, RAcc<D>* partial, int splits) {
    i64 o = blockIdx.x;
    if (o >= outer.numel) return;
    i64 off[2];
    offsets<2, i64>(outer, o, off);
    const typename D::S* xo = x + off[1];
    i64 lo, hi;
    split_range(inner.numel, splits, blockIdx.y, lo, hi);
    RAcc<D> a = r_init<D>(op);
    if (all_contiguous(inner)) {
        // Four loads in flight per thread before they are folded in, in index order.
        i64 j = lo + threadIdx.x;
        const i64 step = blockDim.x;
        for (; j + 3 * step < hi; j += 4 * step) {
            typename D::S v0 = xo[j], v1 = xo[j + step], v2 = xo[j + 2 * step], v3 = xo[j + 3 * step];
            r_step<D>(op, a, ld<D>(v0), j);
            r_step<D>(op, a, ld<D>(v1), j + step);
            r_step<D>(op, a, ld<D>(v2), j + 2 * step);
            r_step<D>(op, a, ld<D>(v3), j + 3 * step);
        }
        for (; j < hi; j += step) r_step<D>(op, a, ld<D>(xo[j]), j);
    } else {
        for (i64 j = lo + threadIdx.x; j < hi; j += blockDim.x) {
            i64 io[1];
            offsets<1, i64>(inner, j, io);
            r_step<D>(op, a, ld<D>(xo[io[0]]), j);
        }
    }
    a = r_block<D>(op, a);
    if (threadIdx.x == 0) {
        if (splits > 1) partial[o * splits + blockIdx.y] = a;
        else r_store<D>(op, a, out, idx, off[0]);
    }
}

template <class D>
__device__ void cols_kernel(int op, const Geom<2>& outer, const Geom<1>& inner, const typename D::S* __restrict__ x,
                            void* out, i64* idx, RAcc<D>* partial, int splits) {
    i64 lo, hi;
    split_range(inner.numel, splits, blockIdx.y, lo, hi);
    for (i64 o = (i64) blockIdx.x * blockDim.x + threadIdx.x; o < outer.numel; o += (i64) gridDim.x * blockDim.x) {
        i64 off[2];
        offsets<2, i64>(outer, o, off);
        const typename D::S* xo = x + off[1];
        RAcc<D> a = r_init<D>(op);
        if (inner.rank == 1) {
            i64 s = inner.stride[0][0];
            for (i64 j = lo; j < hi; j++) r_step<D>(op, a, ld<D>(xo[j * s]), j);
        } else {
            for (i64 j = lo; j < hi; j++) {
                i64 io[1];
                offsets<1, i64>(inner, j, io);
                r_step<D>(op, a, ld<D>(xo[io[0]]), j);
            }
        }
        if (splits > 1) partial[o * splits + blockIdx.y] = a;
        else r_store<D>(op, a, out, idx, off[0]);
    }
}

template <class D>
__device__ void combine_kernel(int op, const Geom<2>& outer, const RAcc<D>* __restrict__ partial, int splits, void* out, i64* idx) {
    JT_GRID_STRIDE(o, outer.numel) {
        i64 off[2];
        offsets<2, i64>(outer, o, off);
        RAcc<D> a = partial[o * splits];
        for (int s = 1; s < splits; s++) a = r_combine<D>(op, a, partial[o * splits + s]);
        r_store<D>(op, a, out, idx, off[0]);
    }
}

#define JT_REDUCE(D, name) \
    extern "C" __global__ void reduce_rows_##name(int op, Geom<2> outer, Geom<1> inner, const D::S* x, void* out, i64* idx, \
                                                  RAcc<D>* partial, int splits) { \
        rows_kernel<D>(op, outer, inner, x, out, idx, partial, splits); } \
    extern "C" __global__ void reduce_cols_##name(int op, Geom<2> outer, Geom<1> inner, const D::S* x, void* out, i64* idx, \
                                                  RAcc<D>* partial, int splits) { \
        cols_kernel<D>(op, outer, inner, x, out, idx, partial, splits); } \
    extern "C" __global__ void reduce_combine_##name(int op, Geom<2> outer, const RAcc<D>* partial, int splits, void* out, i64* idx) { \
        combine_kernel<D>(op, outer, partial, splits, out, idx); }
JT_ALL_DTYPES(JT_REDUCE)

#include "reduce_vec.cuh"
#include "reduce_vec2.cuh"
