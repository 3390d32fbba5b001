package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.BinaryOp;

/**
 * Derivative rules of the elementwise ops: arithmetic (tensor and scalar operands), powers and the unary math and
 * activation functions. Broadcasting is undone by the engine, so the binary rules return gradients in the output's
 * shape. Each rule saves only what the gradients that will be asked for need.
 */
final class Pointwise {
    private Pointwise() {}

    // ------------------------------------------------------------------ binary

    static Tensor add(Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.ADD, in -> addAsGiven(in[0], in[1]), a, b);
    }

    private static Tensor addAsGiven(Tensor a, Tensor b) {
        return Recorder.record("add", a.data().add(b.data()), a, b, s -> (g, need) -> new NDArray[] {
                need[0] ? g.share() : null, need[1] ? g.share() : null});
    }

    static Tensor sub(Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.SUB, in -> subAsGiven(in[0], in[1]), a, b);
    }

    private static Tensor subAsGiven(Tensor a, Tensor b) {
        return Recorder.record("sub", a.data().sub(b.data()), a, b, s -> (g, need) -> new NDArray[] {
                need[0] ? g.share() : null, need[1] ? g.neg() : null});
    }

    static Tensor mul(Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.MUL, in -> mulAsGiven(in[0], in[1]), a, b);
    }

    private static Tensor mulAsGiven(Tensor a, Tensor b) {
        return Recorder.record("mul", a.data().mul(b.data()), a, b, s -> {
            NDArray av = b.requiresGrad() ? s.save(a.data()) : null;
            NDArray bv = a.requiresGrad() ? s.save(b.data()) : null;
            return (g, need) -> new NDArray[] {need[0] ? g.mul(bv) : null, need[1] ? g.mul(av) : null};
        });
    }

    /** d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b. */
    static Tensor div(Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.DIV, in -> divAsGiven(in[0], in[1]), a, b);
    }

    private static Tensor divAsGiven(Tensor a, Tensor b) {
        NDArray out = a.data().div(b.data());
        return Recorder.record("div", out, a, b, s -> {
            NDArray bv = s.save(b.data());
            NDArray y = b.requiresGrad() ? s.save(out) : null;
            return (g, need) -> {
                NDArray ga = need[0] ? g.div(bv) : null;
                NDArray gb = null;
                if (need[1]) {
                    try (NDArray gy = g.mul(y); NDArray q = gy.div(bv)) {
                        gb = q.neg();
                    }
                }
                return new NDArray[] {ga, gb};
            };
        });
    }

    /** d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a, taken as 0 where a == 0 (the limit for b > 0). */
    static Tensor pow(Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.POW, in -> powAsGiven(in[0], in[1]), a, b);
    }

    private static Tensor powAsGiven(Tensor a, Tensor b) {
        NDArray out = a.data().pow(b.data());
        return Recorder.record("pow", out, a, b, s -> {
            NDArray av = s.save(a.data());
            NDArray bv = s.save(b.data());
            NDArray y = b.requiresGrad() ? s.save(out) : null;
            return (g, need) -> {
                NDArray ga = null, gb = null;
                if (need[0]) {
                    try (NDArray bm1 = bv.sub(1); NDArray p = av.pow(bm1); NDArray d = p.mul(bv)) {
                        ga = g.mul(d);
                    }
                }
                if (need[1]) {
                    try (NDArray ln = av.log(); NDArray d = y.mul(ln); NDArray zero = NDArray.scalar(0, d.dtype(), d.device());
                         NDArray isZero = av.eq(0); NDArray safe = NDArray.where(isZero, zero, d)) {
                        gb = g.mul(safe);
                    }
                }
                return new NDArray[] {ga, gb};
            };
        });
    }

    static Tensor maximum(Tensor a, Tensor b) { return Autocasting.run(AutocastOp.MAXIMUM, in -> extremum("maximum", in[0], in[1], true), a, b); }
    static Tensor minimum(Tensor a, Tensor b) { return Autocasting.run(AutocastOp.MINIMUM, in -> extremum("minimum", in[0], in[1], false), a, b); }

    /** The winner takes the gradient; on a tie each side gets half, as in PyTorch. */
    private static Tensor extremum(String op, Tensor a, Tensor b, boolean max) {
        NDArray out = max ? a.data().maximum(b.data()) : a.data().minimum(b.data());
        return Recorder.record(op, out, a, b, s -> {
            NDArray av = s.save(a.data());
            NDArray bv = s.save(b.data());
            return (g, need) -> {
                NDArray shareA;
                try (NDArray wins = max ? av.gt(bv) : av.lt(bv); NDArray ties = av.eq(bv);
                     NDArray w = wins.to(g.dtype()); NDArray t = ties.to(g.dtype()); NDArray half = t.mul(0.5)) {
                    shareA = w.add(half);
                }
                try (shareA) {
                    NDArray ga = need[0] ? g.mul(shareA) : null;
                    NDArray gb = null;
                    if (need[1]) {
                        try (NDArray rest = shareA.rsub(1)) {
                            gb = g.mul(rest);
                        }
                    }
                    return new NDArray[] {ga, gb};
                }
            };
        });
    }

    /** cond ? a : b; cond is not differentiated. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Autocasting.run(AutocastOp.WHERE, in -> whereAsGiven(in[0], in[1], in[2]), cond, a, b);
    }

    private static Tensor whereAsGiven(Tensor cond, Tensor a, Tensor b) {
        NDArray out = NDArray.where(cond.data(), a.data(), b.data());
        return Recorder.record("where", out, new Tensor[] {cond, a, b}, s -> {
            NDArray c = s.own(cond.data().to(DType.BOOL));
            return (g, need) -> {
                try (NDArray zero = NDArray.scalar(0, g.dtype(), g.device())) {
                    return new NDArray[] {null,
                            need[1] ? NDArray.where(c, g, zero) : null,
                            need[2] ? NDArray.where(c, zero, g) : null};
                }
            };
        });
    }

    // ------------------------------------------------------------------ with a Java scalar

    static Tensor addScalar(Tensor x, double v) {
        return Recorder.record("add", x.data().add(v), x, s -> (g, need) -> new NDArray[] {g.share()});
    }

    static Tensor subScalar(Tensor x, double v) {
        return Recorder.record("sub", x.data().sub(v), x, s -> (g, need) -> new NDArray[] {g.share()});
    }

    static Tensor mulScalar(Tensor x, double v) {
        return Recorder.record("mul", x.data().mul(v), x, s -> (g, need) -> new NDArray[] {g.mul(v)});
    }

    static Tensor divScalar(Tensor x, double v) {
        return Recorder.record("div", x.data().div(v), x, s -> (g, need) -> new NDArray[] {g.div(v)});
    }

    /** v - x. */
    static Tensor rsubScalar(Tensor x, double v) {
        return Recorder.record("rsub", x.data().rsub(v), x, s -> (g, need) -> new NDArray[] {g.neg()});
    }

    /** v / x: derivative -v/x^2 = -y/x. */
    static Tensor rdivScalar(Tensor x, double v) {
        NDArray out = x.data().rdiv(v);
        return Recorder.record("rdiv", out, x, s -> {
            NDArray xv = s.save(x.data());
            NDArray y = s.save(out);
            return (g, need) -> {
                try (NDArray q = y.div(xv); NDArray d = q.neg()) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    /** x^p: derivative p x^(p-1). */
    static Tensor powScalar(Tensor x, double p) {
        return Autocasting.run(AutocastOp.POW, in -> powScalarAsGiven(in[0], p), x);
    }

    private static Tensor powScalarAsGiven(Tensor x, double p) {
        return Recorder.record("pow", x.data().pow(p), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                if (p == 0) return new NDArray[] {NDArray.zeros(g.dtype(), g.device(), g.shape())};
                try (NDArray q = p == 2 ? xv.share() : xv.pow(p - 1); NDArray d = q.mul(p)) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    // ------------------------------------------------------------------ unary math

    static Tensor neg(Tensor x) {
        return Recorder.record("neg", x.data().neg(), x, s -> (g, need) -> new NDArray[] {g.neg()});
    }

    /** Subgradient sign(x), 0 at 0. */
    static Tensor abs(Tensor x) {
        return Recorder.record("abs", x.data().abs(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray sg = xv.sign()) {
                    return new NDArray[] {g.mul(sg)};
                }
            };
        });
    }

    static Tensor exp(Tensor x) {
        return Autocasting.run(AutocastOp.EXP, in -> expAsGiven(in[0]), x);
    }

    private static Tensor expAsGiven(Tensor x) {
        NDArray out = x.data().exp();
        return Recorder.record("exp", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> new NDArray[] {g.mul(y)};
        });
    }

    static Tensor log(Tensor x) {
        return Autocasting.run(AutocastOp.LOG, in -> logAsGiven(in[0]), x);
    }

    private static Tensor logAsGiven(Tensor x) {
        return Recorder.record("log", x.data().log(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> new NDArray[] {g.div(xv)};
        });
    }

    /** d log(1+x) = 1/(1+x). */
    static Tensor log1p(Tensor x) {
        return Recorder.record("log1p", x.data().log1p(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray d = xv.add(1)) {
                    return new NDArray[] {g.div(d)};
                }
            };
        });
    }

    /** d (e^x - 1) = y + 1. */
    static Tensor expm1(Tensor x) {
        NDArray out = x.data().expm1();
        return Recorder.record("expm1", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> {
                try (NDArray d = y.add(1)) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    /** d sqrt(x) = 1 / (2 y). */
    static Tensor sqrt(Tensor x) {
        NDArray out = x.data().sqrt();
        return Recorder.record("sqrt", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> {
                try (NDArray q = g.div(y)) {
                    return new NDArray[] {q.mul(0.5)};
                }
            };
        });
    }

    /** d x^(-1/2) = -y^3 / 2. */
    static Tensor rsqrt(Tensor x) {
        return Autocasting.run(AutocastOp.RSQRT, in -> rsqrtAsGiven(in[0]), x);
    }

    private static Tensor rsqrtAsGiven(Tensor x) {
        NDArray out = x.data().rsqrt();
        return Recorder.record("rsqrt", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> {
                try (NDArray y3 = y.pow(3.0); NDArray d = y3.mul(-0.5)) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    /** d (1/x) = -y^2. */
    static Tensor reciprocal(Tensor x) {
        NDArray out = x.data().reciprocal();
        return Recorder.record("reciprocal", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> {
                try (NDArray y2 = y.square(); NDArray d = y2.neg()) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    static Tensor square(Tensor x) {
        return Recorder.record("square", x.data().square(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray d = xv.mul(2.0)) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    static Tensor sin(Tensor x) {
        return Recorder.record("sin", x.data().sin(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray d = xv.cos()) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    static Tensor cos(Tensor x) {
        return Recorder.record("cos", x.data().cos(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray sn = xv.sin(); NDArray d = sn.neg()) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    /** Gradient 1 inside [min, max] and 0 outside; NaN bounds are open. */
    static Tensor clamp(Tensor x, double min, double max) {
        return Recorder.record("clamp", x.data().clamp(min, max), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                NDArray inside = null;
                try {
                    if (!Double.isNaN(min)) inside = xv.ge(min);
                    if (!Double.isNaN(max)) {
                        try (NDArray le = xv.le(max)) {
                            inside = inside == null ? le.share() : replaceAnd(inside, le);
                        }
                    }
                    if (inside == null) return new NDArray[] {g.share()};
                    try (NDArray m = inside.to(g.dtype())) {
                        return new NDArray[] {g.mul(m)};
                    }
                } finally {
                    if (inside != null) inside.close();
                }
            };
        });
    }

    private static NDArray replaceAnd(NDArray a, NDArray b) {
        try (a) {
            return a.logicalAnd(b);
        }
    }

    // ------------------------------------------------------------------ activations

    static Tensor relu(Tensor x) {
        return Recorder.record("relu", x.data().relu(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> new NDArray[] {g.binary(BinaryOp.RELU_BACKWARD, xv)};
        });
    }

    static Tensor sigmoid(Tensor x) {
        NDArray out = x.data().sigmoid();
        return Recorder.record("sigmoid", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> new NDArray[] {g.binary(BinaryOp.SIGMOID_BACKWARD, y)};
        });
    }

    static Tensor tanh(Tensor x) {
        NDArray out = x.data().tanh();
        return Recorder.record("tanh", out, x, s -> {
            NDArray y = s.save(out);
            return (g, need) -> new NDArray[] {g.binary(BinaryOp.TANH_BACKWARD, y)};
        });
    }

    /** GELU in its exact (erf) form. */
    static Tensor gelu(Tensor x) {
        return Recorder.record("gelu", x.data().gelu(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> new NDArray[] {g.binary(BinaryOp.GELU_BACKWARD, xv)};
        });
    }

    /** Slope 1 for x > 0, {@code slope} elsewhere. */
    static Tensor leakyRelu(Tensor x, double slope) {
        return Recorder.record("leakyRelu", x.data().leakyRelu(slope), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray pos = xv.gt(0); NDArray scaled = g.mul(slope)) {
                    return new NDArray[] {NDArray.where(pos, g, scaled)};
                }
            };
        });
    }

    /** For x <= 0, y = alpha (e^x - 1), so dy/dx = y + alpha. */
    static Tensor elu(Tensor x, double alpha) {
        NDArray out = x.data().elu(alpha);
        return Recorder.record("elu", out, x, s -> {
            NDArray xv = s.save(x.data());
            NDArray y = s.save(out);
            return (g, need) -> {
                try (NDArray pos = xv.gt(0); NDArray d = y.add(alpha); NDArray neg = g.mul(d)) {
                    return new NDArray[] {NDArray.where(pos, g, neg)};
                }
            };
        });
    }
}
