package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.iota;
import static io.jtensor.badinput.BadInput.longs;
import static io.jtensor.badinput.BadInput.zeros;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Element types an op cannot take: each fails naming the op and the dtype it got. */
class DTypeMismatchTest {
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64", "F16", "BF16", "BOOL"})
    void indexOpsRejectNonIntegerIndices(DType t) {
        NDArray x = iota(2, 3);
        NDArray idx2 = zeros(t, 2, 1), idx1 = zeros(t, 2);
        fails(IllegalArgumentException.class, () -> x.gather(1, idx2), "gather", "integer index", t.name());
        fails(IllegalArgumentException.class, () -> x.scatterAdd(1, idx2, iota(2, 1)), "scatterAdd", "integer index", t.name());
        fails(IllegalArgumentException.class, () -> x.indexSelect(0, idx1), "indexSelect", "integer", t.name());
        fails(IllegalArgumentException.class, () -> x.embedding(idx1), "embedding", "integer ids", t.name());
        fails(IllegalArgumentException.class, () -> x.crossEntropy(idx1), "crossEntropy", "integer class indices", t.name());
        fails(IllegalArgumentException.class, () -> idx1.oneHot(3), "oneHot", "integer class indices", t.name());
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"I32", "I64", "U8", "BOOL"})
    void floatingOnlyOpsRejectIntegerAndBoolArrays(DType t) {
        NDArray a = zeros(t, 2, 2), img = zeros(t, 1, 1, 4, 4), w = zeros(t, 1, 1, 2, 2);
        fails(IllegalArgumentException.class, () -> a.matmul(a), "matmul", "floating", t.name());
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(img, w, null, ConvParams.of(1, 0)), "conv2d", "floating", t.name());
        fails(IllegalArgumentException.class, () -> img.maxPool2d(2, 2, ConvParams.of(2, 0)), "maxPool2d", "floating", t.name());
        fails(IllegalArgumentException.class, () -> img.avgPool2d(2, 2, ConvParams.of(2, 0), true), "avgPool2d", "floating", t.name());
        fails(IllegalArgumentException.class, () -> a.mean(), "mean", "floating", t.name());
        fails(IllegalArgumentException.class, () -> a.var(0, false), "var", "floating", t.name());
        fails(IllegalArgumentException.class, () -> a.std(0, false), "std", "floating", t.name());
        fails(IllegalArgumentException.class, () -> a.norm(), "norm", "floating", t.name());
        fails(IllegalArgumentException.class, () -> a.crossEntropy(longs(new long[] {0, 1}, 2)), "crossEntropy", "floating", t.name());
        fails(IllegalArgumentException.class, () -> NDArray.rand(Generator.defaultGenerator(), t, Device.cpu(), 2), "rand:", "floating", t.name());
    }

    @Test
    void conv2dRejectsInputAndWeightOfDifferentDtypes() {
        NDArray x = zeros(DType.F32, 1, 1, 4, 4), w = zeros(DType.F64, 1, 1, 2, 2);
        fails(IllegalArgumentException.class, () -> NDArray.conv2d(x, w, null, ConvParams.of(1, 0)), "conv2d", "F32", "F64");
    }

    @Test
    void maxPoolGradientRejectsNonI64Indices() {
        NDArray g = iota(1, 1, 1, 1), idx = zeros(DType.F32, 1, 1, 1, 1);
        fails(IllegalArgumentException.class, () -> NDArray.maxPool2dBackward(g, idx, new long[] {1, 1, 2, 2}), "maxPool2dBackward", "I64", "F32");
    }

    @Test
    void inPlaceOpsRefuseResultsThatDoNotFitTheDtype() {
        // PyTorch's can_cast: a floating result cannot be stored into an integer array in place.
        NDArray counts = longs(new long[] {1, 2, 3}, 3);
        fails(IllegalArgumentException.class, () -> counts.addInPlace(iota(3)), "addInPlace", "F32", "I64");
        fails(IllegalArgumentException.class, () -> counts.mulInPlace(0.5), "mulInPlace", "F32", "I64");
        fails(IllegalArgumentException.class, () -> counts.divInPlace(longs(new long[] {2, 2, 2}, 3)), "divInPlace", "F32", "I64");
        NDArray flags = zeros(DType.BOOL, 3);
        fails(IllegalArgumentException.class, () -> flags.addInPlace(counts), "addInPlace", "I64", "BOOL");
        BadInput.assertValues(new double[] {1, 2, 3}, counts);
        // What does fit still works, and narrows F64 into F32 as PyTorch does.
        counts.addInPlace(longs(new long[] {1, 1, 1}, 3));
        BadInput.assertValues(new double[] {2, 3, 4}, counts);
        NDArray f = iota(3);
        f.addInPlace(NDArray.of(new double[] {0.5, 0.5, 0.5}, 3));
        BadInput.assertValues(new double[] {0.5, 1.5, 2.5}, f);
    }

    @Test
    void integerPowerRejectsNegativeExponents() {
        fails(IllegalArgumentException.class, () -> longs(new long[] {2}, 1).pow(-1), "pow", "-1");
    }

    @Test
    void fromBytesRejectsAPartialElement() {
        fails(IllegalArgumentException.class, () -> NDArray.fromBytes(new byte[5], DType.F32, 1), "fromBytes", "5 bytes", "F32");
    }
}
