package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.assertValues;
import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.iota;
import static io.jtensor.badinput.BadInput.longs;
import static io.jtensor.badinput.BadInput.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Dims and indices outside their range: IndexOutOfBoundsException naming the op, the value and the valid range. */
class OutOfRangeTest {
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    /** Every op that takes a dim, applied to x of shape [2, 3, 4] at dim d. */
    static Stream<Arguments> dimOps() {
        return Stream.<Arguments>of(
                op("sum", (x, d) -> x.sum(d, false)),
                op("sum", (x, d) -> x.sum(new int[] {0, d}, true)),
                op("mean", (x, d) -> x.mean(d, false)),
                op("prod", (x, d) -> x.prod(d, false)),
                op("argmax", (x, d) -> x.argmax(d, false)),
                op("argmin", (x, d) -> x.argmin(d, true)),
                op("max", (x, d) -> x.max(d, false)),
                op("min", (x, d) -> x.min(d, true)),
                op("amax", (x, d) -> x.amax(new int[] {d}, false)),
                op("logsumexp", (x, d) -> x.logsumexp(d, false)),
                op("var", (x, d) -> x.var(d, false)),
                op("std", (x, d) -> x.std(d, false)),
                op("norm", (x, d) -> x.norm(2, new int[] {d}, false)),
                op("softmax", (x, d) -> x.softmax(d)),
                op("logSoftmax", (x, d) -> x.logSoftmax(d)),
                op("transpose", (x, d) -> x.transpose(d, 0)),
                op("transpose", (x, d) -> x.transpose(0, d)),
                op("permute", (x, d) -> x.permute(0, 1, d)),
                op("squeeze", (x, d) -> x.squeeze(d)),
                op("narrow", (x, d) -> x.narrow(d, 0, 1)),
                op("slice", (x, d) -> x.slice(d, 0, 1, 1)),
                op("select", (x, d) -> x.select(d, 0)),
                op("split", (x, d) -> x.split(1L, d)),
                op("split", (x, d) -> x.split(d, 1L, 1L)),
                op("chunk", (x, d) -> x.chunk(2, d)),
                op("flatten", (x, d) -> x.flatten(d, 2)),
                op("flatten", (x, d) -> x.flatten(0, d)),
                op("size", (x, d) -> x.size(d)),
                op("gather", (x, d) -> x.gather(d, NDArray.zeros(DType.I64, Device.cpu(), 1, 1, 1))),
                op("scatterAdd", (x, d) -> x.scatterAdd(d, NDArray.zeros(DType.I64, Device.cpu(), 1, 1, 1), NDArray.zeros(1, 1, 1))),
                op("indexSelect", (x, d) -> x.indexSelect(d, NDArray.zeros(DType.I64, Device.cpu(), 1))),
                op("cat", (x, d) -> NDArray.cat(List.of(x, x), d)));
    }

