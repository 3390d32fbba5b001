package io.jtensor.nn;

import static io.jtensor.nn.NnTesting.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.autograd.Tensor;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class ActivationTest {
    private static final double[] X = {-2, -1.5, -0.3, 0.2, 0.7, 1.9};

    private static void checkElementwise(Module m, DoubleUnaryOperator f) {
        double[] expected = new double[X.length];
        for (int i = 0; i < X.length; i++) expected[i] = f.applyAsDouble(X[i]);
        assertClose(expected, m.forward(Tensor.of(X, 2, 3)), 1e-12, m.getClass().getSimpleName());
        NnTesting.gradCheckModule(m, NnTesting.f64(4, 2, 3));
    }

    /** erf by its Taylor series, exact to double precision for |x| <= 3. */
    private static double erf(double x) {
        double sum = 0, term = x;
        for (int n = 0; n < 80; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    @Test void relu() { checkElementwise(new ReLU(), x -> Math.max(0, x)); }
    @Test void leakyRelu() { checkElementwise(new LeakyReLU(0.1), x -> x >= 0 ? x : 0.1 * x); }
    @Test void elu() { checkElementwise(new ELU(0.7), x -> x > 0 ? x : 0.7 * (Math.exp(x) - 1)); }
    @Test void sigmoid() { checkElementwise(new Sigmoid(), x -> 1 / (1 + Math.exp(-x))); }
    @Test void tanh() { checkElementwise(new Tanh(), Math::tanh); }
    @Test void geluExact() { checkElementwise(new GELU(), x -> x * 0.5 * (1 + erf(x / Math.sqrt(2)))); }

    @Test void geluTanhApproximation() {
        checkElementwise(new GELU(true), x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))));
    }

    @Test void softmaxAndLogSoftmaxAlongADim() {
        double[] expected = new double[6], expectedLog = new double[6];
        for (int r = 0; r < 2; r++) {
            double z = 0;
            for (int c = 0; c < 3; c++) z += Math.exp(X[r * 3 + c]);
            for (int c = 0; c < 3; c++) {
                expected[r * 3 + c] = Math.exp(X[r * 3 + c]) / z;
                expectedLog[r * 3 + c] = X[r * 3 + c] - Math.log(z);
            }
        }
        assertClose(expected, new Softmax(1).forward(Tensor.of(X, 2, 3)), 1e-12, "softmax");
        assertClose(expectedLog, new LogSoftmax(-1).forward(Tensor.of(X, 2, 3)), 1e-12, "logSoftmax");
        NnTesting.gradCheckModule(new Softmax(0), NnTesting.f64(1, 2, 3));
        NnTesting.gradCheckModule(new LogSoftmax(1), NnTesting.f64(1, 2, 3));
    }

    @Test void preluWithOneSharedSlope() {
        PReLU p = new PReLU();
        assertEquals(0.25, p.weight().item(), 0);
        checkElementwise(p, x -> x >= 0 ? x : 0.25 * x);
    }

    @Test void preluWithOneSlopePerChannelLearnsItsSlopes() {
        PReLU p = new PReLU(3, 0.25);
        NnTesting.set(p.weight(), 0.1, 0.2, 0.3);
        // [N=2, C=3, L=2]
        double[] x = {-1, 2, -3, -4, 5, -6, 1, -1, -2, 2, -0.5, 0.5};
        double[] expected = new double[12];
        for (int i = 0; i < 12; i++) {
            double a = 0.1 * (1 + (i / 2) % 3);
            expected[i] = x[i] >= 0 ? x[i] : a * x[i];
        }
        assertClose(expected, p.forward(Tensor.of(x, 2, 3, 2)), 1e-6, "per-channel prelu");
        NnTesting.gradCheckModule(p, NnTesting.f64(8, 2, 3, 2));
    }

    @Test void maxoutTakesTheMaxOfEachGroupOfPieces() {
        // [N=2, C*k = 6] with k = 3: groups {0,1,2} and {3,4,5}.
        double[] x = {1, 5, 2, -1, -3, -2, 0, -1, 4, 7, 8, 6};
        Tensor y = new Maxout(3).forward(Tensor.of(x, 2, 6));
        assertArrayEquals(new long[] {2, 2}, y.shape());
        assertClose(new double[] {5, -1, 4, 8}, y, 0, "maxout");
        // Channels of a feature map: [1, 4, 1, 2] with k = 2 -> [1, 2, 1, 2].
        Tensor z = new Maxout(2).forward(Tensor.of(new double[] {1, 9, 3, 2, 5, 0, 4, 8}, 1, 4, 1, 2));
        assertClose(new double[] {3, 9, 5, 8}, z, 0, "maxout over channels");
        NnTesting.gradCheckModule(new Maxout(2), NnTesting.f64(3, 2, 6));
        assertThrows(IllegalArgumentException.class, () -> new Maxout(4).forward(Tensor.of(x, 2, 6)));
    }

    @Test void flattenAndIdentity() {
        Tensor x = NnTesting.f32(2, 2, 3, 4, 5);
        assertArrayEquals(new long[] {2, 60}, new Flatten().forward(x).shape());
        assertArrayEquals(new long[] {2, 12, 5}, new Flatten(1, 2).forward(x).shape());
        assertClose(x.toDoubleArray(), new Identity().forward(x), 0, "identity");
    }
}
