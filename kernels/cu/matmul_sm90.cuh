// Variant "wgmma" of the F16/BF16 GEMM for Hopper (sm_90a; included by matmul.cu).
//
// Why: on Hopper, mma.sync (the baseline matmul_tc_*) reaches about 40% of cuBLAS; the warpgroup MMA (wgmma) reads
// both operands straight from shared memory, 64 x 256 x 16 per instruction per warpgroup, and is what cuBLAS uses.
//   matmul_wg_<f16|bf16>_<nt|nn>: block tile 128 x 256 x 64, two warpgroups (256 threads), each computing 64 x 256
//   with m64n256k16 (128 F32 accumulators per thread); a 4-stage ring of shared-memory tiles filled by cp.async (16
//   bytes per copy, every thread copying) in the 128-byte-swizzled layouts wgmma's descriptors describe:
//     A (K-major, [m][k]): row m at m * 128 bytes, 16-byte chunk c of it at position c ^ (m % 8);
//     B "nt" (K-major, [n][k]): as A;
//     B "nn" (N-major, [k][n]): four 8 KB blocks of 64 columns; in each, row k at k * 128 bytes, chunk c at c ^ (k % 8)
//       (wgmma's transpose-B flag reads it as N-major).
//   One wgmma batch (4 x k16) stays in flight while the next tile's copies are issued: stage kt - 2 is refilled
//   only after every warpgroup has waited for batch kt - 2, which the barrier at the top of iteration kt ensures.
// Same contract as matmul_tc_*_nt / _nn (K % 8 == 0, and N % 8 == 0 for nn; 16-byte aligned rows). Built only for
// sm_90a; in any other build the kernels trap, and Java launches them only on compute capability 9.0.
#include <stdint.h>

#define WG_BM 128
#define WG_BN 256
#define WG_BK 64
#define WG_STAGES 4
#define WG_A_BYTES (WG_BM * WG_BK * 2)          // 16 KB
#define WG_B_BYTES (WG_BN * WG_BK * 2)          // 32 KB
#define WG_STAGE_BYTES (WG_A_BYTES + WG_B_BYTES)
#define WG_SMEM (WG_STAGES * WG_STAGE_BYTES + 1024)  // + slack to align the ring to 1024 bytes (the swizzle atom)

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define JT_HAS_WGMMA 1
#endif

// Shared-memory matrix descriptor: start address, leading and stride byte offsets (all >> 4), 128-byte swizzle.
__device__ __forceinline__ uint64_t wg_desc(uint32_t saddr, uint32_t lbo, uint32_t sbo) {
    return (uint64_t) ((saddr & 0x3FFFF) >> 4) | ((uint64_t) ((lbo & 0x3FFFF) >> 4) << 16)
         | ((uint64_t) ((sbo & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

__device__ __forceinline__ void wg_fence() {
#ifdef JT_HAS_WGMMA
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wg_commit() {
#ifdef JT_HAS_WGMMA
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
template <int N>
__device__ __forceinline__ void wg_wait() {
#ifdef JT_HAS_WGMMA
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
__device__ __forceinline__ void fence_proxy_async() {
#if __CUDA_ARCH__ >= 900
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}
// Keeps the compiler from moving reads or writes of an accumulator across the wgmma fences and waits.
__device__ __forceinline__ void wg_keep(float& r) { asm volatile("" : "+f"(r)::"memory"); }

#define WG_REGS \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, " \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, " \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, " \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, " \
    "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, " \
    "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, " \
    "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
    "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
#define WG_OPS \
    "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
    "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
    "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
    "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
    "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
    "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
    "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
    "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), \
    "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), \
    "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), \
    "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), \
    "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), \
    "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), \
    "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), \
    "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), \
    "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])

// d += A (64 x 16, descriptor da) * B (16 x 256, descriptor db); TB: B is N-major (transposed).
template <class T, int TB>
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], uint64_t da, uint64_t db) {
#ifdef JT_HAS_WGMMA
    if constexpr (std::is_same<T, __half>::value) {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 {" WG_REGS "}, %128, %129, p, 1, 1, 0, %131;\n}\n"
                     : WG_OPS : "l"(da), "l"(db), "r"(1), "n"(TB));
    } else {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {" WG_REGS "}, %128, %129, p, 1, 1, 0, %131;\n}\n"
                     : WG_OPS : "l"(da), "l"(db), "r"(1), "n"(TB));
    }
#endif
}

