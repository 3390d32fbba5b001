package io.jtensor.autograd;

import static io.jtensor.autograd.Inputs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import org.junit.jupiter.api.Test;

class PointwiseGradTest {

    // ------------------------------------------------------------------ binary, with broadcasting

    @Test void addBroadcastsBothWays() { gradcheck(in -> in.get(0).add(in.get(1)), randn(1, 3, 1), randn(2, 1, 4)); }
    @Test void subBroadcastsAgainstLowerRank() { gradcheck(in -> in.get(0).sub(in.get(1)), randn(3, 2, 3, 4), randn(4, 4)); }
    @Test void mulBroadcasts() { gradcheck(in -> in.get(0).mul(in.get(1)), randn(5, 3, 1), randn(6, 1, 4)); }
    @Test void divBroadcasts() { gradcheck(in -> in.get(0).div(in.get(1)), randn(7, 3, 4), uniform(8, 0.5, 2, 4)); }
    @Test void powOfTensors() { gradcheck(in -> in.get(0).pow(in.get(1)), uniform(9, 0.5, 2, 3, 4), randn(10, 1, 4)); }
    @Test void maximumBroadcasts() { gradcheck(in -> in.get(0).maximum(in.get(1)), randn(11, 3, 4), randn(12, 4)); }
    @Test void minimumBroadcasts() { gradcheck(in -> in.get(0).minimum(in.get(1)), randn(13, 3, 1), randn(14, 1, 4)); }

    @Test void whereRoutesEachSide() {
        Tensor cond = Tensor.of(new boolean[] {true, false, true, false, false, true}, 2, 3);
        gradcheck(in -> Tensor.where(in.get(0), in.get(1), in.get(2)), cond, randn(15, 2, 3), randn(16, 1, 3));
    }

