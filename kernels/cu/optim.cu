// Fused optimizer steps over many tensors in one launch ("multi-tensor"): `list` is a device array of
// descriptors, blockIdx.y picks the tensor and the x dimension strides over its elements. Parameters and gradients
// are in the dtype; optimizer state (momentum, Adam moments) is always F32. Semantics follow torch.optim.
//   optim_sgd_<dtype>:  g += wd*p; buf = first ? g : momentum*buf + (1-dampening)*g; g = nesterov ? g + momentum*buf : buf;
//                       p -= lr*g   (no momentum buffer when momentum == 0)
//   optim_adam_<dtype>: Adam (L2 penalty added to g) or AdamW (decoupled: p *= 1 - lr*wd); bias corrections bc1, bc2
//                       are 1 - beta^t computed by the caller.
#include "common.cuh"

template <class S>
struct OptimTensor {
    S* p;
    const S* g;
    float* s1;   // momentum buffer / Adam first moment
    float* s2;   // Adam second moment
    i64 n;
};

struct SgdArgs { float lr, momentum, dampening, weightDecay; int nesterov, first; };
struct AdamArgs { float lr, beta1, beta2, eps, weightDecay, bc1, bc2; int adamw; };

template <class D>
__device__ void sgd(const OptimTensor<typename D::S>* __restrict__ list, SgdArgs a) {
    const OptimTensor<typename D::S> t = list[blockIdx.y];
    JT_GRID_STRIDE(i, t.n) {
        float p = (float) ld<D>(t.p[i]);
        float g = (float) ld<D>(t.g[i]) + a.weightDecay * p;
        if (a.momentum != 0.0f) {
            float buf = a.first ? g : a.momentum * t.s1[i] + (1.0f - a.dampening) * g;
            t.s1[i] = buf;
            g = a.nesterov ? g + a.momentum * buf : buf;
        }
        t.p[i] = st<D>((typename D::C) (p - a.lr * g));
    }
}

template <class D>
__device__ void adam(const OptimTensor<typename D::S>* __restrict__ list, AdamArgs a) {
    const OptimTensor<typename D::S> t = list[blockIdx.y];
    JT_GRID_STRIDE(i, t.n) {
        float p = (float) ld<D>(t.p[i]);
        float g = (float) ld<D>(t.g[i]);
        if (a.adamw) p *= 1.0f - a.lr * a.weightDecay;
        else g += a.weightDecay * p;
        float m = a.beta1 * t.s1[i] + (1.0f - a.beta1) * g;
        float v = a.beta2 * t.s2[i] + (1.0f - a.beta2) * g * g;
        t.s1[i] = m;
        t.s2[i] = v;
        float denom = sqrtf(v) / sqrtf(a.bc2) + a.eps;
        p -= (a.lr / a.bc1) * m / denom;
        t.p[i] = st<D>((typename D::C) p);
    }
}

#define JT_OPTIM(D, name) \
    extern "C" __global__ void optim_sgd_##name(const OptimTensor<D::S>* list, SgdArgs a) { sgd<D>(list, a); } \
    extern "C" __global__ void optim_adam_##name(const OptimTensor<D::S>* list, AdamArgs a) { adam<D>(list, a); }
JT_OPTIM(F16_, f16)
JT_OPTIM(BF16_, bf16)
JT_OPTIM(F32_, f32)
