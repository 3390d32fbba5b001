// Fused layer normalisation over contiguous rows of N elements, forward and backward.
//
// Forward: y = (x - mean) * rstd * w + b with rstd = 1 / sqrt(biased var + eps); mean and rstd (compute type C:
// float, or double for F64) are stored per row for the backward. The statistics take two passes over the row held
// in registers (mean, then the centred squares), so a large mean cannot cancel the variance away.
//   layernorm_fwd_vwarp_<dt>_p<P>:  one warp per row (8 rows per block of 256), P 16-byte packs per lane;
//   layernorm_fwd_vblock_<dt>_p<P>: one block per row, P packs per thread;
//     both read x once (16-byte loads) and write y once; they need N % V == 0 (V = 16 / sizeof(S)) and 16-byte
//     aligned x, y, w, b (Java checks, CudaNorm.vecPlan picks P and the threads);
//   layernorm_fwd_any_<dt>:         one block per row, element loads, any N and alignment (x re-read from L2).
// Backward (g = dy * w, xhat = (x - mean) * rstd):
//   layernorm_bwd_any_<dt>:         dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), one block per row;
//   layernorm_bwd_params_<dt>:      partial sums over a chunk of rows of dy * xhat and dy for 32 columns per block
//                                   (8 warps walk the rows), into a C-typed buffer [2][chunks][N];
//   layernorm_bwd_psum_<dt>:        sums the chunks in order (deterministic) into dw and db (either may be null).
// Names carry an ln_ prefix: every .cu is one translation unit.
#include "common.cuh"

template <class C>
__device__ __forceinline__ C ln_rsqrt(C v) {
    if constexpr (std::is_same<C, float>::value) return rsqrtf(v);
    else return 1.0 / sqrt(v);
}

template <class C, bool WARP>
__device__ __forceinline__ C ln_sum(C v) {
    if constexpr (WARP) return warp_sum(v);
    else return block_sum(v);
}

// ---------------------------------------------------------------------------------------------- forward
template <class D, int P, bool WARP>
__device__ void ln_fwd_vec(i64 rows, i64 N, const typename D::S* __restrict__ x, const typename D::S* __restrict__ w,
                           const typename D::S* __restrict__ b, typename D::C eps, typename D::S* __restrict__ y,
                           typename D::C* __restrict__ mean, typename D::C* __restrict__ rstd) {
    typedef typename D::S S;
    typedef typename D::C C;
    constexpr int V = 16 / sizeof(S);
    int t, nt;
    i64 row;
    if constexpr (WARP) {
        t = threadIdx.x & 31;
        nt = 32;
        row = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
        if (row >= rows) return;  // whole warps leave together: the shuffles below see full warps
    } else {
        t = threadIdx.x;
        nt = blockDim.x;
        row = blockIdx.x;
    }
    const S* xr = x + row * N;
    S* yr = y + row * N;
    const int nv = (int) (N / V);  // N < 2^31 (Java passes an int)
    Pack<S, V> raw[P];
#pragma unroll
    for (int k = 0; k < P; k++) {
        int p = t + k * nt;
        if (p < nv) raw[k] = ld_pack<S>(xr + p * V);
        else raw[k] = Pack<S, V>{};
    }
    C v[P][V];
    C s = 0;
#pragma unroll
    for (int k = 0; k < P; k++) {
        bool ok = t + k * nt < nv;
#pragma unroll
        for (int e = 0; e < V; e++) {
            v[k][e] = ok ? ld<D>(raw[k].v[e]) : (C) 0;
            s += v[k][e];
        }
    }
    const C mu = ln_sum<C, WARP>(s) / (C) N;
    C q = 0;
#pragma unroll
    for (int k = 0; k < P; k++) {
        bool ok = t + k * nt < nv;
#pragma unroll
        for (int e = 0; e < V; e++) {
            C d = ok ? v[k][e] - mu : (C) 0;
            q += d * d;
        }
    }
    const C rs = ln_rsqrt<C>(ln_sum<C, WARP>(q) / (C) N + eps);
    if (t == 0) {
        mean[row] = mu;
        rstd[row] = rs;
    }
#pragma unroll
    for (int k = 0; k < P; k++) {
        int p = t + k * nt;
        if (p < nv) {
            Pack<S, V> o, wp, bp;
            if (w) wp = ld_pack<S>(w + p * V);
            if (b) bp = ld_pack<S>(b + p * V);
#pragma unroll
            for (int e = 0; e < V; e++) {
                C r = (v[k][e] - mu) * rs;
                if (w) r *= ld<D>(wp.v[e]);
                if (b) r += ld<D>(bp.v[e]);
                o.v[e] = st<D>(r);
            }
            st_pack<S>(yr + p * V, o);
        }
    }
}

