// 2-D pooling over NCHW inputs of any strides; outputs contiguous. (Max-pool backward is a scatter-add of gradOut
// at the recorded indices: index_scatteradd_<dtype>.)
//   pool_max2d_<dtype>:      out and indices (h*W + w of each maximum; NaN wins, as in PyTorch);
//   pool_avg2d_<dtype>:      PyTorch's divisor rule (window clipped to the padded input; countIncludePad or not);
//   pool_avg2dback_<dtype>:  gradIn from gradOut, each input pixel gathering over the windows that hold it.
#include "common.cuh"

// Layout shared with Java (io.jtensor.backend.cuda.CudaPool): 152 bytes.
struct PoolGeom {
    i64 N, C, H, W, OH, OW;
    int kH, kW, sH, sW, pH, pW, dH, dW;
    i64 xs[4];   // strides of the input (forward) or of gradOut (backward)
    i64 gs[4];   // unused by forward; strides of gradIn's source in backward are xs
    int countIncludePad;
    int pad_;
};

template <class D>
__device__ void max2d(const PoolGeom& p, const typename D::S* __restrict__ x, typename D::S* __restrict__ out, i64* __restrict__ idx) {
    typedef typename D::C C;
    i64 total = p.N * p.C * p.OH * p.OW;
    JT_GRID_STRIDE(i, total) {
        i64 ow = i % p.OW, t = i / p.OW;
        i64 oh = t % p.OH; t /= p.OH;
        i64 c = t % p.C, n = t / p.C;
        const typename D::S* xp = x + n * p.xs[0] + c * p.xs[1];
        C best = (C) -INFINITY;
        i64 besti = -1;
        for (int kh = 0; kh < p.kH; kh++) {
            i64 h = oh * p.sH - p.pH + (i64) kh * p.dH;
            if (h < 0 || h >= p.H) continue;
            for (int kw = 0; kw < p.kW; kw++) {
                i64 w = ow * p.sW - p.pW + (i64) kw * p.dW;
                if (w < 0 || w >= p.W) continue;
                C v = ld<D>(xp[h * p.xs[2] + w * p.xs[3]]);
                if (besti < 0 || v > best || v != v) {
                    best = v;
                    besti = h * p.W + w;
                }
            }
        }
        out[i] = st<D>(best);
        idx[i] = besti < 0 ? 0 : besti;
    }
}

__device__ __forceinline__ i64 avg_divisor(const PoolGeom& p, i64 oh, i64 ow) {
    i64 hs = oh * p.sH - p.pH, ws = ow * p.sW - p.pW;
    i64 he = hs + p.kH < p.H + p.pH ? hs + p.kH : p.H + p.pH;
    i64 we = ws + p.kW < p.W + p.pW ? ws + p.kW : p.W + p.pW;
    i64 poolSize = (he - hs) * (we - ws);
    if (p.countIncludePad) return poolSize;
    hs = hs < 0 ? 0 : hs;
    ws = ws < 0 ? 0 : ws;
    he = he > p.H ? p.H : he;
    we = we > p.W ? p.W : we;
    return (he - hs) * (we - ws);
}

template <class D>
__device__ void avg2d(const PoolGeom& p, const typename D::S* __restrict__ x, typename D::S* __restrict__ out) {
    typedef typename D::C C;
    i64 total = p.N * p.C * p.OH * p.OW;
    JT_GRID_STRIDE(i, total) {
        i64 ow = i % p.OW, t = i / p.OW;
        i64 oh = t % p.OH; t /= p.OH;
        i64 c = t % p.C, n = t / p.C;
        const typename D::S* xp = x + n * p.xs[0] + c * p.xs[1];
        i64 hs = oh * p.sH - p.pH, ws = ow * p.sW - p.pW;
        C sum = 0;
        for (i64 h = hs < 0 ? 0 : hs; h < hs + p.kH && h < p.H; h++) {
            for (i64 w = ws < 0 ? 0 : ws; w < ws + p.kW && w < p.W; w++) sum += ld<D>(xp[h * p.xs[2] + w * p.xs[3]]);
        }
        out[i] = st<D>(sum / (C) avg_divisor(p, oh, ow));
    }
}

// gradIn [N,C,H,W] contiguous from gradOut (strides xs).
template <class D>
__device__ void avg2d_back(const PoolGeom& p, const typename D::S* __restrict__ gout, typename D::S* __restrict__ gin) {
    typedef typename D::C C;
    i64 total = p.N * p.C * p.H * p.W;
    JT_GRID_STRIDE(i, total) {
        i64 w = i % p.W, t = i / p.W;
        i64 h = t % p.H; t /= p.H;
        i64 c = t % p.C, n = t / p.C;
        const typename D::S* gp = gout + n * p.xs[0] + c * p.xs[1];
        // windows [oh*sH - pH, oh*sH - pH + kH) that contain h
        i64 ohLo = h + p.pH - p.kH + 1 <= 0 ? 0 : (h + p.pH - p.kH + 1 + p.sH - 1) / p.sH;
        i64 ohHi = (h + p.pH) / p.sH;
        i64 owLo = w + p.pW - p.kW + 1 <= 0 ? 0 : (w + p.pW - p.kW + 1 + p.sW - 1) / p.sW;
        i64 owHi = (w + p.pW) / p.sW;
        if (ohHi >= p.OH) ohHi = p.OH - 1;
        if (owHi >= p.OW) owHi = p.OW - 1;
        C sum = 0;
        for (i64 oh = ohLo; oh <= ohHi; oh++) {
            for (i64 ow = owLo; ow <= owHi; ow++) {
                sum += ld<D>(gp[oh * p.xs[2] + ow * p.xs[3]]) / (C) avg_divisor(p, oh, ow);
            }
        }
        gin[i] = st<D>(sum);
    }
}

#define JT_POOL(D, name) \
    extern "C" __global__ void pool_max2d_##name(PoolGeom p, const D::S* x, D::S* out, i64* idx) { max2d<D>(p, x, out, idx); } \
    extern "C" __global__ void pool_avg2d_##name(PoolGeom p, const D::S* x, D::S* out) { avg2d<D>(p, x, out); } \
    extern "C" __global__ void pool_avg2dback_##name(PoolGeom p, const D::S* gout, D::S* gin) { avg2d_back<D>(p, gout, gin); }
JT_FLOAT_DTYPES(JT_POOL)
