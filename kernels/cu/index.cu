// Gather, scatter-add (index_select is a gather whose index is broadcast along every other dim).
//   index_gather_<dtype>:     out[i] = x[i with dim replaced by index[i]]; g over index's shape, strides: out, index,
//                             x (x's stride along dim zeroed); xDimStride and xDimSize for the indexed dim.
//   index_scatteradd_<dtype>: out[i with dim replaced by index[i]] += src[i]; strides: src, index, out (dim zeroed).
// An index outside [0, size) is recorded in the device error flag and skipped; negative indices are errors too, as on
// the CPU (and in PyTorch's gather/scatter_add/index_select). Java reads the flag right after the launch and throws.
#include "common.cuh"
#include "ops.cuh"

template <class D>
__device__ void gather_kernel(const Geom<3>& g, const typename D::S* __restrict__ x, const i64* __restrict__ index,
                              typename D::S* __restrict__ out, i64 xDimStride, i64 xDimSize, int* err) {
    for_each_strided(g, [&](const i64 (&o)[3]) {
        i64 k = index[o[1]];
        if (k < 0 || k >= xDimSize) {
            report_error(err, E_INDEX_OUT_OF_RANGE, k);
            return;
        }
        out[o[0]] = x[o[2] + k * xDimStride];
    });
}

// Atomic add for every storage type; 8- and 16-bit integers go through a compare-and-swap of their 32-bit word.
template <class D>
__device__ __forceinline__ void atomic_add(typename D::S* p, typename D::S v) {
    typedef typename D::S S;
    if constexpr (std::is_same<D, F32_>::value || std::is_same<D, F64_>::value || std::is_same<D, I32_>::value) {
        atomicAdd(p, v);
    } else if constexpr (std::is_same<D, F16_>::value) {
        atomicAdd(p, v);
    } else if constexpr (std::is_same<D, BF16_>::value) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
        atomicAdd(p, v);
#endif
    } else if constexpr (std::is_same<D, I64_>::value) {
        atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long) v);
    } else {
        // one byte inside an aligned 32-bit word
        unsigned int* word = reinterpret_cast<unsigned int*>((uintptr_t) p & ~(uintptr_t) 3);
        unsigned int shift = ((uintptr_t) p & 3) * 8;
        unsigned int old = *word, assumed;
        do {
            assumed = old;
            S cur = (S) ((assumed >> shift) & 0xffu);
            S sum = st<D>(ld<D>(cur) + ld<D>(v));
            unsigned int repl = (assumed & ~(0xffu << shift)) | ((unsigned int) (uint8_t) sum << shift);
            old = atomicCAS(word, assumed, repl);
        } while (old != assumed);
    }
}

template <class D>
__device__ void scatter_add_kernel(const Geom<3>& g, const typename D::S* __restrict__ src, const i64* __restrict__ index,
                                   typename D::S* out, i64 outDimStride, i64 outDimSize, int* err) {
    for_each_strided(g, [&](const i64 (&o)[3]) {
        i64 k = index[o[1]];
        if (k < 0 || k >= outDimSize) {
            report_error(err, E_INDEX_OUT_OF_RANGE, k);
            return;
        }
        atomic_add<D>(out + o[2] + k * outDimStride, src[o[0]]);
    });
}

#define JT_INDEX(D, name) \
    extern "C" __global__ void index_gather_##name(Geom<3> g, const D::S* x, const i64* index, D::S* out, i64 xDimStride, \
                                                   i64 xDimSize, int* err) { \
        gather_kernel<D>(g, x, index, out, xDimStride, xDimSize, err); } \
    extern "C" __global__ void index_scatteradd_##name(Geom<3> g, const D::S* src, const i64* index, D::S* out, \
                                                       i64 outDimStride, i64 outDimSize, int* err) { \
        scatter_add_kernel<D>(g, src, index, out, outDimStride, outDimSize, err); }
JT_ALL_DTYPES(JT_INDEX)