template <class D>
__device__ void ln_fwd_any(i64 N, const typename D::S* __restrict__ x, const typename D::S* __restrict__ w,
                           const typename D::S* __restrict__ b, typename D::C eps, typename D::S* __restrict__ y,
                           typename D::C* __restrict__ mean, typename D::C* __restrict__ rstd) {
    typedef typename D::C C;
    const i64 row = blockIdx.x;
    const typename D::S* xr = x + row * N;
    typename D::S* yr = y + row * N;
    C s = 0;
    for (i64 j = threadIdx.x; j < N; j += blockDim.x) s += ld<D>(xr[j]);
    const C mu = block_sum(s) / (C) N;
    C q = 0;
    for (i64 j = threadIdx.x; j < N; j += blockDim.x) {
        C d = ld<D>(xr[j]) - mu;
        q += d * d;
    }
    const C rs = ln_rsqrt<C>(block_sum(q) / (C) N + eps);
    if (threadIdx.x == 0) {
        mean[row] = mu;
        rstd[row] = rs;
    }
    for (i64 j = threadIdx.x; j < N; j += blockDim.x) {
        C r = (ld<D>(xr[j]) - mu) * rs;
        if (w) r *= ld<D>(w[j]);
        if (b) r += ld<D>(b[j]);
        yr[j] = st<D>(r);
    }
}

// ---------------------------------------------------------------------------------------------- backward
template <class D>
__device__ void ln_bwd_any(i64 N, const typename D::S* __restrict__ gy, const typename D::S* __restrict__ x,
                           const typename D::C* __restrict__ mean, const typename D::C* __restrict__ rstd,
                           const typename D::S* __restrict__ w, typename D::S* __restrict__ gx) {
    typedef typename D::C C;
    const i64 row = blockIdx.x;
    const typename D::S* gr = gy + row * N;
    const typename D::S* xr = x + row * N;
    const C mu = mean[row], rs = rstd[row];
    C sg = 0, sgx = 0;
    for (i64 j = threadIdx.x; j < N; j += blockDim.x) {
        C g = ld<D>(gr[j]) * (w ? ld<D>(w[j]) : (C) 1);
        sg += g;
        sgx += g * (ld<D>(xr[j]) - mu) * rs;
    }
    const C mg = block_sum(sg) / (C) N;
    const C mgx = block_sum(sgx) / (C) N;
    for (i64 j = threadIdx.x; j < N; j += blockDim.x) {
        C g = ld<D>(gr[j]) * (w ? ld<D>(w[j]) : (C) 1);
        C xh = (ld<D>(xr[j]) - mu) * rs;
        gx[row * N + j] = st<D>(rs * (g - mg - xh * mgx));
    }
}

template <class D>
__device__ void ln_bwd_params(i64 rows, i64 N, const typename D::S* __restrict__ gy, const typename D::S* __restrict__ x,
                              const typename D::C* __restrict__ mean, const typename D::C* __restrict__ rstd,
                              typename D::C* __restrict__ part) {
    typedef typename D::C C;
    __shared__ C sw[8][33], sb[8][33];
    const int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;  // blocks of 256: 8 warps
    const i64 c = (i64) blockIdx.x * 32 + tx;
    C aw = 0, ab = 0;
    if (c < N) {
        for (i64 r = (i64) blockIdx.y * 8 + ty; r < rows; r += (i64) gridDim.y * 8) {
            C g = ld<D>(gy[r * N + c]);
            aw += g * (ld<D>(x[r * N + c]) - mean[r]) * rstd[r];
            ab += g;
        }
    }
    sw[ty][tx] = aw;
    sb[ty][tx] = ab;
    __syncthreads();
    if (ty == 0 && c < N) {
        C tw = 0, tb = 0;
#pragma unroll
        for (int k = 0; k < 8; k++) {
            tw += sw[k][tx];
            tb += sb[k][tx];
        }
        part[(i64) blockIdx.y * N + c] = tw;
        part[((i64) gridDim.y + blockIdx.y) * N + c] = tb;
    }
}

template <class D>
__device__ void ln_bwd_psum(i64 N, int chunks, const typename D::C* __restrict__ part, typename D::S* __restrict__ gw,
                            typename D::S* __restrict__ gb) {
    typedef typename D::C C;
    JT_GRID_STRIDE(c, N) {
        C tw = 0, tb = 0;
        for (int k = 0; k < chunks; k++) {
            tw += part[(i64) k * N + c];
            tb += part[((i64) chunks + k) * N + c];
        }
        if (gw) gw[c] = st<D>(tw);
        if (gb) gb[c] = st<D>(tb);
    }
}

