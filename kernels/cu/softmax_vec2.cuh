// Variant "vec2" of the softmax forward: long contiguous rows, part in registers, the rest staged in shared memory
// (included by softmax.cu after softmax_vec.cuh, whose helpers it uses).
//
// Why: the vec kernel keeps a whole row in registers, at most 8 packs per thread for 512 threads (rows of 16384
// F32). Such a block takes ~32K registers, so an SM holds only 2 rows; while both are in their (max, sum) merge
// or write phase no load is in flight, and run 3 measured 57% of the copy for rows of 16384 F32.
//
// softmax_fwd_vstage_<dt>: one block of T threads per row (T = 256, or 1024 for rows too long for 256; Java
// picks). Thread t holds packs t + k T of the row (16-byte packs of V = 16 / sizeof(S) elements): k < 4 in
// registers, k = 4 .. 4 + ps - 1 in dynamic shared memory (slot (k - 4) T + t, so a warp's 16-byte accesses touch
// 512 consecutive bytes: no bank conflicts). A thread reads and writes only its own slots, so the staging needs
// no barrier; the one block-wide step is the (max, sum) merge. Rows of 16384 F32 with T = 256: 4 packs in
// registers + 12 in shared memory (48 KB), 62 registers -> 4 blocks (rows) per SM by registers and by shared
// memory (vec's 512 x 8 packs takes 70 registers: ONE row per SM). One read of x from DRAM, one write of y.
// Per element: the max, one exp for the sum, one exp for the output (recomputed from x with the row's max rather
// than kept, so registers and shared memory hold only the raw packs, for every dtype), one multiply.
// NaN: the per-thread max propagates NaN, and a thread that saw one enters the merge poisoned (see MaxSum): the
// row's sum is NaN, hence every output NaN, as on the CPU backend and in PyTorch; a row of -inf gives NaN
// (exp(-inf - -inf)), as they do.
// Java guarantees: F32/F16/BF16 (F64's exp needs more than 64 registers), L % V == 0, 16-byte aligned row starts
// for x and y, T * (4 + ps) * V >= L, the dynamic shared memory ps * T * 16 bytes within the function's limit
// (raised through cuFuncSetAttribute), and the kept dims merged into one or fitting 32-bit offsets.

#define SV2_REG_PACKS 4

// Folds a pack into the running max (NaN-propagating).
template <class D>
__device__ __forceinline__ typename D::C sv2_pack_max(const Pack<typename D::S, 16 / sizeof(typename D::S)>& p, typename D::C m) {
#pragma unroll
    for (int e = 0; e < 16 / (int) sizeof(typename D::S); e++) m = max_nan<typename D::C>(m, ld<D>(p.v[e]));
    return m;
}

template <class D>
__device__ __forceinline__ typename D::C sv2_pack_expsum(const Pack<typename D::S, 16 / sizeof(typename D::S)>& p, typename D::C m) {
    typename D::C s = 0;
#pragma unroll
    for (int e = 0; e < 16 / (int) sizeof(typename D::S); e++) s += sv_exp<typename D::C>(ld<D>(p.v[e]) - m);
    return s;
}

// The output pack: exp(x - M) * inv (softmax) or (x - M) - logS (log-softmax: two roundings at the scale of
// x - M, as the CPU backend; one shift M + logS would round at M's scale, ~1e-4 absolute for logits near 1000).
template <class D>
__device__ __forceinline__ Pack<typename D::S, 16 / sizeof(typename D::S)> sv2_pack_out(
        const Pack<typename D::S, 16 / sizeof(typename D::S)>& p, typename D::C M, typename D::C inv, typename D::C logS, bool log) {
    Pack<typename D::S, 16 / sizeof(typename D::S)> o;
#pragma unroll
    for (int e = 0; e < 16 / (int) sizeof(typename D::S); e++) {
        typename D::C d = ld<D>(p.v[e]) - M;
        o.v[e] = st<D>(log ? d - logS : sv_exp<typename D::C>(d) * inv);
    }
    return o;
}

