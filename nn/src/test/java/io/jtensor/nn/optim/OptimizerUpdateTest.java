package io.jtensor.nn.optim;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.autograd.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each optimizer's first three steps on {@link Quadratic}, against the update rules of PyTorch's documentation
 * written out here in double. Parameters are F64 (contiguous: the fused CPU loop; transposed: the composed
 * NDArray path) and F32.
 */
class OptimizerUpdateTest {
    /** One optimizer configuration and a maker of its (stateful) reference. */
    record Case(String name, Function<Tensor, Optimizer> make, Supplier<Reference> ref) {
        @Override public String toString() { return name; }
    }

    interface Reference {
        double[] step(double[] w, double[] g, int t);
    }

    // ------------------------------------------------------------------ references, per PyTorch's docs

    static Reference sgd(double lr, double momentum, double dampening, double wd, boolean nesterov) {
        return new Reference() {
            double[] b;

            public double[] step(double[] w, double[] g0, int t) {
                double[] g = g0.clone(), out = w.clone();
                for (int i = 0; i < w.length; i++) g[i] += wd * w[i];
                if (momentum != 0) {
                    if (t == 1) b = g.clone();
                    else for (int i = 0; i < w.length; i++) b[i] = momentum * b[i] + (1 - dampening) * g[i];
                    for (int i = 0; i < w.length; i++) g[i] = nesterov ? g[i] + momentum * b[i] : b[i];
                }
                for (int i = 0; i < w.length; i++) out[i] = w[i] - lr * g[i];
                return out;
            }
        };
    }

    static Reference adam(double lr, double b1, double b2, double eps, double wd, boolean decoupled, boolean amsgrad) {
        return new Reference() {
            double[] m = new double[4], v = new double[4], vmax = new double[4];

            public double[] step(double[] w, double[] g0, int t) {
                double[] g = g0.clone(), out = w.clone();
                for (int i = 0; i < w.length; i++) {
                    if (decoupled) out[i] = w[i] - lr * wd * w[i];
                    else g[i] += wd * w[i];
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    double mhat = m[i] / (1 - Math.pow(b1, t));
                    double vhat;
                    if (amsgrad) {
                        vmax[i] = Math.max(vmax[i], v[i]);
                        vhat = vmax[i] / (1 - Math.pow(b2, t));
                    } else {
                        vhat = v[i] / (1 - Math.pow(b2, t));
                    }
                    out[i] = out[i] - lr * mhat / (Math.sqrt(vhat) + eps);
                }
                return out;
            }
        };
    }

    static Reference rmsprop(double lr, double alpha, double eps, double wd, double momentum, boolean centered) {
        return new Reference() {
            double[] sq = new double[4], ga = new double[4], buf = new double[4];

            public double[] step(double[] w, double[] g0, int t) {
                double[] g = g0.clone(), out = w.clone();
                for (int i = 0; i < w.length; i++) {
                    g[i] += wd * w[i];
                    sq[i] = alpha * sq[i] + (1 - alpha) * g[i] * g[i];
                    double vt = sq[i];
                    if (centered) {
                        ga[i] = alpha * ga[i] + (1 - alpha) * g[i];
                        vt = vt - ga[i] * ga[i];
                    }
                    if (momentum > 0) {
                        buf[i] = momentum * buf[i] + g[i] / (Math.sqrt(vt) + eps);
                        out[i] = w[i] - lr * buf[i];
                    } else {
                        out[i] = w[i] - lr * g[i] / (Math.sqrt(vt) + eps);
                    }
                }
                return out;
            }
        };
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("sgd", p -> new SGD(List.of(p), 0.1), () -> sgd(0.1, 0, 0, 0, false)),
                new Case("sgd-wd", p -> new SGD(List.of(p), 0.1, 0, 0, 0.05, false), () -> sgd(0.1, 0, 0, 0.05, false)),
                new Case("sgd-momentum-dampening", p -> new SGD(List.of(p), 0.1, 0.9, 0.3, 0.01, false), () -> sgd(0.1, 0.9, 0.3, 0.01, false)),
                new Case("sgd-nesterov-wd", p -> new SGD(List.of(p), 0.05, 0.8, 0, 0.1, true), () -> sgd(0.05, 0.8, 0, 0.1, true)),
                new Case("adam", p -> new Adam(List.of(p), 0.1), () -> adam(0.1, 0.9, 0.999, 1e-8, 0, false, false)),
                new Case("adam-wd-amsgrad", p -> new Adam(List.of(p), 0.05, 0.8, 0.99, 1e-6, 0.1, true), () -> adam(0.05, 0.8, 0.99, 1e-6, 0.1, false, true)),
                new Case("adamw", p -> new AdamW(List.of(p), 0.1, 0.5), () -> adam(0.1, 0.9, 0.999, 1e-8, 0.5, true, false)),
                new Case("rmsprop", p -> new RMSprop(List.of(p), 0.01), () -> rmsprop(0.01, 0.99, 1e-8, 0, 0, false)),
                new Case("rmsprop-centered-momentum-wd", p -> new RMSprop(List.of(p), 0.01, 0.9, 1e-6, 0.1, 0.7, true),
                        () -> rmsprop(0.01, 0.9, 1e-6, 0.1, 0.7, true)));
    }

    static Stream<Arguments> casesAndLayouts() {
        return cases().flatMap(c -> Stream.of(
                Arguments.of(c, DType.F64, true, 1e-12),
                Arguments.of(c, DType.F64, false, 1e-12),
                Arguments.of(c, DType.F32, true, 2e-5)));
    }

    @ParameterizedTest(name = "{0} {1} contiguous={2}")
    @MethodSource("casesAndLayouts")
    void firstThreeStepsFollowPyTorchsRules(Case c, DType dtype, boolean contiguous, double tol) {
        try (Tensor p = Quadratic.param(dtype, contiguous); Optimizer opt = c.make().apply(p)) {
            Reference ref = c.ref().get();
            double[] w = Quadratic.W0.clone();
            for (int t = 1; t <= 3; t++) {
                Quadratic.backward(p);
                assertArrayEquals(Quadratic.grad(Quadratic.values(p)), p.grad().data().toDoubleArray(), 1e-5,
                        "autograd gradient at step " + t);
                // The reference steps from its own (double) weights with the hand gradient.
                w = ref.step(w, Quadratic.grad(w), t);
                opt.step();
                double[] got = Quadratic.values(p);
                for (int i = 0; i < w.length; i++) {
                    assertEquals(w[i], got[i], tol * Math.max(1, Math.abs(w[i])), c + " step " + t + " element " + i);
                }
            }
            assertFalse(p.data().isContiguous() && !contiguous, "update must keep the parameter's own storage and layout");
        }
    }
}
