// Batched GEMM: C[b] = A[b] (M x K) * B[b] (K x N), any strides for A and B, C with unit column stride.
//   matmul_simt_f32, matmul_simt_f64:  shared-memory tiled, register micro-tiles, double-buffered (no tensor cores);
//   matmul_tc_<f16|bf16>_<variant>:    tensor cores through mma.sync.m16n8k16 (F32 accumulate), ldmatrix fragments,
//                                      128x128x32 block tiles, 8 warps of 64x32, 3-stage cp.async pipeline.
//     variant "nn": A K-contiguous, B N-contiguous (row-major B), cp.async 16-byte copies;
//     variant "nt": A K-contiguous, B K-contiguous (a transposed weight), cp.async 16-byte copies;
//     variant "gen": any strides or alignment, element-wise copies into shared memory (no pipeline).
// The aligned variants need K (and N for "nn") multiples of 8, 16-byte aligned bases and strides multiples of 8;
// Java checks and otherwise picks "gen" (or makes an operand contiguous first).
#include "common.cuh"

// Layout shared with Java (io.jtensor.backend.cuda.CudaGemm): 96 bytes.
struct GemmArgs {
    i64 M, N, K, batch;
    i64 sAb, sAm, sAk;
    i64 sBb, sBk, sBn;
    i64 sCb, ldc;
};

// ============================================================================================== SIMT
// Block tile BM x BN, BK deep; each of the 256 threads computes a TM x TN micro-tile.
template <class T, int BM, int BN, int BK, int TM, int TN>
__device__ void simt_gemm(const GemmArgs& g, const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C) {
    constexpr int THREADS = 256;
    constexpr int A_PER = BM * BK / THREADS, B_PER = BK * BN / THREADS;
    static_assert((BM / TM) * (BN / TN) == THREADS, "tile shape must give 256 threads");
    __shared__ T As[2][BK][BM + 4];
    __shared__ T Bs[2][BK][BN + 4];
    const int tid = threadIdx.x;
    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
    const i64 m0 = (i64) blockIdx.y * BM, n0 = (i64) blockIdx.x * BN;
    // Which index varies fastest across threads when loading: the operand's unit-stride one, for coalescing.
    const bool aAlongK = g.sAk == 1 || (g.sAm != 1 && g.sAk < g.sAm);
    const bool bAlongN = g.sBn == 1 || (g.sBk != 1 && g.sBn < g.sBk);

    for (i64 b = blockIdx.z; b < g.batch; b += gridDim.z) {
        const T* Ab = A + b * g.sAb;
        const T* Bb = B + b * g.sBb;
        T* Cb = C + b * g.sCb;
        T acc[TM][TN];
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int j = 0; j < TN; j++) acc[i][j] = 0;
        T ra[A_PER], rb[B_PER];

        auto loadA = [&](i64 k0) {
#pragma unroll
            for (int q = 0; q < A_PER; q++) {
                int e = tid + q * THREADS;
                int m = aAlongK ? e / BK : e % BM, k = aAlongK ? e % BK : e / BM;
                i64 gm = m0 + m, gk = k0 + k;
                ra[q] = (gm < g.M && gk < g.K) ? Ab[gm * g.sAm + gk * g.sAk] : (T) 0;
            }
        };
        auto storeA = [&](int buf) {
#pragma unroll
            for (int q = 0; q < A_PER; q++) {
                int e = tid + q * THREADS;
                int m = aAlongK ? e / BK : e % BM, k = aAlongK ? e % BK : e / BM;
                As[buf][k][m] = ra[q];
            }
        };
        auto loadB = [&](i64 k0) {
#pragma unroll
            for (int q = 0; q < B_PER; q++) {
                int e = tid + q * THREADS;
                int n = bAlongN ? e % BN : e / BK, k = bAlongN ? e / BN : e % BK;
                i64 gn = n0 + n, gk = k0 + k;
                rb[q] = (gn < g.N && gk < g.K) ? Bb[gk * g.sBk + gn * g.sBn] : (T) 0;
            }
        };
        auto storeB = [&](int buf) {
#pragma unroll
            for (int q = 0; q < B_PER; q++) {
                int e = tid + q * THREADS;
                int n = bAlongN ? e % BN : e / BK, k = bAlongN ? e / BN : e % BK;
                Bs[buf][k][n] = rb[q];
            }
        };

        loadA(0);
        loadB(0);
        storeA(0);
        storeB(0);
        __syncthreads();
        int buf = 0;
        for (i64 k0 = 0; k0 < g.K; k0 += BK) {
            bool more = k0 + BK < g.K;
            if (more) {
                loadA(k0 + BK);
                loadB(k0 + BK);
            }
#pragma unroll
            for (int k = 0; k < BK; k++) {
                T a[TM], bv[TN];
                // Rows ty*TM/2.. and BM/2 + ty*TM/2..: two half-tiles keep a warp's shared reads conflict-free.
#pragma unroll
                for (int i = 0; i < TM / 2; i++) {
                    a[i] = As[buf][k][ty * (TM / 2) + i];
                    a[i + TM / 2] = As[buf][k][BM / 2 + ty * (TM / 2) + i];
                }
#pragma unroll
                for (int j = 0; j < TN / 2; j++) {
                    bv[j] = Bs[buf][k][tx * (TN / 2) + j];
                    bv[j + TN / 2] = Bs[buf][k][BN / 2 + tx * (TN / 2) + j];
                }
#pragma unroll
                for (int i = 0; i < TM; i++)
#pragma unroll
                    for (int j = 0; j < TN; j++) acc[i][j] += a[i] * bv[j];
            }
            if (more) {
                storeA(buf ^ 1);
                storeB(buf ^ 1);
            }
            __syncthreads();
            buf ^= 1;
        }
#pragma unroll
        for (int i = 0; i < TM; i++) {
            i64 m = m0 + (i < TM / 2 ? ty * (TM / 2) + i : BM / 2 + ty * (TM / 2) + i - TM / 2);
            if (m >= g.M) continue;
#pragma unroll
            for (int j = 0; j < TN; j++) {
                i64 n = n0 + (j < TN / 2 ? tx * (TN / 2) + j : BN / 2 + tx * (TN / 2) + j - TN / 2);
                if (n < g.N) Cb[m * g.ldc + n] = acc[i][j];
            }
        }
        __syncthreads();
    }
}

