package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.DType;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

class EmbeddingTest {
    @Test void looksUpRowsForIdsOfAnyShape() {
        Embedding e = new Embedding(4, 3);
        double[] w = {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32};
        NnTesting.set(e.weight(), w);
        Tensor y = e.forward(Tensor.of(new long[] {3, 0, 1, 3}, 2, 2));
        assertArrayEquals(new long[] {2, 2, 3}, y.shape());
        NnTesting.assertClose(new double[] {30, 31, 32, 0, 1, 2, 10, 11, 12, 30, 31, 32}, y, 0, "rows");
    }

    @Test void gradientsAddUpPerRowAndSkipThePaddingRow() {
        Embedding e = new Embedding(4, 2, 1L, new Generator(3));
        NnTesting.assertClose(new double[] {0, 0}, e.weight().data().select(0, 1).toDoubleArray(), 0, "padding row starts at zero");
        e.forward(Tensor.of(new long[] {2, 1, 2, 0}, 4)).sum().backward();
        // Row 2 was used twice, row 0 once, row 1 is padding, row 3 unused.
        NnTesting.assertClose(new double[] {1, 1, 0, 0, 2, 2, 0, 0}, e.weight().grad(), 0, "row gradients");
    }

    @Test void gradCheckWithRespectToTheTable() {
        Embedding e = new Embedding(5, 3, null, new Generator(2));
        NnTesting.gradCheckModule(e, Tensor.of(new long[] {4, 0, 4, 2, 1, 1}, 2, 3));
        e.to(DType.F32);
        assertThrows(IllegalArgumentException.class, () -> e.forward(NnTesting.f32(1, 3)));
    }
}
