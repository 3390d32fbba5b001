// Variant "vec" of the softmax forward over contiguous rows (included by softmax.cu after the baseline kernels).
//
// Why: the baseline computes exp twice per element (once for the sum, once for the output) with the accurate expf,
// divides per element, and loads one element per instruction; its block kernel for long rows reads x twice. Here
// each row is read once with 16-byte loads into registers (P packs of V = 16 / sizeof(S) elements per thread),
// every thread takes the max m_t of its own elements and keeps e = exp(x - m_t) in place of x, sums them, and one
// merge of the (max, sum) pairs gives the row's (M, S); the output is then e * (exp(m_t - M) / S): one exp per
// element plus one per thread, one reciprocal per thread, and one write pass. log-softmax keeps x and writes
// x - M - log S. For the 32-bit float compute type exp is ex2.approx on x * log2(e) (relative error ~1e-6).
//   softmax_fwd_vwarp_<dt>_p<P>:  one warp per row, rows up to 32 * P * V elements (P <= 4), 8 rows per block of 256;
//   softmax_fwd_vblock_<dt>_p<P>: one block (up to 512 threads) per row, rows up to blockDim * P * V elements.
// Both need L % V == 0 and 16-byte aligned row starts for x and y (Java checks and otherwise takes the baseline).

template <class C>
__device__ __forceinline__ C sv_exp(C x) {
    if constexpr (std::is_same<C, float>::value) return exp2f(x * 1.4426950408889634f);
    else return exp(x);
}

// Thread t of nt holds packs t, t + nt, ... (P of them) of the row xr of L elements in v; returns its max.
template <class D, int P>
__device__ __forceinline__ typename D::C sv_load(const typename D::S* __restrict__ xr, i64 L, int t, int nt,
                                                 typename D::C (&v)[P][16 / sizeof(typename D::S)]) {
    typedef typename D::S S;
    typedef typename D::C C;
    constexpr int V = 16 / sizeof(S);
    const i64 nv = L / V;
    Pack<S, V> raw[P];
#pragma unroll
    for (int k = 0; k < P; k++) {
        i64 p = t + (i64) k * nt;
        if (p < nv) raw[k] = ld_pack<S>(xr + p * V);
    }
    C m = (C) -INFINITY;
#pragma unroll
    for (int k = 0; k < P; k++) {
        bool ok = t + (i64) k * nt < nv;
#pragma unroll
        for (int e = 0; e < V; e++) {
            v[k][e] = ok ? ld<D>(raw[k].v[e]) : (C) -INFINITY;
            m = v[k][e] > m ? v[k][e] : m;
        }
    }
    return m;
}

// Replaces v by exp(v - m) (softmax) and returns the sum of exp(v - m); -inf elements (padding) give 0.
// m is the max of the thread's non-NaN elements (sv_load's compare skips NaN). A NaN where m is finite makes s NaN,
// and the merge carries it; where m is -inf the merge would drop the state, so it becomes the poisoned state
// (m = +inf, s = NaN; see MaxSum).
template <class C, int P, int V>
__device__ __forceinline__ C sv_exp_sum(C (&v)[P][V], C& m, bool log) {
    C s = 0;
    if (m == (C) -INFINITY) {  // every element of this thread -inf, NaN or padding: exp gives 0, and so does the sum
#pragma unroll
        for (int k = 0; k < P; k++)
#pragma unroll
            for (int e = 0; e < V; e++) {
                if (v[k][e] != v[k][e]) {
                    m = (C) INFINITY;
                    s = (C) NAN;
                }
                if (!log) v[k][e] = 0;
            }
        return s;
    }
#pragma unroll
    for (int k = 0; k < P; k++)
#pragma unroll
        for (int e = 0; e < V; e++) {
            C ex = sv_exp<C>(v[k][e] - m);
            s += ex;
            if (!log) v[k][e] = ex;
        }
    return s;
}

template <class D, int P>
__device__ __forceinline__ void sv_store(typename D::S* __restrict__ yr, i64 L, int t, int nt,
                                         typename D::C (&v)[P][16 / sizeof(typename D::S)], typename D::C scale, typename D::C shift, bool log) {
    typedef typename D::S S;
    constexpr int V = 16 / sizeof(S);
    const i64 nv = L / V;
#pragma unroll
    for (int k = 0; k < P; k++) {
        i64 p = t + (i64) k * nt;
        if (p < nv) {
            Pack<S, V> o;
#pragma unroll
            for (int e = 0; e < V; e++) o.v[e] = st<D>(log ? v[k][e] - shift : v[k][e] * scale);
            st_pack<S>(yr + p * V, o);
        }
    }
}