#define JT_LN_VWARP(D, name, P) \
    extern "C" __global__ void __launch_bounds__(256) layernorm_fwd_vwarp_##name##_p##P(i64 rows, i64 N, const D::S* x, const D::S* w, \
            const D::S* b, D::C eps, D::S* y, D::C* mean, D::C* rstd) { ln_fwd_vec<D, P, true>(rows, N, x, w, b, eps, y, mean, rstd); }
#define JT_LN_VBLOCK(D, name, P) \
    extern "C" __global__ void __launch_bounds__(256) layernorm_fwd_vblock_##name##_p##P(i64 rows, i64 N, const D::S* x, const D::S* w, \
            const D::S* b, D::C eps, D::S* y, D::C* mean, D::C* rstd) { ln_fwd_vec<D, P, false>(rows, N, x, w, b, eps, y, mean, rstd); }
#define JT_LN(D, name) \
    JT_LN_VWARP(D, name, 1) JT_LN_VWARP(D, name, 2) JT_LN_VWARP(D, name, 4) \
    JT_LN_VBLOCK(D, name, 2) JT_LN_VBLOCK(D, name, 4) JT_LN_VBLOCK(D, name, 8) \
    extern "C" __global__ void layernorm_fwd_any_##name(i64 N, const D::S* x, const D::S* w, const D::S* b, D::C eps, D::S* y, \
            D::C* mean, D::C* rstd) { ln_fwd_any<D>(N, x, w, b, eps, y, mean, rstd); } \
    extern "C" __global__ void layernorm_bwd_any_##name(i64 N, const D::S* gy, const D::S* x, const D::C* mean, const D::C* rstd, \
            const D::S* w, D::S* gx) { ln_bwd_any<D>(N, gy, x, mean, rstd, w, gx); } \
    extern "C" __global__ void __launch_bounds__(256) layernorm_bwd_params_##name(i64 rows, i64 N, const D::S* gy, const D::S* x, \
            const D::C* mean, const D::C* rstd, D::C* part) { ln_bwd_params<D>(rows, N, gy, x, mean, rstd, part); } \
    extern "C" __global__ void layernorm_bwd_psum_##name(i64 N, int chunks, const D::C* part, D::S* gw, D::S* gb) { \
        ln_bwd_psum<D>(N, chunks, part, gw, gb); }
JT_FLOAT_DTYPES(JT_LN)

// ---------------------------------------------------------------------------------------------- batch norm
// Training-mode batch norm of a contiguous x [N, C, S] (S: the spatial positions, 1 for [N, C]): channel c has the
// M = N * S elements at (n * C + c) * S + s. Every kernel but the finalizers runs on a grid (P, C): block (p, c)
// takes the channel's elements m = n * S + s in [p * chunk, (p + 1) * chunk), walked by bn_walk, so that
// neighbouring threads read neighbouring elements and only a step past the end of a row costs a division.
// Statistics are in the compute type T (float; double for F64), as the mean and var outputs.
//   batchnorm_stats_<dt>:        per block (count, mean, M2): Welford's update per thread, Chan's merge across the
//                                block (stable whatever the mean), into part [C][P][3];
//   batchnorm_finalize_<dt>:     one thread per channel merges its P partials in order (deterministic): mean and
//                                biased var (outputs), scale = w * rstd into coef [C];
//   batchnorm_apply_<dt>:        y = (x - mean) * scale + b;
//   batchnorm_bwd_sums_<dt>:     per block the sums of dy and dy * xhat (xhat = (x - mean) * rstd) into part [C][P][2];
//   batchnorm_bwd_finalize_<dt>: per channel, in order: gb = sum dy, gw = sum dy * xhat (either may be null), and
//                                coef [C][3] = {k = w * rstd, sum dy / M, q = -k * rstd * sum(dy * xhat) / M};
//   batchnorm_bwd_dx_<dt>:       dx = k * (dy - sum dy / M) + q * (x - mean), the Backend formula with xhat expanded
//                                so that each element costs two multiply-adds.

template <class T>
struct BnStat { T n, mean, m2; };

// Chan et al.'s merge of two (count, mean, sum of squared deviations).
template <class T>
__device__ __forceinline__ BnStat<T> bn_merge(BnStat<T> a, BnStat<T> b) {
    T n = a.n + b.n;
    if (n == (T) 0) return a;
    T d = b.mean - a.mean, fb = b.n / n;
    a.m2 += b.m2 + d * d * a.n * fb;
    a.mean += d * fb;
    a.n = n;
    return a;
}

