package io.jtensor.nn.optim;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.autograd.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradClipAndPenaltiesTest {
    private static Tensor paramWithGrad(double[] values, double[] grad) {
        Tensor p = Tensor.of(values, values.length).requiresGrad(true);
        try (Tensor g = Tensor.of(grad, grad.length)) {
            p.setGrad(g);
        }
        return p;
    }

    @Test void clipsTheJointTwoNormAndReturnsTheNormBefore() {
        try (Tensor a = paramWithGrad(new double[] {0, 0}, new double[] {3, 4}); Tensor b = paramWithGrad(new double[] {0}, new double[] {12})) {
            double total = GradClip.clipGradNorm(List.of(a, b), 6.5, 2);
            assertEquals(13.0, total, 1e-12); // sqrt(9 + 16 + 144)
            double coef = 6.5 / (13 + 1e-6);
            assertArrayEquals(new double[] {3 * coef, 4 * coef}, a.grad().toDoubleArray(), 1e-12);
            assertArrayEquals(new double[] {12 * coef}, b.grad().toDoubleArray(), 1e-12);
        }
    }

    @Test void leavesSmallGradientsAlone() {
        try (Tensor a = paramWithGrad(new double[] {0, 0}, new double[] {3, 4})) {
            assertEquals(5.0, GradClip.clipGradNorm(List.of(a), 10), 1e-12);
            assertArrayEquals(new double[] {3, 4}, a.grad().toDoubleArray(), 0);
        }
    }

    @Test void infinityAndOneNorms() {
        try (Tensor a = paramWithGrad(new double[] {0, 0}, new double[] {3, -7}); Tensor b = paramWithGrad(new double[] {0}, new double[] {5})) {
            assertEquals(7.0, GradClip.clipGradNorm(List.of(a, b), 100, Double.POSITIVE_INFINITY), 1e-12);
            assertEquals(15.0, GradClip.clipGradNorm(List.of(a, b), 1.5, 1), 1e-12);
            double coef = 1.5 / (15 + 1e-6);
            assertArrayEquals(new double[] {3 * coef, -7 * coef}, a.grad().toDoubleArray(), 1e-12);
        }
    }

    @Test void parametersWithoutGradientsAreSkipped() {
        try (Tensor a = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true)) {
            assertEquals(0.0, GradClip.clipGradNorm(List.of(a), 1));
            assertNull(a.grad());
        }
    }

    @Test void penaltiesHaveTheirDefinitionsValuesAndGradients() {
        double[] w1 = {1.5, -2.0}, w2 = {0.5};
        try (Tensor a = Tensor.of(w1, 2).requiresGrad(true); Tensor b = Tensor.of(w2, 1).requiresGrad(true)) {
            List<Tensor> ps = List.of(a, b);
            Tensor l1 = Penalties.l1(ps, 0.1);
            assertEquals(0.1 * (1.5 + 2.0 + 0.5), l1.item(), 1e-12);
            Tensor l2 = Penalties.l2(ps, 0.2);
            assertEquals(0.1 * (2.25 + 4 + 0.25), l2.item(), 1e-12);
            Tensor en = Penalties.elasticNet(ps, 0.2, 0.25);
            assertEquals(0.2 * (0.25 * 4.0 + 0.75 / 2 * 6.5), en.item(), 1e-12);
            en.backward();
            // d/dw: 0.2 * (0.25 sign(w) + 0.75 w)
            assertArrayEquals(new double[] {0.2 * (0.25 + 0.75 * 1.5), 0.2 * (-0.25 + 0.75 * -2.0)}, a.grad().toDoubleArray(), 1e-12);
            assertArrayEquals(new double[] {0.2 * (0.25 + 0.75 * 0.5)}, b.grad().toDoubleArray(), 1e-12);
            l1.close();
            l2.close();
            en.close();
        }
        assertThrows(IllegalArgumentException.class, () -> Penalties.elasticNet(List.of(), 0.1, 2));
        assertThrows(IllegalArgumentException.class, () -> Penalties.l1(List.of(), 0.1));
    }
}
