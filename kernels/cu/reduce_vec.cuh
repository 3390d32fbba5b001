// Variant "vec" of the reductions over contiguous elements (included by reduce.cu after the baseline kernels,
// whose accumulator, step, combine and store functions it shares).
//
// Why: the baseline reads one element per load (4 bytes for F32) and a block per output row of 4096 spends much of
// its life in the shared-memory combine; its split combine is one thread folding up to 1024 partials in a chain.
// Here every load is 16 bytes (a Pack of V = 16 / sizeof(S) elements), UNROLL of them in flight per thread before
// the first is folded, and the loop is specialised for SUM (the common case: sum, mean, var, norm) so that it is one
// add per element; the other ops use the generic step.
//   reduce_vwarp_<dt>:    one warp per output row, 8 rows per block of 256: for many rows of moderate length (no
//                         shared memory, no block barrier);
//   reduce_vblock_<dt>:   a block of 512 per (row, split) for few long rows; each split folds a contiguous chunk;
//   reduce_vcombine_<dt>: one block per output folds that output's split partials (in parallel, unlike
//                         reduce_combine_, whose single thread walks them in a dependent chain).
// Rows may start anywhere: each range starts with up to V-1 single elements until a 16-byte boundary.

#define RV_UNROLL 4

// One element j (index within the reduced range) folded in; SUM_ONLY: op is known to be R_SUM.
template <class D, bool SUM_ONLY>
__device__ __forceinline__ void rv_step(int op, RAcc<D>& a, typename D::C x, i64 j) {
    if constexpr (SUM_ONLY) a.v += x;
    else r_step<D>(op, a, x, j);
}

// Folds xo[lo, hi) into a; thread t of nt participating threads takes every nt-th 16-byte pack.
template <class D, bool SUM_ONLY>
__device__ __forceinline__ void rv_fold_range(int op, RAcc<D>& a, const typename D::S* __restrict__ xo, i64 lo, i64 hi, int t, int nt) {
    typedef typename D::S S;
    constexpr int V = 16 / sizeof(S);
    if (hi <= lo) return;
    i64 head = (i64) (((16 - (((uintptr_t) (xo + lo)) & 15)) & 15) / sizeof(S));
    if (head > hi - lo) head = hi - lo;
    if (t < head) rv_step<D, SUM_ONLY>(op, a, ld<D>(xo[lo + t]), lo + t);
    const i64 b = lo + head;
    const i64 nv = (hi - b) / V;
    const S* xb = xo + b;
    i64 v = t;
    for (; v + (RV_UNROLL - 1) * (i64) nt < nv; v += RV_UNROLL * (i64) nt) {
        Pack<S, V> r[RV_UNROLL];
#pragma unroll
        for (int u = 0; u < RV_UNROLL; u++) r[u] = ld_pack<S>(xb + (v + u * (i64) nt) * V);
#pragma unroll
        for (int u = 0; u < RV_UNROLL; u++)
#pragma unroll
            for (int e = 0; e < V; e++) rv_step<D, SUM_ONLY>(op, a, ld<D>(r[u].v[e]), b + (v + u * (i64) nt) * V + e);
    }
    for (; v < nv; v += nt) {
        Pack<S, V> r = ld_pack<S>(xb + v * V);
#pragma unroll
        for (int e = 0; e < V; e++) rv_step<D, SUM_ONLY>(op, a, ld<D>(r.v[e]), b + v * V + e);
    }
    for (i64 j = b + nv * V + t; j < hi; j += nt) rv_step<D, SUM_ONLY>(op, a, ld<D>(xo[j]), j);
}

template <class D>
__device__ __forceinline__ void rv_fold(int op, RAcc<D>& a, const typename D::S* __restrict__ xo, i64 lo, i64 hi, int t, int nt) {
    if (op == R_SUM) rv_fold_range<D, true>(op, a, xo, lo, hi, t, nt);
    else rv_fold_range<D, false>(op, a, xo, lo, hi, t, nt);
}