    private static Arguments op(String name, BiFunction<NDArray, Integer, Object> f) { return Arguments.of(name, f); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dimOps")
    void dimsOutsideTheRankAreRejected(String op, BiFunction<NDArray, Integer, Object> f) {
        NDArray x = iota(2, 3, 4);
        for (int d : new int[] {3, -4, 100, Integer.MIN_VALUE}) {
            fails(IndexOutOfBoundsException.class, () -> f.apply(x, d), op, "dim " + d, "rank 3", "-3..2");
        }
    }

    @Test
    void opsThatAddADimAcceptOneMore() {
        NDArray x = iota(2, 3);
        fails(IndexOutOfBoundsException.class, () -> x.unsqueeze(3), "unsqueeze", "dim 3", "-3..2");
        fails(IndexOutOfBoundsException.class, () -> x.unsqueeze(-4), "unsqueeze", "dim -4", "-3..2");
        fails(IndexOutOfBoundsException.class, () -> NDArray.stack(List.of(x, x), 3), "stack", "dim 3", "-3..2");
        fails(IndexOutOfBoundsException.class, () -> NDArray.stack(List.of(x, x), -4), "stack", "dim -4", "-3..2");
    }

    @Test
    void zeroDimensionalArraysAcceptOnlyDimsZeroAndMinusOne() {
        NDArray s = NDArray.scalar(5, DType.F32, Device.cpu());
        assertValues(new double[] {5}, s.sum(0, false));
        assertValues(new double[] {5}, s.sum(-1, true));
        fails(IndexOutOfBoundsException.class, () -> s.sum(1, false), "sum", "dim 1", "-1..0");
        fails(IndexOutOfBoundsException.class, () -> s.mean(-2, false), "mean", "dim -2", "-1..0");
        fails(IndexOutOfBoundsException.class, () -> s.transpose(0, 2), "transpose", "dim 2");
        fails(IndexOutOfBoundsException.class, () -> s.size(0), "size", "zero-dimensional");
        fails(IndexOutOfBoundsException.class, () -> s.select(0, 0), "select", "zero-dimensional");
        fails(IndexOutOfBoundsException.class, () -> s.narrow(0, 0, 1), "narrow", "zero-dimensional");
    }

    @ParameterizedTest
    @ValueSource(longs = {3, 4, -1, -4, Long.MAX_VALUE, Long.MIN_VALUE})
    void gatherScatterAndIndexSelectRejectIndexValuesOutsideTheDim(long bad) {
        NDArray x = iota(2, 3);
        NDArray idx = longs(new long[] {0, bad}, 2, 1);
        fails(IndexOutOfBoundsException.class, () -> x.gather(1, idx), "gather", "index " + bad, "size 3");
        fails(IndexOutOfBoundsException.class, () -> x.scatterAdd(1, idx, iota(2, 1)), "scatterAdd", "index " + bad, "size 3");
        fails(IndexOutOfBoundsException.class, () -> x.indexSelect(1, longs(new long[] {bad, 0}, 2)), "indexSelect", "index " + bad, "size 3");
        // I32 indices are checked the same way.
        NDArray idx32 = NDArray.of(new int[] {0, 3}, 2, 1);
        fails(IndexOutOfBoundsException.class, () -> x.gather(1, idx32), "gather", "index 3", "size 3");
    }

    @Test
    void embeddingOneHotAndCrossEntropyNameTheirOwnOpForBadIndices() {
        NDArray table = iota(4, 2);
        fails(IndexOutOfBoundsException.class, () -> table.embedding(longs(new long[] {1, 4}, 2)), "embedding", "[0, 4)", "index 4");
        fails(IndexOutOfBoundsException.class, () -> table.embedding(longs(new long[] {-1}, 1, 1)), "embedding", "[0, 4)", "index -1");
        NDArray classes = longs(new long[] {0, 3}, 2);
        fails(IndexOutOfBoundsException.class, () -> classes.oneHot(3), "oneHot", "[0, 3)", "index 3");
        fails(IndexOutOfBoundsException.class, () -> longs(new long[] {-1}, 1).oneHot(3), "oneHot", "[0, 3)", "index -1");
        fails(IllegalArgumentException.class, () -> classes.oneHot(-2), "oneHot", "numClasses", "-2");
        NDArray logits = iota(2, 3);
        fails(IndexOutOfBoundsException.class, () -> logits.crossEntropy(classes), "crossEntropy", "[0, 3)", "index 3");
        fails(IndexOutOfBoundsException.class, () -> logits.crossEntropy(longs(new long[] {0, -1}, 2)), "crossEntropy", "[0, 3)", "index -1");
        fails(IndexOutOfBoundsException.class, () -> NDArray.maxPool2dBackward(iota(1, 1, 1, 1), longs(new long[] {4}, 1, 1, 1, 1), new long[] {1, 1, 2, 2}),
                "maxPool2dBackward", "index 4", "2x2");
    }

    @Test
    void narrowSelectAndGetDoubleRejectPositionsOutsideTheDim() {
        NDArray x = iota(2, 3);
        fails(IndexOutOfBoundsException.class, () -> x.narrow(1, 2, 2), "narrow", "size 3", "start 2", "length 2");
        fails(IndexOutOfBoundsException.class, () -> x.narrow(1, 4, 0), "narrow", "size 3", "start 4");
        fails(IndexOutOfBoundsException.class, () -> x.narrow(1, -4, 1), "narrow", "size 3", "start -4");
        fails(IndexOutOfBoundsException.class, () -> x.narrow(1, 0, -1), "narrow", "size 3", "length -1");
        // start + length overflows a long: must not pass the check and yield a view reaching past the storage.
        fails(IndexOutOfBoundsException.class, () -> x.narrow(1, 1, Long.MAX_VALUE), "narrow", "size 3", "length " + Long.MAX_VALUE);
        fails(IndexOutOfBoundsException.class, () -> x.select(1, 3), "select", "index 3", "size 3", "-3..2");
        fails(IndexOutOfBoundsException.class, () -> x.select(0, -3), "select", "index -3", "size 2", "-2..1");
        fails(IndexOutOfBoundsException.class, () -> x.getDouble(2, 0), "getDouble", shape(2, 0), shape(2, 3));
        fails(IndexOutOfBoundsException.class, () -> x.getDouble(0, -1), "getDouble", shape(0, -1), shape(2, 3));
        // Negative positions count from the end, as in PyTorch.
        assertValues(new double[] {1, 2, 4, 5}, x.narrow(1, -2, 2));
        assertValues(new double[] {2, 5}, x.select(1, -1));
    }

    @Test
    void sliceClampsItsBoundsLikePythonAndRejectsNonPositiveSteps() {
        NDArray x = iota(2, 3);
        fails(IllegalArgumentException.class, () -> x.slice(1, 0, 3, 0), "slice", "step", "0");
        fails(IllegalArgumentException.class, () -> x.slice(1, 0, 3, -1), "slice", "step", "-1");
        assertArrayEquals(new long[] {2, 0}, x.slice(1, 5, 10, 1).shape());
        assertValues(new double[] {0, 1, 3, 4}, x.slice(1, -10, 2, 1));
        // A step far beyond the size takes the first element only (it once overflowed into a negative size).
        assertValues(new double[] {1, 4}, x.slice(1, 1, 3, Long.MAX_VALUE));
        assertValues(new double[] {0, 3}, x.slice(1, 0, Long.MAX_VALUE, Long.MAX_VALUE - 1));
        assertValues(new double[] {0, 2, 3, 5}, x.slice(1, 0, 3, 2));
    }

    @Test
    void poolingAndConvolutionRejectOutOfRangeParameters() {
        fails(IllegalArgumentException.class, () -> ConvParams.of(0, 0), "stride", "0");
        fails(IllegalArgumentException.class, () -> ConvParams.of(1, -1), "padding", "-1");
        fails(IllegalArgumentException.class, () -> new ConvParams(1, 1, 0, 0, 1, 1, 0), "groups", "0");
        // A padding so large that twice it overflows an int must still be refused.
        ConvParams huge = new ConvParams(1, 1, Integer.MAX_VALUE, Integer.MAX_VALUE, 1, 1, 1);
        fails(IllegalArgumentException.class, () -> iota(1, 1, 4, 4).maxPool2d(1, 1, huge), "maxPool2d", "padding");
    }
}
