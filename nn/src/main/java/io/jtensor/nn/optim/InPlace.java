package io.jtensor.nn.optim;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The fused in-place updates the optimizers are made of (in the manner of PyTorch's {@code addcmul_}/{@code addcdiv_}).
 * When every operand is a contiguous CPU array of one floating dtype (F32 or F64) the update is one loop over the
 * elements, computed in double and with no temporary arrays; otherwise (another device, a view, a half type) it is
 * composed of NDArray ops whose temporaries are closed at once. Either way the target array keeps its storage, so
 * views of a parameter and references held elsewhere see the update.
 */
final class InPlace {
    private InPlace() {}

    /** y = a*y + b*x (x may be null, then y = a*y). */
    static void axpby(NDArray y, double a, NDArray x, double b) {
        if (fast(y, x)) {
            Loop l = new Loop(y, x);
            for (long i = 0; i < l.n; i++) {
                l.set(0, i, a * l.get(0, i) + (x == null ? 0 : b * l.get(1, i)));
            }
            return;
        }
        if (a != 1) y.mulInPlace(a);
        if (x != null && b != 0) y.addInPlace(x, b);
    }

    /** y = a*y + b*x1*x2. */
    static void addcmul(NDArray y, double a, NDArray x1, NDArray x2, double b) {
        if (fast(y, x1, x2)) {
            Loop l = new Loop(y, x1, x2);
            for (long i = 0; i < l.n; i++) l.set(0, i, a * l.get(0, i) + b * l.get(1, i) * l.get(2, i));
            return;
        }
        if (a != 1) y.mulInPlace(a);
        try (NDArray prod = x1.mul(x2)) {
            y.addInPlace(prod, b);
        }
    }

    /** p = p + value * num / (sqrt(v) * vScale + eps). */
    static void addcdivSqrt(NDArray p, double value, NDArray num, NDArray v, double vScale, double eps) {
        if (fast(p, num, v)) {
            Loop l = new Loop(p, num, v);
            for (long i = 0; i < l.n; i++) {
                l.set(0, i, l.get(0, i) + value * l.get(1, i) / (Math.sqrt(l.get(2, i)) * vScale + eps));
            }
            return;
        }
        try (NDArray root = v.sqrt(); NDArray scaled = root.mul(vScale); NDArray den = scaled.add(eps);
             NDArray ratio = num.div(den)) {
            p.addInPlace(ratio, value);
        }
    }

    /** y = max(y, x) elementwise. */
    static void maximum(NDArray y, NDArray x) {
        if (fast(y, x)) {
            Loop l = new Loop(y, x);
            for (long i = 0; i < l.n; i++) l.set(0, i, Math.max(l.get(0, i), l.get(1, i)));
            return;
        }
        try (NDArray m = y.maximum(x)) {
            y.copyFrom(m);
        }
    }

    /** A new array, kept out of any open MemoryScope, holding a copy of src: optimizer state outlives a step. */
    static NDArray keptCopy(NDArray src) {
        return src.copy().keep();
    }

    /** A new zero array shaped and typed like src, kept out of any open MemoryScope. */
    static NDArray keptZerosLike(NDArray src) {
        return NDArray.zeros(src.dtype(), src.device(), src.shape()).keep();
    }

    static void checkSameShape(String op, NDArray a, NDArray b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException(op + ": expected a gradient of shape " + Arrays.toString(a.shape())
                    + ", got " + Arrays.toString(b.shape()));
        }
    }

    private static boolean fast(NDArray first, NDArray... rest) {
        if (!first.device().isCpu() || !first.isContiguous()) return false;
        DType dt = first.dtype();
        if (dt != DType.F32 && dt != DType.F64) return false;
        long n = first.numel();
        for (NDArray r : rest) {
            if (r == null) continue;
            if (!r.device().isCpu() || !r.isContiguous() || r.dtype() != dt || r.numel() != n) return false;
        }
        return true;
    }

    /** Element access to a few contiguous CPU arrays of one dtype. */
    private static final class Loop {
        final long n;
        final boolean f32;
        final MemorySegment[] segs;

        Loop(NDArray... arrays) {
            n = arrays[0].numel();
            f32 = arrays[0].dtype() == DType.F32;
            segs = new MemorySegment[arrays.length];
            long width = arrays[0].dtype().byteSize();
            for (int k = 0; k < arrays.length; k++) {
                NDArray a = arrays[k];
                if (a == null) continue;
                segs[k] = a.storage().segment().asSlice(a.offset() * width, n * width);
            }
        }

        double get(int k, long i) {
            return f32 ? segs[k].getAtIndex(ValueLayout.JAVA_FLOAT, i) : segs[k].getAtIndex(ValueLayout.JAVA_DOUBLE, i);
        }

        void set(int k, long i, double v) {
            if (f32) segs[k].setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
            else segs[k].setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        }
    }
}
