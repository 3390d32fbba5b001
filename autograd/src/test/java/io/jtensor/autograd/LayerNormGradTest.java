package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The fused layer norm's rule against finite differences (F64), and its value against the composed ops. */
class LayerNormGradTest {
    @Test void inputOnly() { gradcheck(in -> in.get(0).layerNorm(1, null, null, 1e-5), randn(1, 3, 6)); }

    @Test void withWeightAndBias() {
        gradcheck(in -> in.get(0).layerNorm(1, in.get(1), in.get(2), 1e-5), randn(2, 4, 5), randn(3, 5), randn(4, 5));
    }

    @Test void overTwoTrailingDimsWithWeightOnly() {
        gradcheck(in -> in.get(0).layerNorm(2, in.get(1), null, 1e-5), randn(5, 2, 3, 4), randn(6, 3, 4));
    }

    @Test void biasOnlyAndTransposedInput() {
        gradcheck(in -> in.get(0).t().layerNorm(1, null, in.get(1), 1e-5), randn(7, 5, 3), randn(8, 5));
    }

    @Test void valueMatchesComposedOps() {
        Tensor x = randn(9, 4, 7), w = randn(10, 7), b = randn(11, 7);
        Tensor mean = x.mean(1, true);
        Tensor c = x.sub(mean);
        Tensor composed = c.mul(c.square().mean(1, true).add(1e-5).rsqrt()).mul(w).add(b);
        assertClose(composed.toDoubleArray(), x.layerNorm(1, w, b, 1e-5).toDoubleArray(), 1e-12);
    }

    @Test void rejectsTooManyDims() {
        var e = assertThrows(IllegalArgumentException.class, () -> randn(1, 2, 3).layerNorm(3, null, null, 1e-5));
        assertTrue(e.getMessage().startsWith("layerNorm:"), e.getMessage());
    }
}