// Copies k-tile k0 of A (rows m0..m0+127) and B into one stage (A at sa, B at sb: shared addresses).
template <class T, bool NN>
__device__ __forceinline__ void wg_load_tile(const GemmArgs& g, const T* __restrict__ Ab, const T* __restrict__ Bb,
                                             i64 m0, i64 n0, i64 k0, uint32_t sa, uint32_t sb) {
    const int tid = threadIdx.x;
#pragma unroll
    for (int q = 0; q < 4; q++) {          // A: 128 rows x 8 chunks
        int c = tid + q * 256;
        int row = c >> 3, kc = c & 7;
        i64 gm = m0 + row, gk = k0 + kc * 8;
        bool ok = gm < g.M && gk < g.K;
        const T* src = ok ? Ab + gm * g.sAm + gk : Ab;
        uint32_t dst = sa + row * 128 + ((kc ^ (row & 7)) << 4);
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(ok ? 16 : 0));
    }
#pragma unroll
    for (int q = 0; q < 8; q++) {          // B: 2048 chunks
        int c = tid + q * 256;
        if constexpr (NN) {
            int kr = c >> 5, nc = c & 31;  // [k][n]: 64 rows of 32 chunks
            i64 gk = k0 + kr, gn = n0 + nc * 8;
            bool ok = gk < g.K && gn < g.N;
            const T* src = ok ? Bb + gk * g.sBk + gn : Bb;
            uint32_t dst = sb + (nc >> 3) * 8192 + kr * 128 + (((nc & 7) ^ (kr & 7)) << 4);
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(ok ? 16 : 0));
        } else {
            int row = c >> 3, kc = c & 7;  // [n][k]: 256 rows of 8 chunks
            i64 gn = n0 + row, gk = k0 + kc * 8;
            bool ok = gn < g.N && gk < g.K;
            const T* src = ok ? Bb + gn * g.sBn + gk : Bb;
            uint32_t dst = sb + row * 128 + ((kc ^ (row & 7)) << 4);
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(ok ? 16 : 0));
        }
    }
}

// Issues (and commits as one group) the four k16 steps of a 64-deep tile: this warpgroup's 64 rows of A at sa, B at sb.
template <class T, bool NN>
__device__ __forceinline__ void wg_mma_tile(float (&acc)[128], uint32_t sa, uint32_t sb) {
#pragma unroll
    for (int i = 0; i < 128; i++) wg_keep(acc[i]);
    wg_fence();
#pragma unroll
    for (int ks = 0; ks < WG_BK / 16; ks++) {
        uint64_t da = wg_desc(sa + ks * 32, 16, 1024);
        uint64_t db = NN ? wg_desc(sb + ks * 2048, 8192, 1024) : wg_desc(sb + ks * 32, 16, 1024);
        wgmma_m64n256k16<T, NN ? 1 : 0>(acc, da, db);
    }
    wg_commit();
}

// Stores a warpgroup's 64 x 256 accumulators (rows m0 + wg * 64 ..) into C (this batch item's), converted to T.
// Accumulator i of a thread: row warp*16 + lane/4 (+8 for i%4 >= 2), column (i/4)*8 + (lane%4)*2 + i%2.
template <class T>
__device__ __forceinline__ void wg_store_tile(const GemmArgs& g, T* __restrict__ Cb, i64 m0, i64 n0, int wg, int warp, int lane,
                                              const float (&acc)[128]) {
    const bool pairs = (g.ldc % 2 == 0) && ((((uintptr_t) Cb) & 3) == 0);
#pragma unroll
    for (int half = 0; half < 2; half++) {
        i64 m = m0 + wg * 64 + warp * 16 + (lane >> 2) + half * 8;
        if (m >= g.M) continue;
#pragma unroll
        for (int j = 0; j < 32; j++) {
            i64 n = n0 + j * 8 + (lane & 3) * 2;
            store_pair<T>(Cb + m * g.ldc + n, acc[j * 4 + half * 2], acc[j * 4 + half * 2 + 1], n, g.N, pairs);
        }
    }
}

