package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    @Test void normalisesEachSampleOverTheTrailingDims() {
        LayerNorm ln = new LayerNorm(new long[] {2, 3}, 1e-5, true);
        double[] w = {1, 2, 0.5, -1, 1.5, 1}, b = {0, 0.1, -0.1, 0.2, 0, 0.3};
        NnTesting.set(ln.weight(), w);
        NnTesting.set(ln.bias(), b);
        double[] x = NnTesting.values(9, 12); // [2, 2, 3]
        double[] expected = new double[12];
        for (int n = 0; n < 2; n++) {
            double mean = 0, var = 0;
            for (int i = 0; i < 6; i++) mean += x[n * 6 + i] / 6;
            for (int i = 0; i < 6; i++) var += Math.pow(x[n * 6 + i] - mean, 2) / 6;
            for (int i = 0; i < 6; i++) expected[n * 6 + i] = (x[n * 6 + i] - mean) / Math.sqrt(var + 1e-5) * w[i] + b[i];
        }
        NnTesting.assertClose(expected, ln.forward(Tensor.of(x, 2, 2, 3)), 1e-5, "layer norm");
        ln.eval();
        NnTesting.assertClose(expected, ln.forward(Tensor.of(x, 2, 2, 3)), 1e-5, "same in eval");
    }

    @Test void gradientsMatchFiniteDifferences() {
        LayerNorm ln = new LayerNorm(4);
        NnTesting.set(ln.weight(), 1, 0.5, 2, -1);
        NnTesting.set(ln.bias(), 0.1, 0.2, 0.3, 0.4);
        NnTesting.gradCheckModule(ln, NnTesting.f64(3, 3, 4));
    }

    @Test void wrongTrailingShapeIsNamed() {
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(4).forward(NnTesting.f32(1, 2, 3)));
    }
}
