package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.Arrays;

/** The derivative rule of matmul. Vector operands are turned into matrices first, so one rule covers all cases. */
final class Linalg {
    private Linalg() {}

    /** torch.matmul: 1-D and 2-D products and batched products with broadcast batch dims. */
    static Tensor matmul(Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.MATMUL, in -> matmulAsGiven(in[0], in[1]), a, b);
    }

    /**
     * x @ W^T + b for x [..., in], W [out, in], b [out] or null: one entry, so that autocast casts the bias with the
     * product (a half product plus an fp32 bias would widen the result again).
     */
    static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return Autocasting.run(AutocastOp.LINEAR, in -> {
            Tensor wt = in[1].t();
            Tensor y = matmulAsGiven(in[0], wt);
            wt.data().close();
            if (in[2] == null) return y;
            Tensor r = Pointwise.add(y, in[2]);
            y.data().close();
            return r;
        }, x, weight, bias);
    }

    private static Tensor matmulAsGiven(Tensor a, Tensor b) {
        Losses.checkOpen("matmul", a);
        Losses.checkOpen("matmul", b);
        if (!a.device().equals(b.device())) {
            throw new IllegalArgumentException("matmul: expected all arrays on one device, got " + a.device() + " and " + b.device());
        }
        if (a.dim() == 0 || b.dim() == 0) {
            throw new IllegalArgumentException("matmul: both arguments need at least 1 dim, got " + Arrays.toString(a.shape())
                    + " and " + Arrays.toString(b.shape()));
        }
        long k = a.shape()[a.dim() - 1];
        long k2 = b.dim() == 1 ? b.shape()[0] : b.shape()[b.dim() - 2];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: inner dims differ: " + Arrays.toString(a.shape()) + " @ "
                    + Arrays.toString(b.shape()) + " (" + k + " vs " + k2 + ")");
        }
        if (a.dim() == 1 || b.dim() == 1) return vectorCase(a, b);
        return matrices(a, b);
    }

    /** A vector becomes a one-row (left) or one-column (right) matrix, and that dim is dropped again afterwards. */
    private static Tensor vectorCase(Tensor a, Tensor b) {
        Tensor am = a.dim() == 1 ? a.unsqueeze(0) : a;
        Tensor bm = b.dim() == 1 ? b.unsqueeze(1) : b;
        Tensor p = matrices(am, bm);
        Tensor r;
        if (a.dim() == 1 && b.dim() == 1) r = p.reshape();
        else if (a.dim() == 1) r = p.squeeze(-2);
        else r = p.squeeze(-1);
        if (am != a) am.data().close();
        if (bm != b) bm.data().close();
        p.data().close();
        return r;
    }

    /**
     * Both operands have at least 2 dims: dA = g @ B^T and dB = A^T @ g, which the engine sums over broadcast batch
     * dims. A plain matrix B (a weight) gets its gradient from one product over the folded batch instead.
     */
    private static Tensor matrices(Tensor a, Tensor b) {
        NDArray out = a.data().matmul(b.data());
        boolean foldBatch = b.dim() == 2 && a.dim() > 2;
        return Recorder.record("matmul", out, a, b, s -> {
            NDArray av = b.requiresGrad() ? s.save(a.data()) : null;
            NDArray bv = a.requiresGrad() ? s.save(b.data()) : null;
            return (g, need) -> {
                NDArray ga = null, gb = null;
                if (need[0]) {
                    try (NDArray bt = bv.transpose(-1, -2)) {
                        ga = g.matmul(bt);
                    }
                }
                if (need[1]) {
                    if (foldBatch) {
                        long kk = av.shape()[av.dim() - 1], n = g.shape()[g.dim() - 1];
                        try (NDArray a2 = av.reshape(-1, kk); NDArray at = a2.t(); NDArray g2 = g.reshape(-1, n)) {
                            gb = at.matmul(g2);
                        }
                    } else {
                        try (NDArray at = av.transpose(-1, -2)) {
                            gb = at.matmul(g);
                        }
                    }
                }
                return new NDArray[] {ga, gb};
            };
        });
    }
}
