package io.jtensor;

import static io.jtensor.Checks.on;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ReduceOp;
import io.jtensor.backend.UnaryOp;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input fails early with messages that name the op, what was expected and what came. */
class ErrorsTest {

    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention " + p);
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void shapeMismatches(Device d) {
        try (NDArray a = NDArray.zeros(DType.F32, d, 2, 3); NDArray b = NDArray.zeros(DType.F32, d, 3, 2)) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.mul(b)), "mul", "[2, 3]", "[3, 2]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.lt(b)), "lt", "[2, 3]", "[3, 2]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> NDArray.where(a, a, b)), "where");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.copyFrom(b)), "expand", "[3, 2]", "[2, 3]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> NDArray.cat(List.of(a, b), 0)), "cat", "[2, 3]", "[3, 2]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.view(4, 2)), "view", "6 elements");
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void dimsOutOfRange(Device d) {
        try (NDArray a = NDArray.zeros(DType.F32, d, 2, 3)) {
            assertMentions(assertThrows(IndexOutOfBoundsException.class, () -> a.transpose(0, 2)), "transpose", "dim 2", "rank 2");
            assertMentions(assertThrows(IndexOutOfBoundsException.class, () -> a.softmax(-3)), "softmax", "-3");
            assertMentions(assertThrows(IndexOutOfBoundsException.class, () -> a.unsqueeze(4)), "unsqueeze", "4");
            assertMentions(assertThrows(IndexOutOfBoundsException.class, () -> a.mean(5, false)), "mean", "5");
            assertMentions(assertThrows(IndexOutOfBoundsException.class, () -> a.size(2)), "size", "2");
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void backendChecksItsOwnContract(Device d) {
        // Callers that skip NDArray still get a clear error rather than a stray memory access.
        try (NDArray a = NDArray.zeros(DType.F32, d, 4); NDArray b = NDArray.zeros(DType.F32, d, 5); NDArray out = NDArray.empty(DType.F32, d, 4);
             NDArray small = NDArray.empty(DType.F32, d, 2, 1)) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.backend().binary(BinaryOp.ADD, a, b, out)), "add", "[4]", "[5]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.backend().unary(UnaryOp.EXP, b, out, 0, 0)), "exp", "[4]", "[5]");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.backend().copy(b, out)), "copy");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> a.backend().reduce(ReduceOp.SUM, a, new int[] {0}, small, null)), "sum");
        }
        try (NDArray ints = on(d, DType.I64, new double[] {1, 2}, 2)) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> ints.pow(-1)), "pow", "-1");
        }
    }
}