    @Test void mulGradientIsTheOtherFactor() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor y = Tensor.of(new double[] {4, 5, 6}, 3).requiresGrad(true);
        x.mul(y).sum().backward();
        assertArrayEquals(new double[] {4, 5, 6}, x.grad().toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 3}, y.grad().toDoubleArray());
    }

    @Test void maximumSplitsTiesEvenly() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor y = Tensor.of(new double[] {1, 3}, 2).requiresGrad(true);
        x.maximum(y).sum().backward();
        assertArrayEquals(new double[] {0.5, 0}, x.grad().toDoubleArray());
        assertArrayEquals(new double[] {0.5, 1}, y.grad().toDoubleArray());
    }

    // ------------------------------------------------------------------ scalar operands

    @Test void addScalar() { gradcheck(in -> in.get(0).add(2.5), randn(20, 3, 4)); }
    @Test void subScalar() { gradcheck(in -> in.get(0).sub(1.5), randn(21, 3, 4)); }
    @Test void mulScalar() { gradcheck(in -> in.get(0).mul(-3.0), randn(22, 3, 4)); }
    @Test void divScalar() { gradcheck(in -> in.get(0).div(4.0), randn(23, 3, 4)); }
    @Test void rsubScalar() { gradcheck(in -> in.get(0).rsub(1.0), randn(24, 3, 4)); }
    @Test void rdivScalar() { gradcheck(in -> in.get(0).rdiv(2.0), uniform(25, 0.5, 2, 3, 4)); }
    @Test void powScalarCube() { gradcheck(in -> in.get(0).pow(3.0), randn(26, 3, 4)); }
    @Test void powScalarSquare() { gradcheck(in -> in.get(0).pow(2.0), randn(27, 3, 4)); }
    @Test void powScalarFractional() { gradcheck(in -> in.get(0).pow(0.7), uniform(28, 0.5, 2, 3, 4)); }

    // ------------------------------------------------------------------ unary math

    @Test void neg() { gradcheck(in -> in.get(0).neg(), randn(30, 3, 4)); }
    @Test void abs() { gradcheck(in -> in.get(0).abs(), randn(31, 3, 4)); }
    @Test void exp() { gradcheck(in -> in.get(0).exp(), randn(32, 3, 4)); }
    @Test void log() { gradcheck(in -> in.get(0).log(), uniform(33, 0.2, 3, 3, 4)); }
    @Test void log1p() { gradcheck(in -> in.get(0).log1p(), uniform(34, -0.5, 3, 3, 4)); }
    @Test void expm1() { gradcheck(in -> in.get(0).expm1(), randn(35, 3, 4)); }
    @Test void sqrt() { gradcheck(in -> in.get(0).sqrt(), uniform(36, 0.2, 3, 3, 4)); }
    @Test void rsqrt() { gradcheck(in -> in.get(0).rsqrt(), uniform(37, 0.2, 3, 3, 4)); }
    @Test void reciprocal() { gradcheck(in -> in.get(0).reciprocal(), uniform(38, 0.5, 3, 3, 4)); }
    @Test void square() { gradcheck(in -> in.get(0).square(), randn(39, 3, 4)); }
    @Test void sin() { gradcheck(in -> in.get(0).sin(), randn(40, 3, 4)); }
    @Test void cos() { gradcheck(in -> in.get(0).cos(), randn(41, 3, 4)); }
    @Test void clamp() { gradcheck(in -> in.get(0).clamp(-0.5, 0.5), randn(42, 4, 5)); }
    @Test void clampMinOnly() { gradcheck(in -> in.get(0).clampMin(0.1), randn(43, 4, 5)); }

    @Test void clampPassesGradientOnlyInside() {
        Tensor x = Tensor.of(new double[] {-2, 0.25, 3}, 3).requiresGrad(true);
        x.clamp(-1, 1).sum().backward();
        assertArrayEquals(new double[] {0, 1, 0}, x.grad().toDoubleArray());
    }

    // ------------------------------------------------------------------ activations

    @Test void relu() { gradcheck(in -> in.get(0).relu(), randn(50, 4, 5)); }
    @Test void sigmoid() { gradcheck(in -> in.get(0).sigmoid(), randn(51, 4, 5)); }
    @Test void tanh() { gradcheck(in -> in.get(0).tanh(), randn(52, 4, 5)); }
    @Test void gelu() { gradcheck(in -> in.get(0).gelu(), randn(53, 4, 5)); }
    @Test void leakyRelu() { gradcheck(in -> in.get(0).leakyRelu(0.1), randn(54, 4, 5)); }
    @Test void elu() { gradcheck(in -> in.get(0).elu(1.3), randn(55, 4, 5)); }

    @Test void reluGradientIsTheStep() {
        Tensor x = Tensor.of(new double[] {-1, 2, -3, 4}, 4).requiresGrad(true);
        x.relu().sum().backward();
        assertArrayEquals(new double[] {0, 1, 0, 1}, x.grad().toDoubleArray());
    }

    // ------------------------------------------------------------------ non-contiguous inputs

    @Test void binaryOpOnTransposedInput() { gradcheck(in -> in.get(0).t().mul(in.get(1)), randn(60, 4, 3), randn(61, 3, 4)); }
    @Test void unaryOpOnSlicedInput() { gradcheck(in -> in.get(0).slice(1, 0, 5, 2).exp(), randn(62, 3, 5)); }
    @Test void activationOnPermutedInput() { gradcheck(in -> in.get(0).permute(2, 0, 1).tanh().mul(in.get(1)), randn(63, 2, 3, 4), randn(64, 4, 1, 3)); }

    // ------------------------------------------------------------------ what is not differentiated

    @Test void comparisonsGiveBoolWithoutGrad() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor c = x.gt(1.5);
        assertEquals(DType.BOOL, c.dtype());
        assertFalse(c.requiresGrad());
        assertArrayEquals(new boolean[] {false, true, true}, c.toBooleanArray());
        Tensor e = x.eq(Tensor.of(new double[] {1, 0, 3}, 3));
        assertArrayEquals(new boolean[] {true, false, true}, e.toBooleanArray());
        assertFalse(e.requiresGrad());
    }

    @Test void maskedFillRoutesGradientAroundTheMask() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor mask = Tensor.of(new boolean[] {false, true, false}, 3);
        Tensor y = x.maskedFill(mask, -7);
        assertArrayEquals(new double[] {1, -7, 3}, y.toDoubleArray());
        y.sum().backward();
        assertArrayEquals(new double[] {1, 0, 1}, x.grad().toDoubleArray());
    }
}
