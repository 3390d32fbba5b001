package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

class DropoutTest {
    @Test void zeroesAboutPAndScalesTheRestInTraining() {
        Dropout d = new Dropout(0.3, new Generator(11));
        int n = 20000;
        double[] ones = new double[n];
        java.util.Arrays.fill(ones, 1.0);
        double[] y = d.forward(Tensor.of(ones, n)).toDoubleArray();
        int zeros = 0;
        for (double v : y) {
            if (v == 0) zeros++;
            else assertEquals(1 / 0.7, v, 1e-12, "kept values are scaled by 1/(1-p)");
        }
        // Binomial(20000, 0.3): standard deviation ~65, so 5 sigma is ~325.
        assertEquals(0.3 * n, zeros, 325);
    }

    @Test void isTheIdentityInEval() {
        Dropout d = new Dropout(0.9);
        d.eval();
        Tensor x = NnTesting.f64(1, 4, 5);
        NnTesting.assertClose(x.toDoubleArray(), d.forward(x), 0, "eval");
    }

    @Test void seededMasksRepeatAndGradientsFollowTheMask() {
        Generator g = new Generator(5);
        Dropout d = new Dropout(0.5, g);
        double[] a = d.forward(NnTesting.f64(1, 30)).toDoubleArray();
        g.setSeed(5);
        double[] b = d.forward(NnTesting.f64(1, 30)).toDoubleArray();
        NnTesting.assertClose(a, b, 0, "same seed, same mask");
        boolean anyZero = false;
        for (double v : a) anyZero |= v == 0;
        assertTrue(anyZero);
        NnTesting.gradCheckModule(d, d::forward, NnTesting.f64(2, 3, 4), () -> g.setSeed(7));
    }

    @Test void pOneDropsEverythingAndPZeroNothing() {
        Tensor x = NnTesting.f64(3, 10);
        NnTesting.assertClose(new double[10], new Dropout(1.0).forward(x), 0, "p=1");
        NnTesting.assertClose(x.toDoubleArray(), new Dropout(0.0).forward(x), 0, "p=0");
    }
}