template <class T>
__device__ __forceinline__ BnStat<T> bn_block_merge(BnStat<T> a) {
    __shared__ T part[3][32];
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) {
        BnStat<T> o{__shfl_xor_sync(0xffffffffu, a.n, d), __shfl_xor_sync(0xffffffffu, a.mean, d), __shfl_xor_sync(0xffffffffu, a.m2, d)};
        a = bn_merge(a, o);
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    if (lane == 0) {
        part[0][w] = a.n;
        part[1][w] = a.mean;
        part[2][w] = a.m2;
    }
    __syncthreads();
    if (w == 0) {
        a = lane < nw ? BnStat<T>{part[0][lane], part[1][lane], part[2][lane]} : BnStat<T>{0, 0, 0};
#pragma unroll
        for (int d = 16; d > 0; d >>= 1) {
            BnStat<T> o{__shfl_xor_sync(0xffffffffu, a.n, d), __shfl_xor_sync(0xffffffffu, a.mean, d), __shfl_xor_sync(0xffffffffu, a.m2, d)};
            a = bn_merge(a, o);
        }
    }
    return a;  // complete in thread 0
}

// Calls f(offset of x) for this thread's elements of this block's range of its channel (blockIdx.y): m in
// [blockIdx.x * chunk, + chunk) of the channel's M, thread t taking m = lo + t, lo + t + nt, ...
template <class F>
__device__ __forceinline__ void bn_walk(i64 C, i64 S, i64 M, i64 chunk, F f) {
    const i64 c = blockIdx.y, lo = (i64) blockIdx.x * chunk, hi = lo + chunk < M ? lo + chunk : M;
    i64 m = lo + threadIdx.x;
    if (m >= hi) return;
    i64 n = m / S, s = m - n * S;
    const i64 step = blockDim.x;
    for (; m < hi; m += step) {
        f((n * C + c) * S + s);
        s += step;
        if (s >= S) {
            i64 q = s / S;
            n += q;
            s -= q * S;
        }
    }
}

template <class D>
__device__ void bn_stats(i64 C, i64 S, i64 M, i64 chunk, const typename D::S* __restrict__ x, typename D::C* __restrict__ part) {
    typedef typename D::C T;
    const i64 c = blockIdx.y;
    BnStat<T> a{0, 0, 0};
    bn_walk(C, S, M, chunk, [&](i64 at) {
        T v = ld<D>(x[at]);
        a.n += (T) 1;
        T d = v - a.mean;
        a.mean += d / a.n;
        a.m2 += d * (v - a.mean);
    });
    a = bn_block_merge(a);
    if (threadIdx.x == 0) {
        T* o = part + (c * gridDim.x + blockIdx.x) * 3;
        o[0] = a.n;
        o[1] = a.mean;
        o[2] = a.m2;
    }
}

template <class D>
__device__ void bn_finalize(i64 C, int P, const typename D::C* __restrict__ part, const typename D::S* __restrict__ w,
                            typename D::C eps, typename D::C* __restrict__ mean, typename D::C* __restrict__ var,
                            typename D::C* __restrict__ scale) {
    typedef typename D::C T;
    JT_GRID_STRIDE(c, C) {
        BnStat<T> a{0, 0, 0};
        for (int p = 0; p < P; p++) {
            const T* q = part + (c * P + p) * 3;
            a = bn_merge(a, BnStat<T>{q[0], q[1], q[2]});
        }
        // an empty batch has no mean: NaN, as 0 / 0 gives on the CPU
        T mu = a.n > (T) 0 ? a.mean : (T) NAN, v = a.n > (T) 0 ? a.m2 / a.n : (T) NAN;
        mean[c] = mu;
        var[c] = v;
        scale[c] = ln_rsqrt(v + eps) * (w ? ld<D>(w[c]) : (T) 1);
    }
}

template <class D>
__device__ void bn_apply(i64 C, i64 S, i64 M, i64 chunk, const typename D::S* __restrict__ x, const typename D::C* __restrict__ mean,
                         const typename D::C* __restrict__ scale, const typename D::S* __restrict__ b, typename D::S* __restrict__ y) {
    typedef typename D::C T;
    const i64 c = blockIdx.y;
    const T mu = mean[c], sc = scale[c], sh = b ? ld<D>(b[c]) : (T) 0;
    bn_walk(C, S, M, chunk, [&](i64 at) { y[at] = st<D>((ld<D>(x[at]) - mu) * sc + sh); });
}

