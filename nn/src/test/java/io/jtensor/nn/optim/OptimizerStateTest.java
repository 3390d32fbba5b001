package io.jtensor.nn.optim;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Saving and restoring optimizer state, parameter groups, zeroGrad and option checks. */
class OptimizerStateTest {
    record Maker(String name, Function<Tensor, Optimizer> make) {
        @Override public String toString() { return name; }
    }

    static Stream<Maker> makers() {
        return Stream.of(
                new Maker("sgd-nesterov", p -> new SGD(List.of(p), 0.05, 0.9, 0, 0.01, true)),
                new Maker("adam-amsgrad", p -> new Adam(List.of(p), 0.05, 0.9, 0.99, 1e-8, 0.01, true)),
                new Maker("adamw", p -> new AdamW(List.of(p), 0.05)),
                new Maker("rmsprop-centered", p -> new RMSprop(List.of(p), 0.01, 0.9, 1e-8, 0, 0.5, true)));
    }

    /** Two steps, save, load into a fresh optimizer over a copy of the parameter: the third step is identical. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("makers")
    void stateRoundTripGivesTheSameNextStep(Maker m) {
        try (Tensor p = Quadratic.param(DType.F64, true); Optimizer a = m.make().apply(p)) {
            for (int i = 0; i < 2; i++) {
                Quadratic.backward(p);
                a.step();
            }
            Map<String, NDArray> sd = a.stateDict();
            try (Tensor q = Tensor.wrap(p.data().copy()).requiresGrad(true); Optimizer b = m.make().apply(q)) {
                b.loadStateDict(sd);
                sd.values().forEach(NDArray::close); // b must hold its own copies
                Quadratic.backward(p);
                Quadratic.backward(q);
                a.step();
                b.step();
                assertArrayEquals(Quadratic.values(p), Quadratic.values(q), 0.0, "the restored optimizer takes the same step");
                // And the step counts came along: a fresh optimizer would have taken a different (first) step.
                try (Tensor r = Tensor.wrap(p.data().copy()).requiresGrad(true); Optimizer fresh = m.make().apply(r)) {
                    Quadratic.backward(p);
                    Quadratic.backward(r);
                    a.step();
                    fresh.step();
                    assertFalse(java.util.Arrays.equals(Quadratic.values(p), Quadratic.values(r)), "state matters for this check");
                }
            }
        }
    }

    @Test void stateDictHoldsOptionsCountsAndBuffersUnderPyTorchNames() {
        try (Tensor p = Quadratic.param(DType.F64, true); Adam a = new Adam(List.of(p), 0.01)) {
            Quadratic.backward(p);
            a.step();
            Map<String, NDArray> sd = a.stateDict();
            try {
                assertEquals(0.01, sd.get("param_groups.0.lr").item());
                assertEquals(1.0, sd.get("param_groups.0.count").item());
                assertEquals(1.0, sd.get("state.0.step").item());
                double[] g = Quadratic.grad(Quadratic.W0);
                double[] m = sd.get("state.0.exp_avg").toDoubleArray();
                for (int i = 0; i < 4; i++) assertEquals(0.1 * g[i], m[i], 1e-12);
            } finally {
                sd.values().forEach(NDArray::close);
            }
        }
    }

    @Test void loadingStateOfTheWrongShapeFailsNamingTheKeyAndLeavesStateAlone() {
        try (Tensor p = Quadratic.param(DType.F64, true); Tensor small = Tensor.zeros(DType.F64, io.jtensor.Device.cpu(), 3).requiresGrad(true);
             SGD a = new SGD(List.of(p), 0.1, 0.9); SGD b = new SGD(List.of(small), 0.1, 0.9)) {
            Quadratic.backward(p);
            a.step();
            Map<String, NDArray> sd = a.stateDict();
            var e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(sd));
            assertTrue(e.getMessage().contains("state.0.momentum_buffer"), e.getMessage());
            assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("[3]"), e.getMessage());
            sd.values().forEach(NDArray::close);
        }
    }

    @Test void loadingAnotherOptimizersStateIsRefused() {
        try (Tensor p = Quadratic.param(DType.F64, true); SGD sgd = new SGD(List.of(p), 0.1, 0.9); Adam adam = new Adam(List.of(p), 0.1)) {
            Quadratic.backward(p);
            sgd.step();
            Map<String, NDArray> sd = sgd.stateDict();
            var e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(sd));
            assertTrue(e.getMessage().contains("another optimizer") && e.getMessage().contains("Adam"), e.getMessage());
            sd.values().forEach(NDArray::close);
        }
    }

    @Test void groupsHaveTheirOwnLearningRatesAndFallBackToDefaults() {
        try (Tensor p1 = Quadratic.param(DType.F64, true); Tensor p2 = Quadratic.param(DType.F64, true)) {
            ParamGroup fast = new ParamGroup(List.of(p1)).set(ParamGroup.LR, 0.5);
            ParamGroup slow = new ParamGroup(List.of(p2));
            try (SGD opt = new SGD(List.of(fast, slow), 0.1, 0, 0, 0, false)) {
                assertEquals(0.5, opt.paramGroups().get(0).lr());
                assertEquals(0.1, opt.paramGroups().get(1).lr());
                Quadratic.backward(p1);
                Quadratic.backward(p2);
                opt.step();
                double[] g = Quadratic.grad(Quadratic.W0);
                double[] v1 = Quadratic.values(p1), v2 = Quadratic.values(p2);
                for (int i = 0; i < 4; i++) {
                    assertEquals(Quadratic.W0[i] - 0.5 * g[i], v1[i], 1e-12);
                    assertEquals(Quadratic.W0[i] - 0.1 * g[i], v2[i], 1e-12);
                }
            }
        }
    }

    @Test void zeroGradDropsGradientsAndStepSkipsParametersWithoutOne() {
        try (Tensor p = Quadratic.param(DType.F64, true); SGD opt = new SGD(List.of(p), 0.1)) {
            Quadratic.backward(p);
            assertNotNull(p.grad());
            opt.zeroGrad();
            assertNull(p.grad());
            opt.step();
            assertArrayEquals(Quadratic.W0, Quadratic.values(p), 0.0);
        }
    }

    @Test void badOptionsAreRejectedWithTheirNames() {
        try (Tensor p = Quadratic.param(DType.F64, true)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(p), 0.1, 0, 0, 0, true));
            assertTrue(e.getMessage().contains("Nesterov"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(p), -1));
            assertTrue(e.getMessage().contains("lr"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(p), 0.1, 1.0, 0.999, 1e-8, 0, false));
            assertTrue(e.getMessage().contains("beta1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(p, p), 0.1));
            assertTrue(e.getMessage().contains("more than one group"), e.getMessage());
        }
    }
}
