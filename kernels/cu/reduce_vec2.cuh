// Variant "vec2" of the reductions over many contiguous rows (included by reduce.cu after reduce_vec.cuh, whose
// ld_pack it uses). Run 3 measured two rows under 75% of the copy bandwidth with the "vec" kernels:
//   max over rows of 4096 F32 (57%): vec folds MAX through the generic step, which tracks an index and applies the
//     index-aware NaN rules (~15 instructions per element) even when the caller asked for no index;
//   sum over rows of 256 F32 (19%): a warp per row gives each lane only 2 float4, then pays a 5-level shuffle of
//     the whole (value, sum, index) state, an index decomposition with a division and an alignment head for every
//     1 KB row, and the grid is 131072 blocks of 8 tiny rows.
//
// reduce_v2rows_<dt>_g<G>: G lanes per row (G = 4, 8, 16, 32; a warp holds 32 / G rows), G chosen by Java so that a
// lane has about four 16-byte loads per row, which it issues before folding any; the group reduces with
// butterfly shuffles inside its G-lane segment (xor distances < G never leave an aligned segment). The grid is
// capped (Java: 64 blocks per SM) and each warp strides over row groups, so short rows don't mean tiny blocks.
// Only for ops whose step is one instruction and that need no index:
//   SUM:       a + x, in the compute type (float for F16/BF16/F32, double for F64);
//   MAX / MIN: max / min that returns NaN when either input is NaN (PyTorch: a row with a NaN reduces to NaN;
//              the sign of a zero result is unspecified when +0 and -0 tie, as they compare equal).
// Java guarantees: float dtypes, the kept dims merged into at most one (row o at o * stride: no index
// decomposition, whose divisions cost more than a short row's adds), every row start 16-byte aligned (x 16-byte
// aligned, the row stride a multiple of the pack), n >= 1. n need not be a multiple of the pack: each row ends with single elements.

// One-instruction folds for the index-free ops; identity is the fold's neutral element.
template <class C, int OP> struct V2Op;

template <class C> struct V2Op<C, R_SUM> {
    static __device__ __forceinline__ C identity() { return (C) 0; }
    static __device__ __forceinline__ C fold(C a, C x) { return a + x; }
};

template <class C> struct V2Op<C, R_MAX> {
    static __device__ __forceinline__ C identity() { return (C) -INFINITY; }
    static __device__ __forceinline__ C fold(C a, C x) { return max_nan<C>(a, x); }
};

template <class C> struct V2Op<C, R_MIN> {
    static __device__ __forceinline__ C identity() { return (C) INFINITY; }
    static __device__ __forceinline__ C fold(C a, C x) { return min_nan<C>(a, x); }
};

// Folds row xr[0, n) into a; lane `sub` of the G lanes takes packs sub, sub + G, ... and the tail elements
// nv * V + sub, nv * V + sub + G, ...; four packs are loaded before the first is folded. 32-bit indices: Java
// sends rows of at most 2^15 elements here.
template <class D, int G, int OP>
__device__ __forceinline__ typename D::C v2_fold_row(const typename D::S* __restrict__ xr, int n, int sub) {
    typedef typename D::S S;
    typedef typename D::C C;
    typedef V2Op<C, OP> Op;
    constexpr int V = 16 / sizeof(S);
    const int nv = n / V;
    C a = Op::identity();
    int v = sub;
    for (; v + 3 * G < nv; v += 4 * G) {
        Pack<S, V> r[4];
#pragma unroll
        for (int u = 0; u < 4; u++) r[u] = ld_pack<S>(xr + (v + u * G) * V);
#pragma unroll
        for (int u = 0; u < 4; u++)
#pragma unroll
            for (int e = 0; e < V; e++) a = Op::fold(a, ld<D>(r[u].v[e]));
    }
#pragma unroll 1
    for (; v < nv; v += G) {
        Pack<S, V> r = ld_pack<S>(xr + v * V);
#pragma unroll
        for (int e = 0; e < V; e++) a = Op::fold(a, ld<D>(r.v[e]));
    }
#pragma unroll 1
    for (int j = nv * V + sub; j < n; j += G) a = Op::fold(a, ld<D>(xr[j]));
    return a;
}

template <class D, int G, int OP>
__device__ __forceinline__ void v2rows_op(const Geom<2>& outer, i64 n, const typename D::S* __restrict__ x, typename D::S* __restrict__ out) {
    typedef typename D::C C;
    typedef V2Op<C, OP> Op;
    constexpr int GPW = 32 / G;  // rows per warp and step
    const int lane = threadIdx.x & 31, sub = lane & (G - 1), grp = lane / G;
    const i64 warp = ((i64) blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    const i64 warps = ((i64) gridDim.x * blockDim.x) >> 5;
    const i64 row_stride[2] = {outer.rank == 0 ? 0 : outer.stride[0][0], outer.rank == 0 ? 0 : outer.stride[1][0]};
    // The loop bound is the same for the whole warp, so every lane reaches every shuffle (full mask); a group
    // whose row is past the end folds nothing and stores nothing.
    for (i64 first = warp * GPW; first < outer.numel; first += warps * GPW) {
        const i64 o = first + grp;
        const bool live = o < outer.numel;
        C a = Op::identity();
        i64 off[2] = {0, 0};
        if (live) {
            off[0] = o * row_stride[0];
            off[1] = o * row_stride[1];
            a = v2_fold_row<D, G, OP>(x + off[1], (int) n, sub);
        }
#pragma unroll
        for (int d = G / 2; d > 0; d >>= 1) a = Op::fold(a, __shfl_xor_sync(0xffffffffu, a, d));
        if (live && sub == 0) out[off[0]] = st<D>(a);
    }
}

template <class D, int G>
__device__ void v2rows_kernel(int op, const Geom<2>& outer, i64 n, const typename D::S* __restrict__ x, typename D::S* __restrict__ out) {
    switch (op) {  // uniform over the grid: one branch, taken once
        case R_SUM: v2rows_op<D, G, R_SUM>(outer, n, x, out); break;
        case R_MAX: v2rows_op<D, G, R_MAX>(outer, n, x, out); break;
        case R_MIN: v2rows_op<D, G, R_MIN>(outer, n, x, out); break;
        default: break;  // Java launches only these three
    }
}

#define JT_REDUCE_V2G(D, name, G) \
    extern "C" __global__ void __launch_bounds__(256, 5) reduce_v2rows_##name##_g##G(int op, Geom<2> outer, i64 n, const D::S* x, D::S* out) { \
        v2rows_kernel<D, G>(op, outer, n, x, out); }
#define JT_REDUCE_VEC2(D, name) JT_REDUCE_V2G(D, name, 4) JT_REDUCE_V2G(D, name, 8) JT_REDUCE_V2G(D, name, 16) JT_REDUCE_V2G(D, name, 32)
JT_FLOAT_DTYPES(JT_REDUCE_VEC2)
