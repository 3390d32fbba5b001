package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.iota;
import static io.jtensor.badinput.BadInput.longs;
import static io.jtensor.badinput.BadInput.shape;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Shapes that do not fit the op: each fails at once, naming the op and both shapes (or the expected and actual size). */
class ShapeMismatchTest {
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    static Stream<Arguments> binaryOps() {
        return Stream.of(
                Arguments.of("add", (BinaryOperator<NDArray>) NDArray::add),
                Arguments.of("sub", (BinaryOperator<NDArray>) NDArray::sub),
                Arguments.of("mul", (BinaryOperator<NDArray>) NDArray::mul),
                Arguments.of("div", (BinaryOperator<NDArray>) NDArray::div),
                Arguments.of("pow", (BinaryOperator<NDArray>) NDArray::pow),
                Arguments.of("maximum", (BinaryOperator<NDArray>) NDArray::maximum),
                Arguments.of("minimum", (BinaryOperator<NDArray>) NDArray::minimum),
                Arguments.of("eq", (BinaryOperator<NDArray>) NDArray::eq),
                Arguments.of("lt", (BinaryOperator<NDArray>) NDArray::lt),
                Arguments.of("ge", (BinaryOperator<NDArray>) NDArray::ge),
                Arguments.of("logicalAnd", (BinaryOperator<NDArray>) NDArray::logicalAnd),
                Arguments.of("logicalXor", (BinaryOperator<NDArray>) NDArray::logicalXor));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryOps")
    void binaryOpsRejectShapesThatDoNotBroadcast(String op, BinaryOperator<NDArray> f) {
        NDArray a = iota(2, 3), b = iota(3, 2);
        fails(IllegalArgumentException.class, () -> f.apply(a, b), op, shape(2, 3), shape(3, 2));
        NDArray c = iota(4, 1, 3), d = iota(2, 2);
        fails(IllegalArgumentException.class, () -> f.apply(c, d), op, shape(4, 1, 3), shape(2, 2));
    }

    @Test
    void matmulRejectsMismatchedInnerDims() {
        fails(IllegalArgumentException.class, () -> iota(2, 3).matmul(iota(2, 3)), "matmul", shape(2, 3), "3 vs 2");
        fails(IllegalArgumentException.class, () -> iota(3).matmul(iota(4)), "matmul", shape(3), shape(4));
        fails(IllegalArgumentException.class, () -> iota(2, 3).matmul(iota(4)), "matmul", shape(2, 3), shape(4));
        fails(IllegalArgumentException.class, () -> iota(5).matmul(iota(4, 2)), "matmul", shape(5), shape(4, 2));
    }

    @Test
    void matmulRejectsBatchDimsThatDoNotBroadcast() {
        fails(IllegalArgumentException.class, () -> iota(2, 2, 3).matmul(iota(3, 3, 4)), "matmul", shape(2, 2, 3), shape(3, 3, 4));
    }

    @Test
    void matmulRejectsZeroDimensionalArguments() {
        NDArray s = NDArray.scalar(2, DType.F32, io.jtensor.Device.cpu());
        fails(IllegalArgumentException.class, () -> s.matmul(iota(2)), "matmul", "at least 1 dim", shape());
        fails(IllegalArgumentException.class, () -> iota(2).matmul(s), "matmul", "at least 1 dim", shape());
    }

    @Test
    void conv2dRejectsChannelKernelAndRankMismatches() {
        ConvParams p = ConvParams.of(1, 0);
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 3, 4, 4), iota(2, 2, 2, 2), null, p),
                "conv2d", "3 channels", shape(2, 2, 2, 2), "expects 2");
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 1, 2, 2), iota(1, 1, 3, 3), null, p),
                "conv2d", "3x3", "2x2");
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 4, 4), iota(1, 1, 3, 3), null, p),
                "conv2d", "[N,C,H,W]", shape(1, 4, 4));
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 1, 4, 4), iota(1, 3, 3), null, p),
                "conv2d", "weight", shape(1, 3, 3));
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 2, 4, 4), iota(3, 2, 1, 1), iota(2), p),
                "conv2d", "bias", "[3]", shape(2));
        ConvParams groups2 = new ConvParams(1, 1, 0, 0, 1, 1, 2);
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 4, 4, 4), iota(3, 2, 1, 1), null, groups2),
                "conv2d", "out channels 3", "groups 2");
    }

    @Test
    void convolutionGradientsRejectShapesThatDoNotMatchTheForward() {
        ConvParams p = ConvParams.of(1, 0);
        // gradOut [1,1,3,3] fits an input 4x4 with a 2x2 kernel, not 9x9.
        fails(IllegalArgumentException.class, () -> NDArray.conv2dBackwardInput(iota(1, 1, 3, 3), iota(1, 1, 2, 2), new long[] {1, 1, 9, 9}, p),
                "conv2dBackwardInput", shape(1, 1, 8, 8), shape(1, 1, 3, 3));
        fails(IllegalArgumentException.class, () -> NDArray.conv2dBackwardWeight(iota(1, 1, 4, 4), iota(1, 1, 3, 3), new long[] {1, 1, 3, 3}, p),
                "conv2dBackwardWeight", shape(1, 1, 2, 2), shape(1, 1, 3, 3));
    }

    @Test
    void poolingRejectsKernelsThatDoNotFit() {
        ConvParams p = ConvParams.of(1, 0);
        fails(IllegalArgumentException.class, () -> iota(1, 1, 2, 2).maxPool2d(3, 3, p), "maxPool2d", "3x3", "2x2");
        fails(IllegalArgumentException.class, () -> iota(1, 1, 2, 2).avgPool2d(3, 3, p, true), "avgPool2d", "3x3", "2x2");
        fails(IllegalArgumentException.class, () -> iota(1, 2, 2).maxPool2d(1, 1, p), "maxPool2d", "[N,C,H,W]", shape(1, 2, 2));
        fails(IllegalArgumentException.class, () -> iota(1, 1, 4, 4).maxPool2d(0, 2, p), "maxPool2d", "kernel", "0x2");
        fails(IllegalArgumentException.class, () -> iota(1, 1, 4, 4).maxPool2d(2, 2, ConvParams.of(1, 2)), "maxPool2d", "padding 2x2", "2x2");
        // Average pooling has no dilation; one in the params is ignored by the fit check as by the kernel.
        BadInput.assertValues(new double[] {7.5}, iota(1, 1, 4, 4).avgPool2d(4, 4, new ConvParams(1, 1, 0, 0, 2, 2, 1), true));
    }

    @Test
    void aKernelLargerThanTheInputIsRejectedWhateverTheStride() {
        // (1 - 2) / 2 + 1 truncated to an output of 1: the window then hung off the input and the op "succeeded".
        ConvParams s2 = ConvParams.of(2, 0);
        fails(IllegalArgumentException.class, () -> iota(1, 1, 1, 1).maxPool2d(2, 2, s2), "maxPool2d", "2x2", "1x1");
        fails(IllegalArgumentException.class, () -> iota(1, 1, 1, 1).avgPool2d(2, 2, s2, true), "avgPool2d", "2x2", "1x1");
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 1, 1, 1), iota(1, 1, 2, 2), null, s2), "conv2d", "2x2", "1x1");
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(iota(1, 1, 3, 3), iota(1, 1, 2, 2), null, new ConvParams(3, 3, 0, 0, 3, 3, 1)),
                "conv2d", "2x2", "3x3");
        // Only the batch may be empty in pooling, as in PyTorch: an empty plane has no maximum to point at.
        fails(IllegalArgumentException.class, () -> iota(1, 1, 0, 2).maxPool2d(2, 2, ConvParams.of(1, 1)), "maxPool2d", shape(1, 1, 0, 2));
        fails(IllegalArgumentException.class, () -> iota(1, 0, 2, 2).avgPool2d(1, 1, ConvParams.of(1, 0), true), "avgPool2d", shape(1, 0, 2, 2));
    }

    @Test
    void poolingGradientsRejectMismatchedShapes() {
        fails(IllegalArgumentException.class, () -> NDArray.maxPool2dBackward(iota(1, 1, 2, 2), longs(new long[] {0}, 1, 1, 1, 1), new long[] {1, 1, 4, 4}),
                "maxPool2dBackward", shape(1, 1, 2, 2), shape(1, 1, 1, 1));
        fails(IllegalArgumentException.class, () -> NDArray.avgPool2dBackward(iota(1, 1, 5, 5), 2, 2, ConvParams.of(1, 0), true, new long[] {1, 1, 2, 2}),
                "avgPool2dBackward", shape(1, 1, 1, 1), shape(1, 1, 5, 5));
    }

    @Test
    void catAndStackRejectMismatchedParts() {
        fails(IllegalArgumentException.class, () -> NDArray.cat(List.of(iota(2, 3), iota(2, 4)), 0), "cat", shape(2, 3), shape(2, 4));
        fails(IllegalArgumentException.class, () -> NDArray.cat(List.of(iota(2, 3), iota(3)), 0), "cat", "rank 2", shape(3));
        fails(IllegalArgumentException.class, () -> NDArray.cat(List.of(), 0), "cat", "at least one");
        NDArray s = NDArray.scalar(1, DType.F32, io.jtensor.Device.cpu());
        fails(IllegalArgumentException.class, () -> NDArray.cat(List.of(s, s), 0), "cat", "zero-dimensional");
        fails(IllegalArgumentException.class, () -> NDArray.stack(List.of(iota(2, 3), iota(3, 2)), 0), "stack", shape(2, 3), shape(3, 2));
        fails(IllegalArgumentException.class, () -> NDArray.stack(List.of(), 0), "stack", "at least one");
    }

    @Test
    void indexOpsRejectIndexShapesThatDoNotFit() {
        NDArray x = iota(2, 3);
        fails(IllegalArgumentException.class, () -> x.gather(1, longs(new long[] {0, 1}, 2)), "gather", "rank 1", "rank 2");
        fails(IllegalArgumentException.class, () -> x.gather(1, longs(new long[] {0, 0, 0}, 3, 1)), "gather", shape(3, 1), shape(2, 3));
        fails(IllegalArgumentException.class, () -> x.scatterAdd(1, longs(new long[] {0, 0}, 2, 1), iota(2, 2)),
                "scatterAdd", shape(2, 1), shape(2, 2));
        fails(IllegalArgumentException.class, () -> x.scatterAdd(1, longs(new long[] {0, 0, 0}, 3, 1), iota(3, 1)),
                "scatterAdd", shape(3, 1), shape(2, 3));
        fails(IllegalArgumentException.class, () -> x.indexSelect(0, longs(new long[] {0, 1}, 1, 2)), "indexSelect", "1-D", shape(1, 2));
        fails(IllegalArgumentException.class, () -> iota(5).embedding(longs(new long[] {0}, 1)), "embedding", "[V, D]", shape(5));
    }

    @Test
    void crossEntropyRejectsTargetsOfTheWrongShape() {
        NDArray logits = iota(2, 3);
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(longs(new long[] {0, 1, 2}, 3)), "crossEntropy", "[2]", shape(3));
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(longs(new long[] {0, 1}, 2, 1)), "crossEntropy", "[2]", shape(2, 1));
        fails(IllegalArgumentException.class, () -> iota(3).crossEntropy(longs(new long[] {0}, 1)), "crossEntropy", "[N, C]", shape(3));
    }

    @Test
    void reshapeViewAndExpandRejectIncompatibleSizes() {
        NDArray x = iota(2, 3);
        fails(IllegalArgumentException.class, () -> x.reshape(4, 2), "reshape", shape(4, 2), "6 elements");
        fails(IllegalArgumentException.class, () -> x.reshape(-1, 4), "reshape", shape(-1, 4), "6 elements");
        fails(IllegalArgumentException.class, () -> x.reshape(-1, -1), "reshape", "only one", shape(-1, -1));
        fails(IllegalArgumentException.class, () -> x.view(7), "view", shape(7), "6 elements");
        NDArray t = x.t();
        fails(IllegalStateException.class, () -> t.view(6), "view", shape(6), "strides " + shape(1, 3));
        fails(IllegalArgumentException.class, () -> x.expand(4, 3), "expand", shape(2, 3), shape(4, 3));
        fails(IllegalArgumentException.class, () -> x.expand(3), "expand", shape(3), shape(2, 3));
        fails(IllegalArgumentException.class, () -> x.flatten(1, 0), "flatten", "start dim 1", "end dim 0");
        fails(IllegalArgumentException.class, () -> x.permute(0), "permute", "expected 2 dims", "[0]");
        fails(IllegalArgumentException.class, () -> x.permute(1, 1), "permute", "repeated", "[1, 1]");
        fails(IllegalArgumentException.class, () -> iota(1, 2, 3).t(), "t", "rank 3");
    }

    @Test
    void splitRejectsSizesThatDoNotAddUp() {
        NDArray x = iota(2, 3);
        fails(IllegalArgumentException.class, () -> x.split(1, 1L, 1L), "split", shape(1, 1), "3", "got 2");
        fails(IllegalArgumentException.class, () -> x.split(1, 2L, 2L), "split", shape(2, 2), "3");
        fails(IllegalArgumentException.class, () -> x.split(1, 4L, -1L), "split", shape(4, -1));
        fails(IllegalArgumentException.class, () -> x.split(0L, 1), "split", "positive", "0");
        fails(IllegalArgumentException.class, () -> x.chunk(0, 1), "chunk", "positive", "0");
    }

    @Test
    void whereAndWritesRejectShapesThatDoNotFit() {
        NDArray x = iota(2, 3);
        fails(IllegalArgumentException.class, () -> NDArray.where(iota(4).gt(1), x, x), "where", shape(4), shape(2, 3));
        NDArray dst = iota(3, 2);
        fails(IllegalArgumentException.class, () -> dst.copyFrom(x), "copyFrom", "expand", shape(2, 3), shape(3, 2));
        NDArray small = iota(3);
        fails(IllegalArgumentException.class, () -> small.addInPlace(x), "addInPlace", shape(2, 3), shape(3));
        fails(IllegalArgumentException.class, () -> small.mulInPlace(x), "mulInPlace", shape(2, 3), shape(3));
        fails(IllegalArgumentException.class, () -> small.divInPlace(iota(2)), "divInPlace", shape(3), shape(2));
        fails(IllegalArgumentException.class, () -> NDArray.softmaxBackward(x, iota(3, 2), 1, false), "softmaxBackward", shape(2, 3), shape(3, 2));
    }

    @Test
    void writingThroughAnExpandedDimIsRefused() {
        // Several elements of an expanded array are one memory location: a write would depend on the write order.
        NDArray row = NDArray.zeros(1, 3);
        NDArray wide = row.expand(2, 3);
        fails(IllegalStateException.class, () -> wide.copyFrom(iota(2, 3)), "copyFrom", "stride 0", shape(2, 3));
        fails(IllegalStateException.class, () -> wide.fill(1), "fill", "stride 0");
        fails(IllegalStateException.class, () -> wide.addInPlace(iota(2, 3)), "addInPlace", "stride 0");
        BadInput.assertValues(new double[] {0, 0, 0}, row);
    }

    @Test
    void itemAndGetDoubleRejectTheWrongNumberOfElementsOrIndices() {
        fails(IllegalStateException.class, () -> iota(2, 3).item(), "item", "one element", shape(2, 3));
        fails(IllegalStateException.class, () -> iota(0).item(), "item", "one element", shape(0));
        fails(IllegalArgumentException.class, () -> iota(2, 3).getDouble(1), "getDouble", "expected 2 indices", "got 1");
    }
}
