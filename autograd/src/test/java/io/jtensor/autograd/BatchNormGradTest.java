package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The fused batch norm's rule against finite differences (F64), and its values against the composed ops. */
class BatchNormGradTest {
    private static Tensor out(Tensor x, Tensor w, Tensor b) {
        try (BatchNormResult r = x.batchNorm(w, b, 1e-5)) {
            return r.out();
        }
    }

    @Test void inputOnly() { gradcheck(in -> out(in.get(0), null, null), randn(1, 4, 3, 5)); }

    @Test void withWeightAndBias() {
        gradcheck(in -> out(in.get(0), in.get(1), in.get(2)), randn(2, 3, 4, 2, 3), randn(3, 4), randn(4, 4));
    }

    @Test void twoDimInputWeightOnlyAndBiasOnly() {
        gradcheck(in -> out(in.get(0), in.get(1), null), randn(5, 6, 3), randn(6, 3));
        gradcheck(in -> out(in.get(0).t(), null, in.get(1)), randn(7, 3, 6), randn(8, 3));
    }

    @Test void valuesMatchComposedOps() {
        Tensor x = randn(9, 5, 3, 4), w = randn(10, 3), b = randn(11, 3);
        int[] dims = {0, 2};
        Tensor mean = x.mean(dims, true);
        Tensor c = x.sub(mean);
        Tensor var = c.square().mean(dims, true);
        Tensor composed = c.mul(var.add(1e-5).rsqrt()).mul(w.reshape(1, 3, 1)).add(b.reshape(1, 3, 1));
        try (BatchNormResult r = x.batchNorm(w, b, 1e-5)) {
            assertClose(composed.toDoubleArray(), r.out().toDoubleArray(), 1e-12);
            assertClose(mean.toDoubleArray(), r.mean().toDoubleArray(), 1e-12);
            assertClose(var.toDoubleArray(), r.var().toDoubleArray(), 1e-12);
        }
    }
}