extern "C" __global__ void __launch_bounds__(256) matmul_simt_f32(GemmArgs g, const float* A, const float* B, float* C) {
    simt_gemm<float, 128, 128, 8, 8, 8>(g, A, B, C);
}

extern "C" __global__ void __launch_bounds__(256, 1) matmul_simt_f64(GemmArgs g, const double* A, const double* B, double* C) {
    simt_gemm<double, 64, 64, 8, 4, 4>(g, A, B, C);
}

// ============================================================================================== SIMT, variant "simt2"
// matmul_simt2_f32_<a><b>: the same 128 x 128 x 8 tiles and 8 x 8 micro-tiles as matmul_simt_f32, but every shared
// read is a float4 (the baseline's scalar reads issue 16 shared loads per 64 FMAs, which caps it near half of the
// FP32 rate; here 4), the operands' 16-byte runs load as float4 from global memory where the layout allows (<a>:
// "v" when A is K-contiguous with K, its row stride and base 4-aligned, else "s"; <b>: "v" when B is N-contiguous
// likewise), and C is written as float4 where aligned. One block per SM, as the baseline (capped at 128 registers
// for two blocks, the 64 accumulators plus operands spill).
template <bool AV, bool BV>
__device__ void simt2_gemm(const GemmArgs& g, const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C) {
    constexpr int BM = 128, BN = 128, BK = 8, THREADS = 256;
    constexpr int PITCH = BM + 4;  // 528-byte rows: 16-byte aligned, and the transposed A stores spread over banks
    __shared__ __align__(16) float As[2][BK][PITCH];
    __shared__ __align__(16) float Bs[2][BK][PITCH];
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const i64 m0 = (i64) blockIdx.y * BM, n0 = (i64) blockIdx.x * BN;
    const bool aAlongK = g.sAk == 1 || (g.sAm != 1 && g.sAk < g.sAm);
    const bool bAlongN = g.sBn == 1 || (g.sBk != 1 && g.sBn < g.sBk);

    for (i64 b = blockIdx.z; b < g.batch; b += gridDim.z) {
        const float* Ab = A + b * g.sAb;
        const float* Bb = B + b * g.sBb;
        float* Cb = C + b * g.sCb;
        float acc[8][8];
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;
        float ra[4], rb[4];

        // A: AV, thread loads A[m0 + tid/2][k0 + (tid%2)*4 .. +3]; else 4 elements as the baseline.
        auto loadA = [&](i64 k0) {
            if constexpr (AV) {
                i64 gm = m0 + (tid >> 1), gk = k0 + (tid & 1) * 4;
                if (gm < g.M && gk < g.K) {
                    float4 v = __ldg(reinterpret_cast<const float4*>(Ab + gm * g.sAm + gk));
                    ra[0] = v.x; ra[1] = v.y; ra[2] = v.z; ra[3] = v.w;
                } else {
                    ra[0] = ra[1] = ra[2] = ra[3] = 0.0f;
                }
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int e = tid + q * THREADS;
                    int m = aAlongK ? e / BK : e % BM, k = aAlongK ? e % BK : e / BM;
                    i64 gm = m0 + m, gk = k0 + k;
                    ra[q] = (gm < g.M && gk < g.K) ? Ab[gm * g.sAm + gk * g.sAk] : 0.0f;
                }
            }
        };
        auto storeA = [&](int buf) {
            if constexpr (AV) {
                int m = tid >> 1, k = (tid & 1) * 4;
#pragma unroll
                for (int q = 0; q < 4; q++) As[buf][k + q][m] = ra[q];
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int e = tid + q * THREADS;
                    int m = aAlongK ? e / BK : e % BM, k = aAlongK ? e % BK : e / BM;
                    As[buf][k][m] = ra[q];
                }
            }
        };
        // B: BV, thread loads B[k0 + tid/32][n0 + (tid%32)*4 .. +3].
        auto loadB = [&](i64 k0) {
            if constexpr (BV) {
                i64 gk = k0 + (tid >> 5), gn = n0 + (tid & 31) * 4;
                if (gk < g.K && gn < g.N) {
                    float4 v = __ldg(reinterpret_cast<const float4*>(Bb + gk * g.sBk + gn));
                    rb[0] = v.x; rb[1] = v.y; rb[2] = v.z; rb[3] = v.w;
                } else {
                    rb[0] = rb[1] = rb[2] = rb[3] = 0.0f;
                }
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int e = tid + q * THREADS;
                    int n = bAlongN ? e % BN : e / BK, k = bAlongN ? e / BN : e % BK;
                    i64 gn = n0 + n, gk = k0 + k;
                    rb[q] = (gn < g.N && gk < g.K) ? Bb[gk * g.sBk + gn * g.sBn] : 0.0f;
                }
            }
        };
        auto storeB = [&](int buf) {
            if constexpr (BV) {
                *reinterpret_cast<float4*>(&Bs[buf][tid >> 5][(tid & 31) * 4]) = make_float4(rb[0], rb[1], rb[2], rb[3]);
            } else {
#pragma unroll
                for (int q = 0; q < 4; q++) {
                    int e = tid + q * THREADS;
                    int n = bAlongN ? e % BN : e / BK, k = bAlongN ? e / BN : e % BK;
                    Bs[buf][k][n] = rb[q];
                }
            }
        };

        loadA(0);
        loadB(0);
        storeA(0);
        storeB(0);
        __syncthreads();
        int buf = 0;
        for (i64 k0 = 0; k0 < g.K; k0 += BK) {
            bool more = k0 + BK < g.K;
            if (more) {
                loadA(k0 + BK);
                loadB(k0 + BK);
            }
#pragma unroll
            for (int k = 0; k < BK; k++) {
                // Rows ty*4.. and 64 + ty*4.., columns tx*4.. and 64 + tx*4..: four float4 reads per 64 FMAs.
                float4 a0 = *reinterpret_cast<const float4*>(&As[buf][k][ty * 4]);
                float4 a1 = *reinterpret_cast<const float4*>(&As[buf][k][64 + ty * 4]);
                float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][k][tx * 4]);
                float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][k][64 + tx * 4]);
                float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
                float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
                for (int i = 0; i < 8; i++)
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
            }
            if (more) {
                storeA(buf ^ 1);
                storeB(buf ^ 1);
            }
            __syncthreads();
            buf ^= 1;
        }
        const bool vecC = (g.ldc % 4 == 0) && ((((uintptr_t) Cb) & 15) == 0);
