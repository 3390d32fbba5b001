// Elementwise unary, binary and ternary (where) ops over strided, broadcast operands.
// Entry points: elementwise_{unary,unarybool,binary,compare}_<dtype>, elementwise_where_b{8,16,32,64}.
// elementwise_binary_* takes a device error flag last (null unless the op is an integer DIV, REMAINDER or POW).
// Operands whose collapsed geometry is contiguous take a 16-byte vector path; others decompose the linear index.
#include "mathops.cuh"

// out = op(x); g.stride[0] is out's, g.stride[1] x's.
template <class D>
__device__ void unary_kernel(int op, const Geom<2>& g, const typename D::S* __restrict__ x, typename D::S* __restrict__ out,
                             double p1, double p2) {
    typedef typename D::S S;
    // At most 4 per vector: each lane inlines the whole op switch, and 8 copies of it double the compile time.
    constexpr int V = 16 / sizeof(S) > 4 ? 4 : 16 / sizeof(S);
    if (all_contiguous(g)) {
        for_each_contiguous<V>(g.numel, aligned16(x) && aligned16(out),
            [&](i64 v) {
                Pack<S, V> p = reinterpret_cast<const Pack<S, V>*>(x)[v], r;
#pragma unroll
                for (int k = 0; k < V; k++) r.v[k] = st<D>(unary_op<D>(op, ld<D>(p.v[k]), p1, p2));
                reinterpret_cast<Pack<S, V>*>(out)[v] = r;
            },
            [&](i64 i) { out[i] = st<D>(unary_op<D>(op, ld<D>(x[i]), p1, p2)); });
    } else {
        for_each_strided(g, [&](const i64 (&o)[2]) { out[o[0]] = st<D>(unary_op<D>(op, ld<D>(x[o[1]]), p1, p2)); });
    }
}

// out (BOOL) = pred(x) for ISNAN, NONFINITE and LOGICAL_NOT.
template <class D>
__device__ void unarybool_kernel(int op, const Geom<2>& g, const typename D::S* __restrict__ x, uint8_t* __restrict__ out) {
    for_each_strided(g, [&](const i64 (&o)[2]) {
        out[o[0]] = predicate_op(op, ld<D>(x[o[1]]));
    });
}

// a op b. On integers, what the CPU backend refuses is reported in err, and Java throws the CPU's exception: a DIV
// or REMAINDER by zero (which gives 0 here) and a POW to a negative exponent (reported with the exponent). Java
// passes err only for those ops on integers; floating ops compile to binary_op alone.
template <class D>
__device__ __forceinline__ typename D::C binary_checked(int op, typename D::C a, typename D::C b, int* err) {
    if constexpr (!D::is_float) {
        if (b == 0 && (op == B_DIV || op == B_REMAINDER)) report_error(err, E_DIVISION_BY_ZERO, 0);
        if (b < 0 && op == B_POW) report_error(err, E_NEGATIVE_EXPONENT, b);
    }
    return binary_op<D>(op, a, b);
}

// out = a op b; strides: out, a, b.
template <class D>
__device__ void binary_kernel(int op, const Geom<3>& g, const typename D::S* __restrict__ a, const typename D::S* __restrict__ b,
                              typename D::S* __restrict__ out, int* err) {
    typedef typename D::S S;
    constexpr int V = 16 / sizeof(S);
    if (all_contiguous(g)) {
        for_each_contiguous<V>(g.numel, aligned16(a) && aligned16(b) && aligned16(out),
            [&](i64 v) {
                Pack<S, V> pa = reinterpret_cast<const Pack<S, V>*>(a)[v];
                Pack<S, V> pb = reinterpret_cast<const Pack<S, V>*>(b)[v], r;
#pragma unroll
                for (int k = 0; k < V; k++) r.v[k] = st<D>(binary_checked<D>(op, ld<D>(pa.v[k]), ld<D>(pb.v[k]), err));
                reinterpret_cast<Pack<S, V>*>(out)[v] = r;
            },
            [&](i64 i) { out[i] = st<D>(binary_checked<D>(op, ld<D>(a[i]), ld<D>(b[i]), err)); });
    } else {
        for_each_strided(g, [&](const i64 (&o)[3]) {
            out[o[0]] = st<D>(binary_checked<D>(op, ld<D>(a[o[1]]), ld<D>(b[o[2]]), err));
        });
    }
}

template <class D>
__device__ void compare_kernel(int op, const Geom<3>& g, const typename D::S* __restrict__ a, const typename D::S* __restrict__ b,
                               uint8_t* __restrict__ out) {
    for_each_strided(g, [&](const i64 (&o)[3]) { out[o[0]] = compare_op(op, ld<D>(a[o[1]]), ld<D>(b[o[2]])); });
}

// out = cond ? a : b as raw bits of one width; strides: out, cond, a, b.
template <class S>
__device__ void where_kernel(const Geom<4>& g, const uint8_t* __restrict__ cond, const S* __restrict__ a,
                             const S* __restrict__ b, S* __restrict__ out) {
    for_each_strided(g, [&](const i64 (&o)[4]) { out[o[0]] = cond[o[1]] ? a[o[2]] : b[o[3]]; });
}

#define JT_EW(D, name) \
    extern "C" __global__ void elementwise_unary_##name(int op, Geom<2> g, const D::S* x, D::S* out, double p1, double p2) { \
        unary_kernel<D>(op, g, x, out, p1, p2); } \
    extern "C" __global__ void elementwise_unarybool_##name(int op, Geom<2> g, const D::S* x, uint8_t* out) { \
        unarybool_kernel<D>(op, g, x, out); } \
    extern "C" __global__ void elementwise_binary_##name(int op, Geom<3> g, const D::S* a, const D::S* b, D::S* out, int* err) { \
        binary_kernel<D>(op, g, a, b, out, err); } \
    extern "C" __global__ void elementwise_compare_##name(int op, Geom<3> g, const D::S* a, const D::S* b, uint8_t* out) { \
        compare_kernel<D>(op, g, a, b, out); }
JT_ALL_DTYPES(JT_EW)

#define JT_WHERE(S, name) \
    extern "C" __global__ void elementwise_where_##name(Geom<4> g, const uint8_t* cond, const S* a, const S* b, S* out) { \
        where_kernel<S>(g, cond, a, b, out); }
JT_WHERE(uint8_t, b8)
JT_WHERE(uint16_t, b16)
JT_WHERE(uint32_t, b32)
JT_WHERE(unsigned long long, b64)