template <class T, bool NN>
__device__ void wg_gemm(const GemmArgs& g, const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C) {
#ifdef JT_HAS_WGMMA
    extern __shared__ __align__(16) unsigned char smem_raw[];
    const uint32_t base = (smem_addr(smem_raw) + 1023) & ~1023u;
    const int wg = threadIdx.x >> 7, warp = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
    const i64 m0 = (i64) blockIdx.y * WG_BM, n0 = (i64) blockIdx.x * WG_BN;
    const int kTiles = (int) ((g.K + WG_BK - 1) / WG_BK);

    for (i64 b = blockIdx.z; b < g.batch; b += gridDim.z) {
        const T* Ab = A + b * g.sAb;
        const T* Bb = B + b * g.sBb;
        float acc[128];
#pragma unroll
        for (int i = 0; i < 128; i++) acc[i] = 0.0f;

#pragma unroll
        for (int s = 0; s < WG_STAGES - 2; s++) {
            if (s < kTiles) wg_load_tile<T, NN>(g, Ab, Bb, m0, n0, (i64) s * WG_BK, base + s * WG_STAGE_BYTES, base + s * WG_STAGE_BYTES + WG_A_BYTES);
            cp_async_commit();
        }
        for (int kt = 0; kt < kTiles; kt++) {
            cp_async_wait<WG_STAGES - 3>();  // this thread's copies of tile kt have landed
            fence_proxy_async();             // ... and are visible to the tensor cores' (async) proxy
            __syncthreads();                 // everyone's copies; and every warpgroup is done with batch kt - 2
            int next = kt + WG_STAGES - 2;
            if (next < kTiles) {
                uint32_t st = base + (next % WG_STAGES) * WG_STAGE_BYTES;
                wg_load_tile<T, NN>(g, Ab, Bb, m0, n0, (i64) next * WG_BK, st, st + WG_A_BYTES);
            }
            cp_async_commit();
            const uint32_t sa = base + (kt % WG_STAGES) * WG_STAGE_BYTES + wg * (64 * 128);
            const uint32_t sb = base + (kt % WG_STAGES) * WG_STAGE_BYTES + WG_A_BYTES;
            wg_mma_tile<T, NN>(acc, sa, sb);
            wg_wait<1>();
        }
        wg_wait<0>();
#pragma unroll
        for (int i = 0; i < 128; i++) wg_keep(acc[i]);
        cp_async_wait<0>();
        __syncthreads();   // the next batch item reuses the ring

        wg_store_tile<T>(g, C + b * g.sCb, m0, n0, wg, warp, lane, acc);
    }
#else
    __trap();  // not built for sm_90a: Java never launches this
#endif
}

#define JT_WG(T, name, NN, vname) \
    extern "C" __global__ void __launch_bounds__(256, 1) matmul_wg_##name##_##vname(GemmArgs g, const T* A, const T* B, T* C) { \
        wg_gemm<T, NN>(g, A, B, C); }
JT_WG(__half, f16, false, nt)
JT_WG(__half, f16, true, nn)
JT_WG(__nv_bfloat16, bf16, false, nt)
JT_WG(__nv_bfloat16, bf16, true, nn)

// ---------------------------------------------------------------------------------------------- variant "tma"
// matmul_wgt_<f16|bf16>_<nt|nn>: the tiles, wgmma batches and epilogue of matmul_wg_*, with the operands brought in
// by the tensor memory accelerator (cp.async.bulk.tensor) instead of every thread's cp.async:
//   - thread 0 issues one bulk copy for A's 128 x 64 tile and one (nt) or four (nn: 64-column blocks) for B's, all
//     with the 128-byte swizzle, which lays each tile out exactly as the descriptors above read it; the copy engine
//     fills rows and columns past the matrix with zeros, so tails need no predicates;
//   - each stage has a "full" mbarrier (thread 0's expected byte count, completed by the copies) and an "empty" one
//     (one arrival per warp once its wgmma batch on the stage has completed); no block-wide barrier in the K loop;
//   - thread 0 refills a stage as soon as all 8 warps released it, so 3 tiles are in flight ahead of the one
//     being multiplied (matmul_wg_: 2, issued after a block-wide barrier).
// Tensor maps (Java: CudaGemm.launchTma, cuTensorMapEncodeTiled) are 3-D {inner, outer, batch}, passed by value as
// __grid_constant__ parameters; an operand shared by the batch has a batch extent of 1 and is read at batch 0.
// Tiles are numbered over the block's batch items (j = item * kTiles + kt), so the next item's first tiles are
// loaded while the current one finishes.

struct alignas(64) TmaMap { unsigned long long opaque[16]; };

#define WGT_SMEM (WG_SMEM + 2 * WG_STAGES * 8)  // the ring, then a full and an empty mbarrier per stage

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
// Waits until the barrier's phase of the given parity has completed.
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
    asm volatile("{\n.reg .pred done;\nMBAR_WAIT:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra MBAR_WAIT;\n}\n" ::"r"(bar), "r"(parity) : "memory");
}
__device__ __forceinline__ void tma_load3(uint32_t dst, const TmaMap* map, int c0, int c1, int c2, uint32_t bar) {
    asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n"
                 ::"r"(dst), "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(bar) : "memory");
}