#pragma unroll
        for (int i = 0; i < 8; i++) {
            i64 m = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
            if (m >= g.M) continue;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                i64 n = n0 + h * 64 + tx * 4;
                float* p = Cb + m * g.ldc + n;
                if (vecC && n + 3 < g.N) {
                    *reinterpret_cast<float4*>(p) = make_float4(acc[i][h * 4], acc[i][h * 4 + 1], acc[i][h * 4 + 2], acc[i][h * 4 + 3]);
                } else {
#pragma unroll
                    for (int j = 0; j < 4; j++) if (n + j < g.N) p[j] = acc[i][h * 4 + j];
                }
            }
        }
        __syncthreads();
    }
}

#define JT_SIMT2(AV, BV, vname) \
    extern "C" __global__ void __launch_bounds__(256, 1) matmul_simt2_f32_##vname(GemmArgs g, const float* A, const float* B, float* C) { \
        simt2_gemm<AV, BV>(g, A, B, C); }
JT_SIMT2(true, true, vv)
JT_SIMT2(true, false, vs)
JT_SIMT2(false, true, sv)
JT_SIMT2(false, false, ss)

// ============================================================================================== tensor cores
#define TC_BM 128
#define TC_BN 128
#define TC_BK 32
#define TC_STAGES 3
#define TC_APITCH (TC_BK + 8)     // halves per A row in shared memory: 80 bytes, ldmatrix rows on distinct banks
#define TC_BPITCH_N (TC_BN + 8)   // B stored [k][n]: 272 bytes per row
#define TC_BPITCH_K (TC_BK + 8)   // B stored [n][k]
#define TC_A_STAGE (TC_BM * TC_APITCH)
#define TC_B_STAGE_N (TC_BK * TC_BPITCH_N)
#define TC_B_STAGE_K (TC_BN * TC_BPITCH_K)

