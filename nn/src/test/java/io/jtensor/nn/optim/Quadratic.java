package io.jtensor.nn.optim;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;

/**
 * The test problem {@code f(w) = 1/2 sum a_i (w_i - c_i)^2}, whose gradient {@code a_i (w_i - c_i)} the tests
 * compute by hand; the optimizer sees the gradient autograd computes from the loss.
 */
final class Quadratic {
    static final double[] A = {1.0, 2.0, 0.5, 3.0};
    static final double[] C = {1.0, -2.0, 3.0, 0.25};
    static final double[] W0 = {0.5, 0.3, -1.2, 2.0};

    private Quadratic() {}

    /** The gradient at w, by hand. */
    static double[] grad(double[] w) {
        double[] g = new double[w.length];
        for (int i = 0; i < w.length; i++) g[i] = A[i] * (w[i] - C[i]);
        return g;
    }

    /** A parameter holding W0 (shape [4], or [2, 2] laid out transposed so that its data is not contiguous). */
    static Tensor param(DType dtype, boolean contiguous) {
        if (contiguous) {
            try (NDArray d = NDArray.of(W0, 4)) {
                return Tensor.wrap(d.to(dtype)).requiresGrad(true);
            }
        }
        // Storage [[w0, w2], [w1, w3]] viewed transposed: logical order w0, w1, w2, w3, strides (1, 2).
        double[] stored = {W0[0], W0[2], W0[1], W0[3]};
        try (NDArray s = NDArray.of(stored, 2, 2); NDArray cast = s.to(dtype)) {
            NDArray view = cast.t();
            if (view.isContiguous()) throw new AssertionError("test setup: expected a non-contiguous view");
            return Tensor.wrap(view).requiresGrad(true);
        }
    }

    /** Fills p.grad via backward of the loss; returns the loss. */
    static double backward(Tensor p) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor flat = p.reshape(4);
            Tensor a = Tensor.of(A, 4).to(p.dtype()), c = Tensor.of(C, 4).to(p.dtype());
            Tensor loss = flat.sub(c).square().mul(a).sum().mul(0.5);
            p.zeroGrad();
            loss.backward();
            return loss.item();
        }
    }

    /** The parameter's values in logical (row-major) order. */
    static double[] values(Tensor p) { return p.data().toDoubleArray(); }

    static NDArray scalar(double v) { return NDArray.scalar(v, DType.F64, Device.cpu()); }
}
