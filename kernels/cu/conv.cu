// Convolution as im2col + GEMM (the GEMM is matmul.cu's or cuBLAS's, chosen in Java).
//   conv_im2col_b{16,32,64}: cols[r][n][l] = x[n][c][h][w] (or 0 in the padding), r = (c*KH + kh)*KW + kw,
//                            l = oh*OW + ow; a pure copy, so one kernel per element width;
//   conv_col2im_<dtype>:     gradIn[n][c][h][w] = sum of the cols entries that came from (h, w), each input element
//                            gathering its own sum (deterministic, no atomics).
// Java processes the batch in chunks of n so that cols stays within a memory budget; x and gradIn point at the chunk.
#include "common.cuh"

// Layout shared with Java (io.jtensor.backend.cuda.CudaConv): 144 bytes.
struct ConvGeom {
    i64 N, C, H, W, OH, OW;
    int KH, KW, sH, sW, pH, pW, dH, dW;
    i64 xs[4];      // x's strides (im2col); gradIn is contiguous (col2im)
    i64 rowStride;  // cols stride between rows r
    i64 nStride;    // cols stride between batch items
    i64 pad_[2];
};

template <class S>
__device__ void im2col(const ConvGeom& p, const S* __restrict__ x, S* __restrict__ cols) {
    i64 L = p.OH * p.OW;
    i64 total = p.C * p.KH * p.KW * p.N * L;
    JT_GRID_STRIDE(i, total) {
        i64 l = i % L, t = i / L;
        i64 n = t % p.N, r = t / p.N;
        i64 kw = r % p.KW, t2 = r / p.KW;
        i64 kh = t2 % p.KH, c = t2 / p.KH;
        i64 oh = l / p.OW, ow = l % p.OW;
        i64 h = oh * p.sH - p.pH + kh * p.dH, w = ow * p.sW - p.pW + kw * p.dW;
        S v = 0;
        if (h >= 0 && h < p.H && w >= 0 && w < p.W) v = x[n * p.xs[0] + c * p.xs[1] + h * p.xs[2] + w * p.xs[3]];
        cols[r * p.rowStride + n * p.nStride + l] = v;
    }
}

template <class D>
__device__ void col2im(const ConvGeom& p, const typename D::S* __restrict__ cols, typename D::S* __restrict__ gin) {
    typedef typename D::C C;
    i64 total = p.N * p.C * p.H * p.W;
    JT_GRID_STRIDE(i, total) {
        i64 w = i % p.W, t = i / p.W;
        i64 h = t % p.H; t /= p.H;
        i64 c = t % p.C, n = t / p.C;
        C sum = 0;
        for (int kh = 0; kh < p.KH; kh++) {
            i64 hh = h + p.pH - (i64) kh * p.dH;
            if (hh < 0 || hh % p.sH != 0) continue;
            i64 oh = hh / p.sH;
            if (oh >= p.OH) continue;
            for (int kw = 0; kw < p.KW; kw++) {
                i64 ww = w + p.pW - (i64) kw * p.dW;
                if (ww < 0 || ww % p.sW != 0) continue;
                i64 ow = ww / p.sW;
                if (ow >= p.OW) continue;
                i64 r = (c * p.KH + kh) * p.KW + kw;
                sum += ld<D>(cols[r * p.rowStride + n * p.nStride + oh * p.OW + ow]);
            }
        }
        gin[i] = st<D>(sum);
    }
}

#define JT_IM2COL(S, name) \
    extern "C" __global__ void conv_im2col_##name(ConvGeom p, const S* x, S* cols) { im2col<S>(p, x, cols); }
JT_IM2COL(uint16_t, b16)
JT_IM2COL(uint32_t, b32)
JT_IM2COL(unsigned long long, b64)

#define JT_COL2IM(D, name) \
    extern "C" __global__ void conv_col2im_##name(ConvGeom p, const D::S* cols, D::S* gin) { col2im<D>(p, cols, gin); }
JT_FLOAT_DTYPES(JT_COL2IM)