__device__ __forceinline__ unsigned smem_addr(const void* p) { return (unsigned) __cvta_generic_to_shared(p); }

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(smem)), "l"(gmem), "r"(valid ? 16 : 0));
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}

template <class T>
__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
    if constexpr (std::is_same<T, __half>::value) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

template <class T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// Stores C[m][n] and C[m][n + 1] (each only if inside N): one 4-byte store when pairs (ldc even, C 4-byte aligned).
template <class T>
__device__ __forceinline__ void store_pair(T* p, float v0, float v1, i64 n, i64 N, bool pairs) {
    if (pairs && n + 1 < N) {
        T two[2] = {from_f32<T>(v0), from_f32<T>(v1)};
        *reinterpret_cast<unsigned*>(p) = *reinterpret_cast<unsigned*>(two);
    } else {
        if (n < N) p[0] = from_f32<T>(v0);
        if (n + 1 < N) p[1] = from_f32<T>(v1);
    }
}

enum TcVariant { TC_NN = 0, TC_NT = 1, TC_GEN = 2 };

// Copies the k-tile starting at k0 into stage buffers sa (A, [m][k]) and sb (B: [k][n] for NN/GEN, [n][k] for NT).
template <class T, int VAR>
__device__ __forceinline__ void tc_load_tile(const GemmArgs& g, const T* __restrict__ Ab, const T* __restrict__ Bb,
                                             i64 m0, i64 n0, i64 k0, T* sa, T* sb) {
    const int tid = threadIdx.x;
    if constexpr (VAR != TC_GEN) {
        // A: 128 rows x 32 halves = 512 chunks of 8; two per thread.
#pragma unroll
        for (int q = 0; q < 2; q++) {
            int c = tid + q * 256;
            int row = c >> 2, kc = (c & 3) * 8;
            i64 gm = m0 + row, gk = k0 + kc;
            bool ok = gm < g.M && gk < g.K;
            const T* src = ok ? Ab + gm * g.sAm + gk : Ab;
            cp_async16(sa + row * TC_APITCH + kc, src, ok);
        }
        if constexpr (VAR == TC_NN) {
            // B [k][n]: 32 rows x 128 halves = 512 chunks.
#pragma unroll
            for (int q = 0; q < 2; q++) {
                int c = tid + q * 256;
                int krow = c >> 4, nc = (c & 15) * 8;
                i64 gk = k0 + krow, gn = n0 + nc;
                bool ok = gk < g.K && gn < g.N;
                const T* src = ok ? Bb + gk * g.sBk + gn : Bb;
                cp_async16(sb + krow * TC_BPITCH_N + nc, src, ok);
            }
        } else {
            // B [n][k]: 128 rows x 32 halves.
#pragma unroll
            for (int q = 0; q < 2; q++) {
                int c = tid + q * 256;
                int row = c >> 2, kc = (c & 3) * 8;
                i64 gn = n0 + row, gk = k0 + kc;
                bool ok = gn < g.N && gk < g.K;
                const T* src = ok ? Bb + gn * g.sBn + gk : Bb;
                cp_async16(sb + row * TC_BPITCH_K + kc, src, ok);
            }
        }
    } else {
        const T zero = from_f32<T>(0.0f);
        // Element by element, the index that is contiguous in memory fastest across threads when there is one.
        const bool aAlongK = g.sAk == 1 || g.sAm != 1;
        for (int e = tid; e < TC_BM * TC_BK; e += 256) {
            int row = aAlongK ? e / TC_BK : e % TC_BM, k = aAlongK ? e % TC_BK : e / TC_BM;
            i64 gm = m0 + row, gk = k0 + k;
            sa[row * TC_APITCH + k] = (gm < g.M && gk < g.K) ? Ab[gm * g.sAm + gk * g.sAk] : zero;
        }
        const bool bAlongN = g.sBn == 1 || g.sBk != 1;
        for (int e = tid; e < TC_BK * TC_BN; e += 256) {
            int n = bAlongN ? e % TC_BN : e / TC_BK, k = bAlongN ? e / TC_BN : e % TC_BK;
            i64 gk = k0 + k, gn = n0 + n;
            sb[k * TC_BPITCH_N + n] = (gk < g.K && gn < g.N) ? Bb[gk * g.sBk + gn * g.sBn] : zero;
        }
    }
}

