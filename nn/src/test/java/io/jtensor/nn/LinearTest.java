package io.jtensor.nn;

import static io.jtensor.nn.NnTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

class LinearTest {
    @Test void forwardIsXTimesWTransposedPlusBias() {
        Linear lin = new Linear(3, 2);
        double[] w = {0.5, -1, 2, 0.25, 0.75, -0.5};
        double[] b = {0.1, -0.2};
        NnTesting.set(lin.weight(), w);
        NnTesting.set(lin.bias(), b);
        double[] x = {1, 2, 3, -1, 0.5, 4};
        Tensor y = lin.forward(Tensor.of(x, 2, 3));
        assertArrayEquals(new long[] {2, 2}, y.shape());
        double[] expected = new double[4];
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 2; o++) {
                double s = b[o];
                for (int i = 0; i < 3; i++) s += x[n * 3 + i] * w[o * 3 + i];
                expected[n * 2 + o] = s;
            }
        }
        assertClose(expected, y, 1e-6, "linear");
    }

    @Test void leadingDimsArePreserved() {
        Linear lin = new Linear(4, 5, false);
        assertNull(lin.bias());
        Tensor y = lin.forward(NnTesting.f32(1, 2, 3, 4));
        assertArrayEquals(new long[] {2, 3, 5}, y.shape());
    }

    @Test void defaultInitStaysWithinOneOverSqrtFanIn() {
        Linear lin = new Linear(16, 8, true, new Generator(3));
        double bound = 1 / Math.sqrt(16);
        double maxAbs = 0;
        for (double v : lin.weight().toDoubleArray()) maxAbs = Math.max(maxAbs, Math.abs(v));
        for (double v : lin.bias().toDoubleArray()) assertTrue(Math.abs(v) <= bound);
        assertTrue(maxAbs <= bound, "max |w| " + maxAbs);
        assertTrue(maxAbs > bound / 2, "weights should spread over the range, max |w| " + maxAbs);
    }

    @Test void wrongInputWidthIsNamed() {
        Linear lin = new Linear(3, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> lin.forward(NnTesting.f32(1, 2, 4)));
        assertTrue(e.getMessage().contains("linear"), e.getMessage());
    }

    @Test void gradientsMatchFiniteDifferences() {
        Linear lin = new Linear(3, 2, true, new Generator(5));
        NnTesting.gradCheckModule(lin, NnTesting.f64(2, 4, 3));
    }
}
