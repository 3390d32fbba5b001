package io.jtensor.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * VectorMath's exp, log and tanh against the correctly rounded results (Math's, in double, rounded once), over
 * random arguments of every magnitude and the special values; and each vector lane against its scalar twin, bit for
 * bit (the tails of a vector loop take the scalar one).
 */
class VectorMathTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private interface Scalar {
        float apply(float x);
    }

    /** Random floats: uniform over [lo, hi], plus log-uniform magnitudes of both signs within it. */
    private static float[] arguments(long seed, float lo, float hi, float... specials) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 200_000;
        float[] v = new float[n + specials.length];
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0) v[i] = (float) r.nextDouble(lo, hi);
            else {
                double mag = Math.exp(r.nextDouble(-100, Math.log(Math.max(Math.abs(lo), Math.abs(hi)))));
                v[i] = (float) (r.nextBoolean() && lo < 0 ? -mag : mag);
            }
        }
        System.arraycopy(specials, 0, v, n, specials.length);
        return v;
    }

    /** Largest error in units of the last place of the correctly rounded result; vector and scalar must agree bitwise. */
    private static double check(String name, float[] x, UnaryOperator<FloatVector> vector, Scalar scalar, DoubleUnaryOperator exact) {
        int len = x.length / S.length() * S.length();
        float[] got = new float[len];
        for (int i = 0; i < len; i += S.length()) vector.apply(FloatVector.fromArray(S, x, i)).intoArray(got, i);
        double worst = 0;
        for (int i = 0; i < len; i++) {
            float s = scalar.apply(x[i]);
            assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(got[i]), name + "(" + x[i] + "): lane " + got[i] + " but scalar " + s);
            float ref = (float) exact.applyAsDouble(x[i]);
            if (Float.isNaN(ref) || Float.isInfinite(ref) || ref == 0) {
                assertEquals(Float.floatToIntBits(ref), Float.floatToIntBits(got[i]), name + "(" + x[i] + ")");
                continue;
            }
            worst = Math.max(worst, Math.abs((double) got[i] - ref) / Math.ulp(ref));
        }
        return worst;
    }

    @Test
    void expIsWithinAnUlpAndExactAtTheEdges() {
        float[] x = arguments(1, -110, 95, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 88.72283f, 88.72284f,
                -87.33655f, -103.9f, -104.5f, 1e-10f, -1e-10f);
        double worst = check("exp", x, VectorMath::exp, VectorMath::exp, Math::exp);
        assertTrue(worst <= 1, "exp: worst error " + worst + " ulp");
    }

    @Test
    void logIsWithinAnUlpFromSubnormalsToInfinity() {
        float[] x = arguments(2, 0, Float.MAX_VALUE, Float.NaN, Float.POSITIVE_INFINITY, 0f, -0f, -1f, Float.MIN_VALUE, Float.MIN_NORMAL,
                1f, 0.70710677f, 0.70710683f, 1.0000001f, 0.99999994f);
        double worst = check("log", x, VectorMath::log, VectorMath::log, Math::log);
        assertTrue(worst <= 1, "log: worst error " + worst + " ulp");
    }

    @Test
    void tanhIsWithinAnUlpAndKeepsTheSignOfZero() {
        float[] x = arguments(3, -12, 12, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 0.625f, 0.62500006f,
                -0.625f, 1e-30f, 9f, 20f);
        double worst = check("tanh", x, VectorMath::tanh, VectorMath::tanh, Math::tanh);
        assertTrue(worst <= 1, "tanh: worst error " + worst + " ulp");
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(VectorMath.tanh(-0f)), "tanh(-0) is -0");
    }

    @Test
    void sigmoidIsWithinTwoUlp() {
        float[] x = arguments(4, -100, 100, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f);
        double worst = check("sigmoid", x, VectorMath::sigmoid, VectorMath::sigmoid, v -> 1 / (1 + Math.exp(-v)));
        assertTrue(worst <= 2, "sigmoid: worst error " + worst + " ulp");
    }
}
