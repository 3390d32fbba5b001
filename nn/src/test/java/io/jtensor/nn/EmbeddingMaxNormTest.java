package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Embedding's max_norm against PyTorch 1.13 (Debian's python3-torch 1.13.1, run once, float64): Embedding(5, 3,
 * max_norm=1.5) and (max_norm=1.0, norm_type=1.0) with weight ((i * 37) % 101 - 50) / 20, the lookup and the weight
 * after it. Catches rows rescaled that were not looked up (PyTorch leaves them), a missing 1e-7 in the scale, a
 * repeated id rescaled twice, and the wrong norm.
 */
class EmbeddingMaxNormTest {
    private static Embedding embedding(double maxNorm, double normType) {
        Embedding e = new Embedding(5, 3, null, maxNorm, normType, null);
        e.to(DType.F64);
        double[] v = new double[15];
        for (int i = 0; i < 15; i++) v[i] = ((i * 37) % 101 - 50) / 20.0;
        e.loadStateDict(java.util.Map.of("weight", NDArray.of(v, 5, 3)));
        return e;
    }

    @Test
    void rescalesTheLookedUpRowsAsPyTorchDoes() {
        Embedding e = embedding(1.5, 2);
        Tensor y = e.forward(Tensor.of(new long[] {0, 2, 2, 4}, 2, 2));
        NnTesting.assertClose(new double[] {-1.316600141937701, -0.3423160369038023, 0.6319680681300964, -0.8377985200551974, 0.19548632134621272,
                1.228771162747623, -0.8377985200551974, 0.19548632134621272, 1.228771162747623, -0.31994652419648034, 0.8638556153304969,
                -1.1838021395269773}, y, 1e-12, "lookup");
        NnTesting.assertClose(new double[] {-1.316600141937701, -0.3423160369038023, 0.6319680681300964, -2.0, -0.15, 1.7, -0.8377985200551974,
                0.19548632134621272, 1.228771162747623, -1.0, 0.85, -2.35, -0.31994652419648034, 0.8638556153304969, -1.1838021395269773},
                e.weight(), 1e-12, "weight after the lookup");
        assertEquals("Embedding(5, 3, max_norm=1.5)", e.toString());
    }

    @Test
    void otherNormTypes() {
        Embedding e = embedding(1.0, 1.0);
        NnTesting.assertClose(new double[] {-0.5194805059875194, -0.03896103794906395, 0.44155843008939144, -0.23809523242630395, 0.20238094756235836,
                -0.5595237962018144}, e.forward(Tensor.of(new long[] {1, 3}, 2)), 1e-12, "L1 max_norm lookup");
        assertEquals("Embedding(5, 3, max_norm=1.0, norm_type=1.0)", e.toString());
    }
}