template <class T, int VAR>
__device__ __forceinline__ void tc_compute_tile(const T* sa, const T* sb, float (&acc)[4][4][4], int warpM, int warpN, int lane) {
#pragma unroll
    for (int ks = 0; ks < TC_BK / 16; ks++) {
        unsigned af[4][4];
#pragma unroll
        for (int mi = 0; mi < 4; mi++) {
            int row = warpM * 64 + mi * 16 + (lane & 15);
            int col = ks * 16 + (lane >> 4) * 8;
            ldmatrix_x4(af[mi], sa + row * TC_APITCH + col);
        }
        unsigned bf[4][2];
#pragma unroll
        for (int nj = 0; nj < 2; nj++) {
            unsigned r[4];
            if constexpr (VAR == TC_NT) {
                int n = warpN * 32 + nj * 16 + (lane & 7) + (lane >> 4) * 8;
                int k = ks * 16 + ((lane >> 3) & 1) * 8;
                ldmatrix_x4(r, sb + n * TC_BPITCH_K + k);
            } else {
                int k = ks * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
                int n = warpN * 32 + nj * 16 + (lane >> 4) * 8;
                ldmatrix_x4_trans(r, sb + k * TC_BPITCH_N + n);
            }
            bf[nj * 2][0] = r[0];
            bf[nj * 2][1] = r[1];
            bf[nj * 2 + 1][0] = r[2];
            bf[nj * 2 + 1][1] = r[3];
        }
#pragma unroll
        for (int mi = 0; mi < 4; mi++)
#pragma unroll
            for (int ni = 0; ni < 4; ni++) mma16816<T>(acc[mi][ni], af[mi], bf[ni][0], bf[ni][1]);
    }
}

