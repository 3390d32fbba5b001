package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import java.util.List;
import java.util.function.Function;

/** Seeded F64 inputs and a gradient check with the defaults every op test uses. */
final class Inputs {
    private Inputs() {}

    static Tensor randn(long seed, long... shape) {
        return Tensor.randn(new Generator(seed), DType.F64, Device.cpu(), shape);
    }

    /** Uniform in [lo, hi): for ops defined on part of the line (log, sqrt) or kept away from a kink. */
    static Tensor uniform(long seed, double lo, double hi, long... shape) {
        return Tensor.wrap(NDArray.uniform(new Generator(seed), lo, hi, DType.F64, Device.cpu(), shape));
    }

    static void gradcheck(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        GradCheck.check(f, List.of(inputs));
    }

    static Tensor x0(List<Tensor> in) { return in.get(0); }

    static void assertClose(double[] expected, double[] actual, double tol) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(expected[i], actual[i], tol, "element " + i);
        }
    }
}
