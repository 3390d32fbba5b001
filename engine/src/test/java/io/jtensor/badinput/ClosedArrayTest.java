package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.assertValues;
import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.iota;
import static io.jtensor.badinput.BadInput.shape;
import static io.jtensor.badinput.BadInput.stats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Use after close: every kind of op on a closed array fails with IllegalStateException naming the op and the array,
 * never touching freed memory. Views keep their storage alive, so closing the array they came from leaves them valid.
 */
class ClosedArrayTest {
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    /** Ops applied to a closed [2, 2] F32 array x; the name is what the message must start with. */
    static Stream<Arguments> ops() {
        NDArray other = NDArray.zeros(2, 2).keep(); // shared by the cases; never closed, small
        NDArray idx = NDArray.zeros(DType.I64, Device.cpu(), 2, 2).keep();
        NDArray ids = NDArray.zeros(DType.I64, Device.cpu(), 2).keep();
        return Stream.<Arguments>of(
                op("exp", NDArray::exp), op("relu", NDArray::relu), op("neg", NDArray::neg), op("sigmoid", NDArray::sigmoid),
                op("abs", NDArray::abs), op("clamp", x -> x.clamp(0, 1)), op("isnan", NDArray::isnan), op("pow", x -> x.pow(2.0)),
                op("add", x -> x.add(other)), op("add", x -> other.add(x)), op("mul", x -> x.mul(other)), op("lt", x -> x.lt(other)),
                op("add", x -> x.add(1.0)), op("mul", x -> x.mul(2.0)), op("sub", x -> x.sub(1.0)), op("div", x -> x.div(2.0)),
                op("rsub", x -> x.rsub(1.0)), op("zero", NDArray::zero), op("leakyRelu", x -> x.leakyRelu(0.1)),
                op("where", x -> NDArray.where(other.gt(0), x, other)), op("where", x -> NDArray.where(other.gt(0), other, x)),
                op("sum", NDArray::sum), op("sum", x -> x.sum(0, true)), op("mean", NDArray::mean), op("max", NDArray::max),
                op("max", x -> x.max(0, false)), op("argmax", x -> x.argmax(1, false)), op("logsumexp", x -> x.logsumexp(1, false)),
                op("norm", NDArray::norm), op("std", x -> x.std(0, false)),
                op("reshape", x -> x.reshape(4)), op("view", x -> x.view(4)), op("flatten", NDArray::flatten),
                op("transpose", x -> x.transpose(0, 1)), op("t", NDArray::t), op("permute", x -> x.permute(1, 0)),
                op("expand", x -> x.expand(3, 2, 2)), op("squeeze", NDArray::squeeze), op("squeeze", x -> x.squeeze(0)),
                op("unsqueeze", x -> x.unsqueeze(0)), op("narrow", x -> x.narrow(0, 0, 1)), op("slice", x -> x.slice(0, 0, 1, 1)),
                op("select", x -> x.select(0, 0)), op("split", x -> x.split(1L, 0)), op("chunk", x -> x.chunk(2, 0)),
                op("share", NDArray::share), op("copy", NDArray::copy), op("contiguous", NDArray::contiguous),
                op("to", x -> x.to(DType.F64)), op("to", x -> x.to(Device.cpu(1))),
                op("toFloatArray", NDArray::toFloatArray), op("toDoubleArray", NDArray::toDoubleArray),
                op("toLongArray", NDArray::toLongArray), op("toBytes", NDArray::toBytes), op("item", NDArray::item),
                op("getDouble", x -> x.getDouble(0, 0)),
                op("fill", x -> x.fill(1)), op("copyFrom", x -> x.copyFrom(other)), op("copyFrom", x -> other.copyFrom(x)),
                op("addInPlace", x -> x.addInPlace(other)), op("addInPlace", x -> other.addInPlace(x)), op("mulInPlace", x -> x.mulInPlace(2)),
                op("matmul", x -> x.matmul(other)), op("matmul", x -> other.matmul(x)),
                op("softmax", x -> x.softmax(1)), op("logSoftmax", x -> x.logSoftmax(1)),
                op("softmaxBackward", x -> NDArray.softmaxBackward(x, other, 1, false)),
                op("crossEntropy", x -> x.crossEntropy(ids)),
                op("gather", x -> x.gather(1, idx)),
                op("scatterAdd", x -> x.scatterAdd(1, idx, other)), op("indexSelect", x -> x.indexSelect(0, ids)),
                op("embedding", x -> x.embedding(ids)), op("oneHot", x -> x.oneHot(2)),
                op("cat", x -> NDArray.cat(List.of(other, x), 0)), op("stack", x -> NDArray.stack(List.of(x, other), 0)));
    }

    private static Arguments op(String name, Function<NDArray, Object> f) { return Arguments.of(name, f); }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("ops")
    void everyOpRejectsAClosedArray(String op, Function<NDArray, Object> f) {
        NDArray x = iota(2, 2);
        x.close();
        assertTrue(x.isClosed());
        fails(IllegalStateException.class, () -> f.apply(x), op + ":", "closed", shape(2, 2));
    }

