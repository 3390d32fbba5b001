package io.jtensor.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.OpErrors;
import io.jtensor.backend.ConvParams;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Ops composed of other ops fail under their own name, whatever inner op found the problem: sub(s) is an addition of
 * -s, mean a sum, std a var, stack unsqueeze and cat, zero a fill. Each case is tried three ways (closed input,
 * bad dim, wrong dtype) where the op takes them, so that a composed op that calls a public op slips through.
 */
class ComposedOpNamesTest {
    private static final NDArray INTS = NDArray.zeros(DType.I64, Device.cpu(), 2, 3).keep();

    static Stream<Arguments> closedInput() {
        return Stream.of(
                op("sub", x -> x.sub(1.0)), op("div", x -> x.div(2.0)), op("rsub", x -> x.rsub(1.0)), op("rdiv", x -> x.rdiv(1.0)),
                op("mean", NDArray::mean), op("mean", x -> x.mean(1, true)), op("var", x -> x.var(0, false)),
                op("std", x -> x.std(new int[] {0, 1}, false, 0)), op("norm", NDArray::norm), op("norm", x -> x.norm(3, new int[] {1}, true)),
                op("norm", x -> x.norm(Double.POSITIVE_INFINITY, new int[] {1}, true)), op("subInPlace", x -> x.subInPlace(x)),
                op("zero", NDArray::zero), op("flatten", x -> x.flatten(0, 1)), op("leakyRelu", x -> x.leakyRelu(0.2)),
                op("isNonFinite", NDArray::isNonFinite), op("logicalNot", NDArray::logicalNot), op("logicalAnd", x -> x.logicalAnd(x)),
                op("exp", x -> x.to(DType.I64)), op("pow", x -> x.pow(0.5)), op("stack", x -> NDArray.stack(List.of(x, x), 0)),
                op("lt", x -> x.lt(0.5)), op("chunk", x -> x.chunk(2, 0)));
    }

    private static Arguments op(String name, Function<NDArray, Object> f) { return Arguments.of(name, f); }

    @ParameterizedTest(name = "{0} #{index}")
    @MethodSource("closedInput")
    void aComposedOpOnAClosedArrayNamesItself(String op, Function<NDArray, Object> f) {
        NDArray x = NDArray.ones(2, 3);
        x.close();
        if (op.equals("exp")) {
            // exp of an integer array computes in F32 through a cast: the cast's failure is exp's
            NDArray i = NDArray.zeros(DType.I64, Device.cpu(), 2, 3);
            i.close();
            fails(IllegalStateException.class, i::exp, "exp:", "closed");
            return;
        }
        IllegalStateException e = fails(IllegalStateException.class, () -> f.apply(x), op + ":", "closed");
        assertTrue(e.getMessage().startsWith(op + ":"), e.getMessage());
    }

    @Test
    void badDimsAndDtypesAreReportedByTheComposedOp() {
        try (NDArray x = NDArray.ones(2, 3)) {
            fails(IndexOutOfBoundsException.class, () -> x.mean(5, false), "mean:", "dim 5");
            fails(IndexOutOfBoundsException.class, () -> x.var(new int[] {-4}, false, 1), "var:", "dim -4");
            fails(IndexOutOfBoundsException.class, () -> x.std(new int[] {2}, false, 1), "std:", "dim 2");
            fails(IndexOutOfBoundsException.class, () -> x.norm(2, new int[] {9}, false), "norm:", "dim 9");
            fails(IllegalArgumentException.class, () -> x.var(new int[] {0, 0}, false, 1), "var:", "twice");
            fails(IllegalArgumentException.class, () -> INTS.std(0, false), "std:", "floating");
            fails(IllegalArgumentException.class, () -> INTS.mean(), "mean:", "floating");
            fails(IndexOutOfBoundsException.class, () -> NDArray.stack(List.of(x, x), 4), "stack:", "dim 4");
            fails(IllegalArgumentException.class, () -> NDArray.stack(List.of(x, x.to(Device.cpu(1))), 0), "stack:", "device");
            fails(IllegalArgumentException.class, () -> x.expand(2, 3).subInPlace(NDArray.ones(4, 3)), "subInPlace:");
            try (NDArray e = NDArray.ones(1, 3).expand(2, 3)) {
                fails(IllegalStateException.class, e::zero, "zero:", "stride 0");
            }
            fails(IllegalArgumentException.class, () -> x.broadcastTo(3, 3), "broadcastTo:");
            fails(IllegalArgumentException.class, () -> NDArray.fromBytes(new byte[8], DType.F32, 3), "fromBytes:", "3");
            io.jtensor.Generator g = new io.jtensor.Generator(1);
            fails(IllegalArgumentException.class, () -> NDArray.randn(g, DType.I64, Device.cpu(), 2), "randn:", "floating");
            fails(IllegalArgumentException.class, () -> NDArray.uniform(g, 0, 1, DType.BOOL, Device.cpu(), 2), "uniform:", "floating");
            fails(IllegalArgumentException.class, () -> NDArray.normal(g, 0, 1, DType.F32, Device.cpu(), -1), "normal:", "-1");
            fails(IllegalArgumentException.class, () -> NDArray.bernoulli(g, 0.5, DType.F32, Device.cpu(), -1), "bernoulli:", "-1");
            fails(IllegalArgumentException.class, () -> NDArray.dropoutMask(g, 0.5, DType.F32, Device.cpu(), -3), "dropout:", "-3");
            fails(IllegalArgumentException.class, () -> NDArray.randint(g, 0, 5, Device.cpu(), -4), "randint:", "-4");
        }
    }

    @Test
    void backwardHelpersAndParamsNameThemselves() {
        try (NDArray g = NDArray.zeros(DType.I64, Device.cpu(), 1, 1, 2, 2); NDArray idx = NDArray.zeros(DType.I64, Device.cpu(), 1, 1, 2, 2)) {
            fails(IllegalArgumentException.class, () -> NDArray.maxPool2dBackward(g, idx, new long[] {1, 1, 4, 4}), "maxPool2dBackward:", "floating");
            fails(IllegalArgumentException.class, () -> NDArray.avgPool2dBackward(g, 2, 2, ConvParams.of(2, 0), true, new long[] {1, 1, 4, 4}),
                    "avgPool2dBackward:", "floating");
        }
        fails(IllegalArgumentException.class, () -> new ConvParams(1, 1, 0, 0, 1, 1, 0), "ConvParams:", "groups", "got 0");
        fails(IllegalArgumentException.class, () -> new ConvParams(0, 1, 0, 0, 1, 1, 1), "ConvParams:", "stride");
        fails(IllegalArgumentException.class, () -> new ConvParams(1, 1, -1, 0, 1, 1, 1), "ConvParams:", "padding");
        fails(IllegalArgumentException.class, () -> new ConvParams(1, 1, 0, 0, 0, 1, 1), "ConvParams:", "dilation");
    }

    @Test
    void opErrorsKeepsTheClassTheRestOfTheMessageAndTheCause() {
        IllegalArgumentException inner = new IllegalArgumentException("sum: dim 3 out of range");
        RuntimeException r = OpErrors.renamed("mean", inner);
        assertTrue(r.getClass() == IllegalArgumentException.class && r.getMessage().equals("mean: dim 3 out of range (in sum)")
                && r.getCause() == inner, r.toString());
        NumberFormatException subclass = new NumberFormatException("x");
        assertTrue(OpErrors.renamed("mean", subclass) == subclass, "a subclass passes through");
        IllegalStateException own = new IllegalStateException("mean: closed");
        assertTrue(OpErrors.renamed("mean", own) == own, "a message already naming the op is kept");
    }
}
