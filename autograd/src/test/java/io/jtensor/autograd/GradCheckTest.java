package io.jtensor.autograd;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.NDArray;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradCheckTest {

    /** sin with a deliberately wrong derivative (2x instead of cos x). */
    private static Tensor wrongSin(Tensor x) {
        return Recorder.record("wrongSin", x.data().sin(), x, s -> {
            NDArray xv = s.save(x.data());
            return (g, need) -> {
                try (NDArray d = xv.mul(2.0)) {
                    return new NDArray[] {g.mul(d)};
                }
            };
        });
    }

    @Test void passesACorrectRule() {
        GradCheck.Result r = GradCheck.check(in -> in.get(0).sin(), List.of(Inputs.randn(1, 3, 2)));
        assertTrue(r.maxAbsError() < 1e-6, "error " + r.maxAbsError());
    }

    @Test void catchesAWrongRuleAndNamesTheElement() {
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.check(in -> wrongSin(in.get(0)), List.of(Inputs.randn(2, 3, 2))));
        assertTrue(e.getMessage().contains("element") && e.getMessage().contains("analytic") && e.getMessage().contains("numeric"), e.getMessage());
    }

    @Test void checksF32InputsInF64() {
        Tensor x = Tensor.of(new float[] {0.3f, -1.2f, 2}, 3);
        GradCheck.check(in -> {
            assertEquals(io.jtensor.DType.F64, in.get(0).dtype());
            return in.get(0).exp();
        }, List.of(x));
    }

    @Test void onlyInputsThatRequireGradAreChecked() {
        // b's gradient is wrong on purpose; only a is checked, so the check passes
        Tensor a = Inputs.randn(3, 3).requiresGrad(true);
        Tensor b = Inputs.randn(4, 3);
        GradCheck.check(in -> in.get(0).mul(wrongSin(in.get(1))), List.of(a, b));
    }
}