// Many rows: warp w of the block takes output row blockIdx.x * warpsPerBlock + w.
template <class D>
__device__ void vwarp_kernel(int op, const Geom<2>& outer, i64 n, const typename D::S* __restrict__ x, void* out, i64* idx) {
    const int lane = threadIdx.x & 31;
    const i64 o = (i64) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (o >= outer.numel) return;
    i64 off[2];
    if (outer.fits32) {
        int o32[2];
        offsets<2, int>(outer, (int) o, o32);
        off[0] = o32[0];
        off[1] = o32[1];
    } else {
        offsets<2, i64>(outer, o, off);
    }
    RAcc<D> a = r_init<D>(op);
    rv_fold<D>(op, a, x + off[1], 0, n, lane, 32);
    a = r_warp<D>(op, a);
    if (lane == 0) r_store<D>(op, a, out, idx, off[0]);
}

// Few long rows: block (row blockIdx.x, split blockIdx.y of gridDim.y); partial states when split.
template <class D>
__device__ void vblock_kernel(int op, const Geom<2>& outer, i64 n, const typename D::S* __restrict__ x, void* out, i64* idx,
                              RAcc<D>* partial) {
    const i64 o = blockIdx.x;
    const int splits = gridDim.y;
    i64 off[2];
    offsets<2, i64>(outer, o, off);
    // Chunks of whole 64-byte lines so that neighbouring splits don't share a line.
    constexpr i64 LINE = 64 / sizeof(typename D::S);
    i64 chunk = ((n + splits - 1) / splits + LINE - 1) / LINE * LINE;
    i64 lo = (i64) blockIdx.y * chunk, hi = lo + chunk < n ? lo + chunk : n;
    RAcc<D> a = r_init<D>(op);
    rv_fold<D>(op, a, x + off[1], lo, hi, threadIdx.x, blockDim.x);
    a = r_block<D>(op, a);
    if (threadIdx.x == 0) {
        if (splits > 1) partial[o * splits + blockIdx.y] = a;
        else r_store<D>(op, a, out, idx, off[0]);
    }
}

template <class D>
__device__ void vcombine_kernel(int op, const Geom<2>& outer, const RAcc<D>* __restrict__ partial, int splits, void* out, i64* idx) {
    const i64 o = blockIdx.x;
    RAcc<D> a = r_init<D>(op);
    for (int s = threadIdx.x; s < splits; s += blockDim.x) a = r_combine<D>(op, a, partial[o * splits + s]);
    a = r_block<D>(op, a);
    if (threadIdx.x == 0) {
        i64 off[2];
        offsets<2, i64>(outer, o, off);
        r_store<D>(op, a, out, idx, off[0]);
    }
}

#define JT_REDUCE_VEC(D, name) \
    extern "C" __global__ void __launch_bounds__(256, 4) reduce_vwarp_##name(int op, Geom<2> outer, i64 n, const D::S* x, void* out, i64* idx) { \
        vwarp_kernel<D>(op, outer, n, x, out, idx); } \
    extern "C" __global__ void __launch_bounds__(512, 2) reduce_vblock_##name(int op, Geom<2> outer, i64 n, const D::S* x, void* out, i64* idx, \
                                                                         RAcc<D>* partial) { \
        vblock_kernel<D>(op, outer, n, x, out, idx, partial); } \
    extern "C" __global__ void __launch_bounds__(256) reduce_vcombine_##name(int op, Geom<2> outer, const RAcc<D>* partial, int splits, \
                                                                           void* out, i64* idx) { \
        vcombine_kernel<D>(op, outer, partial, splits, out, idx); }
// Not for BOOL and U8 (16 elements per pack would unroll the generic step 64 times): those keep the baseline.
JT_REDUCE_VEC(I32_, i32) JT_REDUCE_VEC(I64_, i64) JT_FLOAT_DTYPES(JT_REDUCE_VEC)
