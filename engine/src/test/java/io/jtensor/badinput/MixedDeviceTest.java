package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.iota;
import static io.jtensor.badinput.BadInput.longs;
import static io.jtensor.badinput.BadInput.on;
import static io.jtensor.badinput.BadInput.stats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import java.util.List;
import java.util.function.BinaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Arrays on two logical CPU devices stand in for a CPU/GPU mix: like PyTorch with cpu and cuda tensors, an op never
 * moves data silently; it fails naming the op and both devices.
 */
class MixedDeviceTest {
    private static final Device D0 = Device.cpu(0), D1 = Device.cpu(1);
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    private static void mixed(String op, org.junit.jupiter.api.function.Executable call) {
        fails(IllegalArgumentException.class, call, op, "cpu:0", "cpu:1");
    }

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
                Arguments.of("gt", (BinaryOperator<NDArray>) NDArray::gt),
                Arguments.of("logicalOr", (BinaryOperator<NDArray>) NDArray::logicalOr),
                Arguments.of("matmul", (BinaryOperator<NDArray>) NDArray::matmul));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("binaryOps")
    void binaryOpsRejectOperandsOnDifferentDevices(String op, BinaryOperator<NDArray> f) {
        NDArray a = iota(2, 2), b = on(D1, iota(2, 2));
        mixed(op, () -> f.apply(a, b));
        mixed(op, () -> f.apply(b, a));
    }

    @Test
    void whereCatAndStackRejectMixedDevices() {
        NDArray a = iota(2, 2), b = on(D1, iota(2, 2)), cond = a.gt(1), cond1 = b.gt(1);
        mixed("where", () -> NDArray.where(cond, a, b));
        mixed("where", () -> NDArray.where(cond1, a, a));
        mixed("cat", () -> NDArray.cat(List.of(a, b), 0));
        mixed("stack", () -> NDArray.stack(List.of(a, b), 0));
    }

    @Test
    void indexOpsRejectIndicesOnAnotherDevice() {
        NDArray x = iota(2, 3);
        NDArray idx2 = on(D1, longs(new long[] {0, 1}, 2, 1)), idx1 = on(D1, longs(new long[] {0, 1}, 2));
        mixed("gather", () -> x.gather(1, idx2));
        mixed("scatterAdd", () -> x.scatterAdd(1, idx2, iota(2, 1)));
        mixed("scatterAdd", () -> x.scatterAdd(1, longs(new long[] {0, 1}, 2, 1), on(D1, iota(2, 1))));
        mixed("indexSelect", () -> x.indexSelect(0, idx1));
        mixed("embedding", () -> x.embedding(idx1));
        mixed("crossEntropy", () -> x.crossEntropy(idx1));
    }

    @Test
    void convolutionPoolingAndSoftmaxGradientsRejectMixedDevices() {
        ConvParams p = ConvParams.of(1, 0);
        NDArray x = iota(1, 1, 4, 4), w = iota(1, 1, 2, 2), w1 = on(D1, iota(1, 1, 2, 2));
        mixed("conv2d", () -> NDArray.conv2d(x, w1, null, p));
        mixed("conv2d", () -> NDArray.conv2d(x, w, on(D1, iota(1)), p));
        NDArray g = iota(1, 1, 3, 3);
        mixed("conv2dBackwardInput", () -> NDArray.conv2dBackwardInput(g, w1, new long[] {1, 1, 4, 4}, p));
        mixed("conv2dBackwardWeight", () -> NDArray.conv2dBackwardWeight(x, on(D1, iota(1, 1, 3, 3)), new long[] {1, 1, 2, 2}, p));
        mixed("maxPool2dBackward", () -> NDArray.maxPool2dBackward(iota(1, 1, 1, 1), on(D1, longs(new long[] {0}, 1, 1, 1, 1)), new long[] {1, 1, 2, 2}));
        NDArray y = iota(2, 3).softmax(1);
        mixed("softmaxBackward", () -> NDArray.softmaxBackward(y, on(D1, iota(2, 3)), 1, false));
    }

    @Test
    void writesRejectSourcesOnAnotherDevice() {
        NDArray dst = iota(2, 2), src = on(D1, iota(2, 2));
        mixed("copyFrom", () -> dst.copyFrom(src));
        mixed("addInPlace", () -> dst.addInPlace(src));
        mixed("mulInPlace", () -> dst.mulInPlace(src));
        mixed("divInPlace", () -> dst.divInPlace(src));
        BadInput.assertValues(new double[] {0, 1, 2, 3}, dst);
    }

    @Test
    void toAnotherLogicalDeviceCopiesAndOpsThereStayThere() {
        NDArray a = iota(2, 3);
        NDArray b = a.to(D1);
        assertEquals(D1, b.device());
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        NDArray sum = b.add(b);
        assertEquals(D1, sum.device());
        assertArrayEquals(new float[] {0, 2, 4, 6, 8, 10}, sum.toFloatArray());
        try (NDArray back = sum.to(D0)) {
            assertEquals(D0, back.device());
            assertArrayEquals(new float[] {0, 2, 4, 6, 8, 10}, back.toFloatArray());
        }
    }

    @Test
    void memoryIsAccountedPerLogicalDevice() {
        // Devices no other test uses, so that the counters move only because of this test.
        Device d6 = Device.cpu(6), d7 = Device.cpu(7);
        MemoryStats s6 = stats(d6), s7 = stats(d7);
        long a6 = s6.allocated(), a7 = s7.allocated(), c7 = s7.count();
        NDArray x = NDArray.zeros(DType.F32, d6, 10, 10);
        assertEquals(a6 + 400, s6.allocated());
        assertEquals(a7, s7.allocated());
        NDArray y = x.to(d7);
        assertEquals(a7 + 400, s7.allocated());
        assertEquals(c7 + 1, s7.count());
        assertEquals(a6 + 400, s6.allocated());
        fails(IllegalArgumentException.class, () -> x.add(y), "add", "cpu:6", "cpu:7");
        x.close();
        assertEquals(a6, s6.allocated());
        y.close();
        assertEquals(a7, s7.allocated());
        assertEquals(c7, s7.count());
    }
}