template <class D>
__device__ void bn_bwd_sums(i64 C, i64 S, i64 M, i64 chunk, const typename D::S* __restrict__ dy, const typename D::S* __restrict__ x,
                            const typename D::C* __restrict__ mean, const typename D::C* __restrict__ var, typename D::C eps,
                            typename D::C* __restrict__ part) {
    typedef typename D::C T;
    const i64 c = blockIdx.y;
    const T mu = mean[c], rs = ln_rsqrt(var[c] + eps);
    T sg = 0, sgx = 0;
    bn_walk(C, S, M, chunk, [&](i64 at) {
        T g = ld<D>(dy[at]);
        sg += g;
        sgx += g * ((ld<D>(x[at]) - mu) * rs);
    });
    sg = block_sum(sg);
    sgx = block_sum(sgx);
    if (threadIdx.x == 0) {
        T* o = part + (c * gridDim.x + blockIdx.x) * 2;
        o[0] = sg;
        o[1] = sgx;
    }
}

template <class D>
__device__ void bn_bwd_finalize(i64 C, i64 M, int P, const typename D::C* __restrict__ part, const typename D::C* __restrict__ var,
                                const typename D::S* __restrict__ w, typename D::C eps, typename D::S* __restrict__ gw,
                                typename D::S* __restrict__ gb, typename D::C* __restrict__ coef) {
    typedef typename D::C T;
    JT_GRID_STRIDE(c, C) {
        T sg = 0, sgx = 0;
        for (int p = 0; p < P; p++) {
            sg += part[(c * P + p) * 2];
            sgx += part[(c * P + p) * 2 + 1];
        }
        if (gb) gb[c] = st<D>(sg);
        if (gw) gw[c] = st<D>(sgx);
        if (coef) {
            T rs = ln_rsqrt(var[c] + eps), k = rs * (w ? ld<D>(w[c]) : (T) 1);
            coef[c * 3] = k;
            coef[c * 3 + 1] = sg / (T) M;
            coef[c * 3 + 2] = -k * rs * sgx / (T) M;
        }
    }
}

template <class D>
__device__ void bn_bwd_dx(i64 C, i64 S, i64 M, i64 chunk, const typename D::S* __restrict__ dy, const typename D::S* __restrict__ x,
                          const typename D::C* __restrict__ mean, const typename D::C* __restrict__ coef, typename D::S* __restrict__ dx) {
    typedef typename D::C T;
    const i64 c = blockIdx.y;
    const T k = coef[c * 3], meanG = coef[c * 3 + 1], q = coef[c * 3 + 2], mu = mean[c];
    bn_walk(C, S, M, chunk, [&](i64 at) { dx[at] = st<D>(k * (ld<D>(dy[at]) - meanG) + q * (ld<D>(x[at]) - mu)); });
}

#define JT_BN(D, name) \
    extern "C" __global__ void __launch_bounds__(256) batchnorm_stats_##name(i64 C, i64 S, i64 M, i64 chunk, const D::S* x, D::C* part) { \
        bn_stats<D>(C, S, M, chunk, x, part); } \
    extern "C" __global__ void batchnorm_finalize_##name(i64 C, int P, const D::C* part, const D::S* w, D::C eps, D::C* mean, \
            D::C* var, D::C* scale) { bn_finalize<D>(C, P, part, w, eps, mean, var, scale); } \
    extern "C" __global__ void __launch_bounds__(256) batchnorm_apply_##name(i64 C, i64 S, i64 M, i64 chunk, const D::S* x, \
            const D::C* mean, const D::C* scale, const D::S* b, D::S* y) { bn_apply<D>(C, S, M, chunk, x, mean, scale, b, y); } \
    extern "C" __global__ void __launch_bounds__(256) batchnorm_bwd_sums_##name(i64 C, i64 S, i64 M, i64 chunk, const D::S* dy, \
            const D::S* x, const D::C* mean, const D::C* var, D::C eps, D::C* part) { \
        bn_bwd_sums<D>(C, S, M, chunk, dy, x, mean, var, eps, part); } \
    extern "C" __global__ void batchnorm_bwd_finalize_##name(i64 C, i64 M, int P, const D::C* part, const D::C* var, const D::S* w, \
            D::C eps, D::S* gw, D::S* gb, D::C* coef) { bn_bwd_finalize<D>(C, M, P, part, var, w, eps, gw, gb, coef); } \
    extern "C" __global__ void __launch_bounds__(256) batchnorm_bwd_dx_##name(i64 C, i64 S, i64 M, i64 chunk, const D::S* dy, \
            const D::S* x, const D::C* mean, const D::C* coef, D::S* dx) { bn_bwd_dx<D>(C, S, M, chunk, dy, x, mean, coef, dx); }
JT_FLOAT_DTYPES(JT_BN)