template <class T, int VAR>
__device__ void tc_gemm(const GemmArgs& g, const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C) {
    extern __shared__ __align__(16) unsigned char smem_raw[];
    T* smem = reinterpret_cast<T*>(smem_raw);
    constexpr int B_STAGE = VAR == TC_NT ? TC_B_STAGE_K : TC_B_STAGE_N;
    constexpr int STAGES = VAR == TC_GEN ? 1 : TC_STAGES;
    T* sA = smem;
    T* sB = smem + STAGES * TC_A_STAGE;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int warpM = warp >> 2, warpN = warp & 3;
    const i64 m0 = (i64) blockIdx.y * TC_BM, n0 = (i64) blockIdx.x * TC_BN;
    const int kTiles = (int) ((g.K + TC_BK - 1) / TC_BK);

    for (i64 b = blockIdx.z; b < g.batch; b += gridDim.z) {
        const T* Ab = A + b * g.sAb;
        const T* Bb = B + b * g.sBb;
        float acc[4][4][4];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++)
#pragma unroll
                for (int r = 0; r < 4; r++) acc[i][j][r] = 0.0f;

        if constexpr (VAR == TC_GEN) {
            for (int kt = 0; kt < kTiles; kt++) {
                tc_load_tile<T, VAR>(g, Ab, Bb, m0, n0, (i64) kt * TC_BK, sA, sB);
                __syncthreads();
                tc_compute_tile<T, VAR>(sA, sB, acc, warpM, warpN, lane);
                __syncthreads();
            }
        } else {
#pragma unroll
            for (int s = 0; s < STAGES - 1; s++) {
                if (s < kTiles) tc_load_tile<T, VAR>(g, Ab, Bb, m0, n0, (i64) s * TC_BK, sA + s * TC_A_STAGE, sB + s * B_STAGE);
                cp_async_commit();
            }
            for (int kt = 0; kt < kTiles; kt++) {
                cp_async_wait<STAGES - 2>();
                __syncthreads();
                int next = kt + STAGES - 1;
                if (next < kTiles) {
                    int ns = next % STAGES;
                    tc_load_tile<T, VAR>(g, Ab, Bb, m0, n0, (i64) next * TC_BK, sA + ns * TC_A_STAGE, sB + ns * B_STAGE);
                }
                cp_async_commit();
                int cs = kt % STAGES;
                tc_compute_tile<T, VAR>(sA + cs * TC_A_STAGE, sB + cs * B_STAGE, acc, warpM, warpN, lane);
            }
            cp_async_wait<0>();
            __syncthreads();
        }

        // Epilogue: fragment (mi, ni) holds rows lane/4 (+8) and columns 2*(lane%4) (+1) of its 16x8 tile.
        T* Cb = C + b * g.sCb;
        const bool pairs = (g.ldc % 2 == 0) && ((((uintptr_t) Cb) & 3) == 0);
#pragma unroll
        for (int mi = 0; mi < 4; mi++) {
#pragma unroll
            for (int half = 0; half < 2; half++) {
                i64 m = m0 + warpM * 64 + mi * 16 + (lane >> 2) + half * 8;
                if (m >= g.M) continue;
#pragma unroll
                for (int ni = 0; ni < 4; ni++) {
                    i64 n = n0 + warpN * 32 + ni * 8 + (lane & 3) * 2;
                    store_pair<T>(Cb + m * g.ldc + n, acc[mi][ni][half * 2], acc[mi][ni][half * 2 + 1], n, g.N, pairs);
                }
            }
        }
    }
}

#define JT_TC(T, name, VAR, vname) \
    extern "C" __global__ void __launch_bounds__(256) matmul_tc_##name##_##vname(GemmArgs g, const T* A, const T* B, T* C) { \
        tc_gemm<T, VAR>(g, A, B, C); }
JT_TC(__half, f16, TC_NN, nn)
JT_TC(__half, f16, TC_NT, nt)
JT_TC(__half, f16, TC_GEN, gen)
JT_TC(__nv_bfloat16, bf16, TC_NN, nn)
JT_TC(__nv_bfloat16, bf16, TC_NT, nt)
JT_TC(__nv_bfloat16, bf16, TC_GEN, gen)
#include "matmul_sm90.cuh"
