// Mixed precision: unscale gradients in place and detect inf/NaN, over many tensors in one launch.
//   amp_unscale_<dtype>: g *= invScale; *foundInf = 1 when any element (before scaling) is inf or NaN.
#include "common.cuh"

template <class S>
struct AmpTensor {
    S* g;
    i64 n;
};

template <class D>
__device__ void unscale(const AmpTensor<typename D::S>* __restrict__ list, float invScale, int* foundInf) {
    const AmpTensor<typename D::S> t = list[blockIdx.y];
    bool bad = false;
    JT_GRID_STRIDE(i, t.n) {
        float g = (float) ld<D>(t.g[i]);
        if (!isfinite(g)) bad = true;
        t.g[i] = st<D>((typename D::C) (g * invScale));
    }
    if (__any_sync(0xffffffffu, bad) && (threadIdx.x & 31) == 0) *foundInf = 1;
}

#define JT_AMP(D, name) \
    extern "C" __global__ void amp_unscale_##name(const AmpTensor<D::S>* list, float invScale, int* foundInf) { \
        unscale<D>(list, invScale, foundInf); }
JT_AMP(F16_, f16)
JT_AMP(BF16_, bf16)
JT_AMP(F32_, f32)