// The factor that turns this thread's exp(x - m) into softmax values, or (log) the shift M + log S.
template <class C>
__device__ __forceinline__ void sv_finish(MaxSum<C> row, C m, bool log, C& scale, C& shift) {
    if (log) {
        shift = row.m + m_log(row.s);
        scale = 0;
    } else {
        // a row of -inf only, or one with a NaN (or +inf, whose exp(inf - inf) makes the sum NaN), is NaN throughout,
        // as exp(x - max) / sum is (and PyTorch's result), including this thread's -inf elements
        bool rowIsNaN = !(row.m > (C) -INFINITY) || row.s != row.s;
        scale = rowIsNaN ? (C) NAN : m == (C) -INFINITY ? (C) 0 : sv_exp<C>(m - row.m) / row.s;
        shift = 0;
    }
}

template <class D, int P>
__device__ void fwd_vwarp(const Geom<2>& outer, i64 L, const typename D::S* __restrict__ x, typename D::S* __restrict__ y, int log) {
    typedef typename D::C C;
    constexpr int V = 16 / sizeof(typename D::S);
    const int lane = threadIdx.x & 31;
    const i64 row = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= outer.numel) return;
    i64 off[2];
    offsets<2, i64>(outer, row, off);
    C v[P][V];
    C m = sv_load<D, P>(x + off[1], L, lane, 32, v);
    C s = sv_exp_sum<C, P, V>(v, m, log != 0);
    MaxSum<C> r = warp_ms(MaxSum<C>{m, s});
    C scale, shift;
    sv_finish<C>(r, m, log != 0, scale, shift);
    sv_store<D, P>(y + off[0], L, lane, 32, v, scale, shift, log != 0);
}

template <class D, int P>
__device__ void fwd_vblock(const Geom<2>& outer, i64 L, const typename D::S* __restrict__ x, typename D::S* __restrict__ y, int log) {
    typedef typename D::C C;
    constexpr int V = 16 / sizeof(typename D::S);
    i64 off[2];
    offsets<2, i64>(outer, (i64) blockIdx.x, off);
    C v[P][V];
    C m = sv_load<D, P>(x + off[1], L, threadIdx.x, blockDim.x, v);
    C s = sv_exp_sum<C, P, V>(v, m, log != 0);
    MaxSum<C> r = block_ms(MaxSum<C>{m, s});
    C scale, shift;
    sv_finish<C>(r, m, log != 0, scale, shift);
    sv_store<D, P>(y + off[0], L, threadIdx.x, blockDim.x, v, scale, shift, log != 0);
}

#define JT_SOFTMAX_VWARP(D, name, P) \
    extern "C" __global__ void __launch_bounds__(256) softmax_fwd_vwarp_##name##_p##P(Geom<2> outer, i64 L, const D::S* x, D::S* y, int log) { \
        fwd_vwarp<D, P>(outer, L, x, y, log); }
#define JT_SOFTMAX_VBLOCK(D, name, P) \
    extern "C" __global__ void __launch_bounds__(512) softmax_fwd_vblock_##name##_p##P(Geom<2> outer, i64 L, const D::S* x, D::S* y, int log) { \
        fwd_vblock<D, P>(outer, L, x, y, log); }
// vwarp up to P = 4 (P = 8 of 16-bit floats needs 64 floats of a row per lane and spills); longer rows take vblock,
// which Java gives at least 2 packs per thread (CudaSoftmax.vecPlan), so it has no P = 1.
#define JT_SOFTMAX_VEC(D, name) JT_SOFTMAX_VWARP(D, name, 1) JT_SOFTMAX_VWARP(D, name, 2) JT_SOFTMAX_VWARP(D, name, 4) \
    JT_SOFTMAX_VBLOCK(D, name, 2) JT_SOFTMAX_VBLOCK(D, name, 4) JT_SOFTMAX_VBLOCK(D, name, 8)
JT_FLOAT_DTYPES(JT_SOFTMAX_VEC)
