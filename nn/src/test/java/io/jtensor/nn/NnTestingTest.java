package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The module gradient check must catch a wrong gradient, or the layer tests that rely on it prove nothing. */
class NnTestingTest {
    @Test void aDetachedPathFailsTheModuleGradCheck() {
        Linear lin = new Linear(2, 2);
        // Correct forward values, but the input's path is cut from the graph: its analytic gradient is zero.
        Module cut = new Module() {
            { registerModule("lin", lin); }
            @Override public Tensor forward(Tensor x) { return lin.forward(x.detach()); }
        };
        assertThrows(AssertionFailedError.class, () -> NnTesting.gradCheckModule(cut, NnTesting.f64(1, 3, 2)));
    }

    @Test void aDetachedParameterFailsTheModuleGradCheck() {
        Linear lin = new Linear(2, 2);
        Module cut = new Module() {
            { registerModule("lin", lin); }
            @Override public Tensor forward(Tensor x) { return Functional.linear(x, lin.weight().detach(), lin.bias()); }
        };
        assertThrows(AssertionFailedError.class, () -> NnTesting.gradCheckModule(cut, NnTesting.f64(1, 3, 2)));
    }
}