    @Test
    void opsRejectClosedIndicesWeightsAndImages() {
        NDArray x = iota(2, 3), img = iota(1, 1, 4, 4), w = iota(1, 1, 2, 2);
        NDArray idx = NDArray.zeros(DType.I64, Device.cpu(), 2, 1), ids = NDArray.zeros(DType.I64, Device.cpu(), 2);
        idx.close();
        ids.close();
        fails(IllegalStateException.class, () -> x.gather(1, idx), "gather:", "closed", shape(2, 1));
        fails(IllegalStateException.class, () -> x.scatterAdd(1, idx, iota(2, 1)), "scatterAdd:", "closed", shape(2, 1));
        fails(IllegalStateException.class, () -> x.indexSelect(1, ids), "indexSelect:", "closed", shape(2));
        fails(IllegalStateException.class, () -> x.embedding(ids), "embedding:", "closed", shape(2));
        fails(IllegalStateException.class, () -> x.crossEntropy(ids), "crossEntropy:", "closed", shape(2));
        w.close();
        fails(IllegalStateException.class, () -> NDArray.conv2d(img, w, null, ConvParams.of(1, 0)), "conv2d:", "closed", shape(1, 1, 2, 2));
        fails(IllegalStateException.class, () -> NDArray.conv2dBackwardInput(iota(1, 1, 3, 3), w, new long[] {1, 1, 4, 4}, ConvParams.of(1, 0)),
                "conv2dBackwardInput:", "closed");
        img.close();
        fails(IllegalStateException.class, () -> NDArray.conv2d(img, iota(1, 1, 2, 2), null, ConvParams.of(1, 0)), "conv2d:", "closed", shape(1, 1, 4, 4));
        fails(IllegalStateException.class, () -> img.maxPool2d(2, 2, ConvParams.of(2, 0)), "maxPool2d:", "closed");
        fails(IllegalStateException.class, () -> img.avgPool2d(2, 2, ConvParams.of(2, 0), true), "avgPool2d:", "closed");
        fails(IllegalStateException.class, () -> NDArray.conv2dBackwardWeight(img, iota(1, 1, 3, 3), new long[] {1, 1, 2, 2}, ConvParams.of(1, 0)),
                "conv2dBackwardWeight:", "closed");
        fails(IllegalStateException.class, () -> NDArray.maxPool2dBackward(img, NDArray.zeros(DType.I64, Device.cpu(), 1, 1, 4, 4), new long[] {1, 1, 4, 4}),
                "maxPool2dBackward:", "closed");
        fails(IllegalStateException.class, () -> NDArray.avgPool2dBackward(img, 1, 1, ConvParams.of(1, 0), true, new long[] {1, 1, 4, 4}),
                "avgPool2dBackward:", "closed");
    }

    @Test
    void aViewOutlivesTheArrayItCameFrom() {
        Device d = Device.cpu(5); // a device of its own, so the byte counts below move only because of this test
        MemoryStats s = stats(d);
        long before = s.allocated();
        NDArray base = BadInput.on(d, iota(4));
        NDArray view = base.narrow(0, 1, 2);
        NDArray twice = view.unsqueeze(0).keep();
        base.close();
        assertTrue(base.isClosed());
        assertFalse(view.isClosed());
        assertEquals(before + 16, s.allocated(), "the storage must stay while a view holds it");
        assertValues(new double[] {1, 2}, view);
        try (NDArray doubled = view.mul(2.0)) {
            assertValues(new double[] {2, 4}, doubled);
        }
        assertEquals(before + 16, s.allocated());
        view.fill(7);
        assertValues(new double[] {7, 7}, twice);
        fails(IllegalStateException.class, () -> base.narrow(0, 0, 1), "narrow:", "closed");
        view.close();
        assertEquals(before + 16, s.allocated());
        twice.close();
        assertEquals(before, s.allocated(), "the last reference frees the storage");
        fails(IllegalStateException.class, view::sum, "sum:", "closed");
    }

    @Test
    void closingAViewLeavesTheOriginalUsable() {
        NDArray base = iota(2, 3);
        NDArray row = base.select(0, 1);
        row.close();
        assertFalse(base.isClosed());
        assertValues(new double[] {0, 1, 2, 3, 4, 5}, base);
        fails(IllegalStateException.class, () -> row.add(1.0), "add:", "closed");
    }

    @Test
    void closingTwiceIsHarmlessAndFreesOnce() {
        Device d = Device.cpu(5);
        MemoryStats s = stats(d);
        long bytes = s.allocated(), count = s.count();
        NDArray a = NDArray.zeros(DType.F32, d, 8);
        a.close();
        a.close();
        assertEquals(bytes, s.allocated());
        assertEquals(count, s.count());
        assertEquals("NDArray(closed, [8], F32)", a.toString());
    }

    @Test
    void arraysClosedByTheirScopeCannotBeUsedAfterIt() {
        NDArray leaked;
        try (MemoryScope inner = MemoryScope.open()) {
            leaked = iota(3);
        }
        assertTrue(leaked.isClosed());
        NDArray gone = leaked;
        fails(IllegalStateException.class, () -> gone.add(gone), "add:", "closed", shape(3));
    }
}
