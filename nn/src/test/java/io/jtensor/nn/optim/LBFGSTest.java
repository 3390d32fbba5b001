package io.jtensor.nn.optim;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class LBFGSTest {
    /** Rosenbrock's banana (1-x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1). */
    private static DoubleSupplier rosenbrock(Tensor w, Optimizer opt) {
        return () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                opt.zeroGrad();
                Tensor x = w.select(0, 0), y = w.select(0, 1);
                Tensor f = x.rsub(1).square().add(y.sub(x.square()).square().mul(100));
                f.backward();
                return f.item();
            }
        };
    }

    private static double rosenbrockAt(double[] v) {
        double x = v[0], y = v[1];
        return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
    }

    @Test void strongWolfeMinimisesRosenbrock() {
        try (Tensor w = Tensor.of(new double[] {-1.5, 2.0}, 2).requiresGrad(true);
             LBFGS opt = new LBFGS(List.of(w), 1, 50, 80, 1e-10, 1e-12, 10, true)) {
            DoubleSupplier closure = rosenbrock(w, opt);
            for (int i = 0; i < 10 && rosenbrockAt(w.toDoubleArray()) >= 1e-12; i++) opt.step(closure);
            double[] v = w.toDoubleArray();
            assertTrue(rosenbrockAt(v) < 1e-6, "f = " + rosenbrockAt(v) + " at " + v[0] + ", " + v[1]);
            assertEquals(1.0, v[0], 1e-3);
            assertEquals(1.0, v[1], 2e-3);
            assertTrue(opt.funcEvals() < 400, "evaluations: " + opt.funcEvals());
        }
    }

    @Test void fixedStepConvergesOnAQuadratic() {
        try (Tensor p = Quadratic.param(io.jtensor.DType.F64, true); LBFGS opt = new LBFGS(List.of(p), 1, 20, 25, 1e-10, 1e-14, 10, false)) {
            DoubleSupplier closure = () -> Quadratic.backward(p);
            double first = opt.step(closure);
            double f0 = 0;
            for (int i = 0; i < 4; i++) f0 += 0.5 * Quadratic.A[i] * Math.pow(Quadratic.W0[i] - Quadratic.C[i], 2);
            assertEquals(f0, first, 1e-12, "step returns the loss at the starting point");
            for (int i = 0; i < 3; i++) opt.step(closure);
            assertArrayEquals(Quadratic.C, Quadratic.values(p), 1e-6);
        }
    }

    @Test void cubicInterpolationFindsTheMinimumOfAQuadratic() {
        // f(x) = (x - 2)^2 sampled at 0 and 3 with its slopes.
        assertEquals(2.0, LBFGS.cubicMin(0, 4, -4, 3, 1, 2, 0, 3), 1e-12);
        assertEquals(2.0, LBFGS.cubicMin(3, 1, 2, 0, 4, -4, 0, 3), 1e-12);
        // Clamped to the bounds.
        assertEquals(2.5, LBFGS.cubicMin(0, 4, -4, 3, 1, 2, 2.5, 3), 1e-12);
    }

    @Test void stateRoundTripContinuesTheSameRun() {
        try (Tensor w = Tensor.of(new double[] {-1.5, 2.0}, 2).requiresGrad(true);
             LBFGS a = new LBFGS(List.of(w), 1, 4, 10, 1e-10, 1e-12, 5, true)) {
            a.step(rosenbrock(w, a));
            a.step(rosenbrock(w, a));
            Map<String, NDArray> sd = a.stateDict();
            try (Tensor w2 = Tensor.wrap(w.data().copy()).requiresGrad(true);
                 LBFGS b = new LBFGS(List.of(w2), 1, 4, 10, 1e-10, 1e-12, 5, true)) {
                b.loadStateDict(sd);
                sd.values().forEach(NDArray::close);
                a.step(rosenbrock(w, a));
                b.step(rosenbrock(w2, b));
                assertArrayEquals(w.toDoubleArray(), w2.toDoubleArray(), 0.0);
                assertEquals(a.funcEvals(), b.funcEvals());
            }
        }
    }

    @Test void stepWithoutClosureIsRefused() {
        try (Tensor w = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true); LBFGS opt = new LBFGS(List.of(w), true)) {
            var e = assertThrows(UnsupportedOperationException.class, opt::step);
            assertTrue(e.getMessage().contains("closure"));
        }
    }
}