template <class T, bool NN>
__device__ void wgt_gemm(const GemmArgs& g, const TmaMap& ta, const TmaMap& tb, int aBatched, int bBatched, T* __restrict__ C) {
#ifdef JT_HAS_WGMMA
    extern __shared__ __align__(16) unsigned char smem_raw[];
    const uint32_t base = (smem_addr(smem_raw) + 1023) & ~1023u;
    const uint32_t fullBars = base + WG_STAGES * WG_STAGE_BYTES, emptyBars = fullBars + WG_STAGES * 8;
    const int wg = threadIdx.x >> 7, warp = (threadIdx.x >> 5) & 3, lane = threadIdx.x & 31;
    const i64 m0 = (i64) blockIdx.y * WG_BM, n0 = (i64) blockIdx.x * WG_BN;
    const int kTiles = (int) ((g.K + WG_BK - 1) / WG_BK);
    const int items = (int) ((g.batch - blockIdx.z + gridDim.z - 1) / gridDim.z);
    const int tiles = items * kTiles;

    if (threadIdx.x == 0) {
        for (int s = 0; s < WG_STAGES; s++) {
            mbar_init(fullBars + s * 8, 1);   // thread 0's expect_tx; the bytes complete it
            mbar_init(emptyBars + s * 8, 8);  // one arrival per warp, each after its own wgmma wait
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    // Thread 0: the copies of tile j (batch item j / kTiles, k-tile j % kTiles) into stage j % STAGES.
    auto load = [&](int j) {
        const int s = j % WG_STAGES, batchIndex = (int) (blockIdx.z + (i64) (j / kTiles) * gridDim.z), k0 = (j % kTiles) * WG_BK;
        const uint32_t sa = base + s * WG_STAGE_BYTES, sb = sa + WG_A_BYTES, bar = fullBars + s * 8;
        mbar_expect_tx(bar, WG_STAGE_BYTES);
        tma_load3(sa, &ta, k0, (int) m0, aBatched ? batchIndex : 0, bar);
        if constexpr (NN) {
#pragma unroll
            for (int q = 0; q < 4; q++) tma_load3(sb + q * 8192, &tb, (int) n0 + 64 * q, k0, bBatched ? batchIndex : 0, bar);
        } else {
            tma_load3(sb, &tb, k0, (int) n0, bBatched ? batchIndex : 0, bar);
        }
    };
    // This warp's wgmma batch on tile j has completed: release the stage; thread 0 refills it once all 8 warps have.
    auto release = [&](int j) {
        const int s = j % WG_STAGES;
        if (lane == 0) mbar_arrive(emptyBars + s * 8);
        if (threadIdx.x == 0 && j + WG_STAGES < tiles) {
            mbar_wait(emptyBars + s * 8, (j / WG_STAGES) & 1);
            load(j + WG_STAGES);
        }
        __syncwarp();
    };

    if (threadIdx.x == 0) {
        for (int j = 0; j < WG_STAGES && j < tiles; j++) load(j);
    }
    __syncwarp();
    int j = 0;
    for (int item = 0; item < items; item++) {
        const i64 b = blockIdx.z + (i64) item * gridDim.z;
        float acc[128];
#pragma unroll
        for (int i = 0; i < 128; i++) acc[i] = 0.0f;
        for (int kt = 0; kt < kTiles; kt++, j++) {
            const int s = j % WG_STAGES;
            mbar_wait(fullBars + s * 8, (j / WG_STAGES) & 1);
            const uint32_t stage = base + s * WG_STAGE_BYTES;
            wg_mma_tile<T, NN>(acc, stage + wg * (64 * 128), stage + WG_A_BYTES);
            wg_wait<1>();  // the batch before this one has completed
            if (kt > 0) release(j - 1);
        }
        wg_wait<0>();
#pragma unroll
        for (int i = 0; i < 128; i++) wg_keep(acc[i]);
        release(j - 1);
        wg_store_tile<T>(g, C + b * g.sCb, m0, n0, wg, warp, lane, acc);
    }
#else
    __trap();  // not built for sm_90a: Java never launches this
#endif
}

#define JT_WGT(T, name, NN, vname) \
    extern "C" __global__ void __launch_bounds__(256, 1) matmul_wgt_##name##_##vname(GemmArgs g, const __grid_constant__ TmaMap ta, \
            const __grid_constant__ TmaMap tb, int aBatched, int bBatched, T* C) { wgt_gemm<T, NN>(g, ta, tb, aBatched, bBatched, C); }
JT_WGT(__half, f16, false, nt)
JT_WGT(__half, f16, true, nn)
JT_WGT(__nv_bfloat16, bf16, false, nt)
JT_WGT(__nv_bfloat16, bf16, true, nn)
