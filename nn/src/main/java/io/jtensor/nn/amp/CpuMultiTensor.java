package io.jtensor.nn.amp;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The CPU twins of the multi-tensor kernels (kernels/cu/amp.cu and optim.cu), element for element the same
 * arithmetic in float: one pass over each tensor of a list, reading F16, BF16 or F32 and computing in F32. Arrays are
 * contiguous, on the CPU, and checked by {@link MultiTensor} before they arrive here.
 */
final class CpuMultiTensor {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    private CpuMultiTensor() {}

    /** A contiguous array's elements as a segment of its own, with its dtype for the loads and stores. */
    private record View(MemorySegment seg, DType dtype) {
        static View of(NDArray a) {
            if (a == null) return null;
            long offset = a.dataAddress() - a.storage().address();
            return new View(a.storage().segment().asSlice(offset, a.numel() * a.dtype().byteSize()), a.dtype());
        }

        float get(long i) {
            return switch (dtype) {
                case F32 -> seg.getAtIndex(FLOAT, i);
                case F16 -> Float.float16ToFloat(seg.getAtIndex(SHORT, i));
                case BF16 -> Float.intBitsToFloat(seg.getAtIndex(SHORT, i) << 16);
                default -> throw new IllegalStateException("multi-tensor: unexpected dtype " + dtype);
            };
        }

        void set(long i, float v) {
            switch (dtype) {
                case F32 -> seg.setAtIndex(FLOAT, i, v);
                case F16 -> seg.setAtIndex(SHORT, i, Float.floatToFloat16(v));
                case BF16 -> seg.setAtIndex(SHORT, i, toBf16(v));
                default -> throw new IllegalStateException("multi-tensor: unexpected dtype " + dtype);
            }
        }
    }

    /** Round to nearest even; NaN stays a quiet NaN (as the engine's casts and the CUDA kernels' __float2bfloat16). */
    static short toBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) return (short) ((x >>> 16) | 0x40);
        return (short) ((x + 0x7FFF + ((x >>> 16) & 1)) >>> 16);
    }

    /** out[k][i] = in[k][i] * invScale; foundInf[0] = 1 when any in[k][i] is inf or NaN (amp_unscale). */
    static void unscale(List<NDArray> in, List<NDArray> out, float invScale, NDArray foundInf) {
        boolean bad = false;
        for (int k = 0; k < in.size(); k++) {
            View src = View.of(in.get(k)), dst = View.of(out.get(k));
            long n = in.get(k).numel();
            for (long i = 0; i < n; i++) {
                float g = src.get(i);
                if (!Float.isFinite(g)) bad = true;
                dst.set(i, g * invScale);
            }
        }
        if (bad) View.of(foundInf).seg.setAtIndex(INT, 0, 1);
    }

    /**
     * SGD on fp32 masters from gradients of any float type times invScale (optim_sgd): g += wd*p; b = first ? g :
     * m*b + (1-d)*g; direction = nesterov ? g + m*b : b; p -= lr*direction; copies (when given) get p in their type.
     */
    static void sgd(List<NDArray> masters, List<NDArray> grads, List<NDArray> buffers, List<NDArray> copies, float invScale,
                    float lr, float momentum, float dampening, float wd, boolean nesterov, boolean first) {
        for (int k = 0; k < masters.size(); k++) {
            View p = View.of(masters.get(k)), g = View.of(grads.get(k));
            View b = momentum != 0 ? View.of(buffers.get(k)) : null, c = copies == null ? null : View.of(copies.get(k));
            long n = masters.get(k).numel();
            for (long i = 0; i < n; i++) {
                float pi = p.get(i);
                float gi = g.get(i) * invScale + wd * pi;
                if (momentum != 0) {
                    float buf = first ? gi : momentum * b.get(i) + (1 - dampening) * gi;
                    b.set(i, buf);
                    gi = nesterov ? gi + momentum * buf : buf;
                }
                pi -= lr * gi;
                p.set(i, pi);
                if (c != null) c.set(i, pi);
            }
        }
    }

    /**
     * Adam (decoupled false: L2 added to g) or AdamW on fp32 masters (optim_adam): m = b1*m + (1-b1)*g,
     * v = b2*v + (1-b2)*g^2, p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps); copies get p in their type.
     */
    static void adam(List<NDArray> masters, List<NDArray> grads, List<NDArray> expAvg, List<NDArray> expAvgSq, List<NDArray> copies,
                     float invScale, float lr, float beta1, float beta2, float eps, float wd, boolean decoupled, float bc1, float bc2) {
        float sqrtBc2 = (float) Math.sqrt(bc2);
        for (int k = 0; k < masters.size(); k++) {
            View p = View.of(masters.get(k)), g = View.of(grads.get(k)), m = View.of(expAvg.get(k)), v = View.of(expAvgSq.get(k));
            View c = copies == null ? null : View.of(copies.get(k));
            long n = masters.get(k).numel();
            for (long i = 0; i < n; i++) {
                float pi = p.get(i);
                float gi = g.get(i) * invScale;
                if (decoupled) pi *= 1 - lr * wd;
                else gi += wd * pi;
                float mi = beta1 * m.get(i) + (1 - beta1) * gi;
                float vi = beta2 * v.get(i) + (1 - beta2) * gi * gi;
                m.set(i, mi);
                v.set(i, vi);
                float denom = (float) Math.sqrt(vi) / sqrtBc2 + eps;
                pi -= (lr / bc1) * mi / denom;
                p.set(i, pi);
                if (c != null) c.set(i, pi);
            }
        }
    }
}