template <class D>
__device__ void fwd_vstage(const Geom<2>& outer, i64 L, int ps, const typename D::S* __restrict__ x, typename D::S* __restrict__ y, int log_) {
    typedef typename D::S S;
    typedef typename D::C C;
    constexpr int V = 16 / sizeof(S);
    constexpr int PR = SV2_REG_PACKS;
    typedef Pack<S, V> P;
    extern __shared__ uint4 sv2_stage[];  // [ps][blockDim.x] packs
    const bool log = log_ != 0;
    const int t = threadIdx.x, nt = blockDim.x;
    i64 off[2];
    if (outer.rank <= 1) {
        off[0] = outer.rank == 0 ? 0 : (i64) blockIdx.x * outer.stride[0][0];
        off[1] = outer.rank == 0 ? 0 : (i64) blockIdx.x * outer.stride[1][0];
    } else {
        int o32[2];
        offsets<2, int>(outer, (int) blockIdx.x, o32);
        off[0] = o32[0];
        off[1] = o32[1];
    }
    const S* xr = x + off[1];
    S* yr = y + off[0];
    const int nv = (int) (L / V);  // Java: at most (4 + ps) * nt packs, well under 2^31

    // Register packs first: their loads stay in flight while the shared-memory part streams in.
    P r[PR];
#pragma unroll
    for (int k = 0; k < PR; k++) {
        int p = t + k * nt;
        if (p < nv) r[k] = ld_pack<S>(xr + (i64) p * V);
    }
    C m = (C) -INFINITY;
    const int p0 = PR * nt + t;  // the first shared-memory pack of this thread
#pragma unroll 1
    for (int k0 = 0; k0 < ps; k0 += 4) {
        P q[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            int p = p0 + (k0 + u) * nt;
            if (k0 + u < ps && p < nv) q[u] = ld_pack<S>(xr + (i64) p * V);
        }
#pragma unroll
        for (int u = 0; u < 4; u++) {
            int p = p0 + (k0 + u) * nt;
            if (k0 + u < ps && p < nv) {
                uint4 raw;
                memcpy(&raw, &q[u], 16);
                sv2_stage[(k0 + u) * nt + t] = raw;
                m = sv2_pack_max<D>(q[u], m);
            }
        }
    }
#pragma unroll
    for (int k = 0; k < PR; k++) {
        if (t + k * nt < nv) m = sv2_pack_max<D>(r[k], m);
    }

    // This thread's sum of exp(x - m); none when it holds only -inf (or nothing), where x - m would be NaN.
    C s = 0;
    if (m != (C) -INFINITY) {
#pragma unroll
        for (int k = 0; k < PR; k++) {
            if (t + k * nt < nv) s += sv2_pack_expsum<D>(r[k], m);
        }
#pragma unroll 4
        for (int k = 0; k < ps; k++) {
            if (p0 + k * nt < nv) {
                uint4 raw = sv2_stage[k * nt + t];
                P q;
                memcpy(&q, &raw, 16);
                s += sv2_pack_expsum<D>(q, m);
            }
        }
    }

    // a NaN max (s is NaN then too) enters the merge as the poisoned state, which no other state can drop
    if (m != m) m = (C) INFINITY;
    MaxSum<C> row = block_ms(MaxSum<C>{m, s});  // every thread of the block reaches this (no early exit above)
    const C inv = (C) 1 / row.s;
    const C logS = m_log(row.s);

#pragma unroll
    for (int k = 0; k < PR; k++) {
        int p = t + k * nt;
        if (p < nv) st_pack<S>(yr + (i64) p * V, sv2_pack_out<D>(r[k], row.m, inv, logS, log));
    }
#pragma unroll 4
    for (int k = 0; k < ps; k++) {
        int p = p0 + k * nt;
        if (p < nv) {
            uint4 raw = sv2_stage[k * nt + t];
            P q;
            memcpy(&q, &raw, 16);
            st_pack<S>(yr + (i64) p * V, sv2_pack_out<D>(q, row.m, inv, logS, log));
        }
    }
}

// Up to 1024 threads at <= 64 registers: four 256-thread blocks or one 1024-thread block per SM's register file.
#define JT_SOFTMAX_VSTAGE(D, name) \
    extern "C" __global__ void __launch_bounds__(1024) softmax_fwd_vstage_##name(Geom<2> outer, i64 L, int ps, const D::S* x, D::S* y, int log) { \
        fwd_vstage<D>(outer, L, ps, x, y, log); }
JT_SOFTMAX_VSTAGE(F16_, f16) JT_SOFTMAX_VSTAGE(BF16_, bf16) JT_SOFTMAX_VSTAGE(F32_, f32)
