package io.jtensor.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, log and tanh of float lanes from additions, multiplications, fused multiply-adds and bit operations only, each
 * with a scalar twin that performs the same operations in the same order, so that a lane and the scalar give the
 * same bits.
 *
 * <p>Why not {@code lanewise(VectorOperators.EXP)}: C2 compiles it to an intrinsic whose results differ in the last
 * bit from the Java fallback that the interpreter and C1 run, so an op's result depended on whether its method had
 * been compiled yet, and seeded training was not reproducible (softmax, sigmoid, tanh; `JitIndependenceTest`).
 * The operations used here are correctly rounded in every tier.
 *
 * <p>The algorithms are the classic ones of the Cephes library (S. L. Moshier): exp by x = n ln 2 + r, a degree-6
 * polynomial for exp(r) and 2^n from the exponent bits (applied in two halves, so that results in the subnormal
 * range come out right); log by x = m 2^e with m in [sqrt(1/2), sqrt(2)), a degree-9 polynomial for log(1 + f);
 * tanh by an odd polynomial below 0.625 and 1 - 2 / (exp(2|x|) + 1) above. Within 1 ulp of the correctly rounded
 * result for exp, log and tanh, 2 for sigmoid (VectorMathTest, 200,000 arguments each of every magnitude).
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 in two parts, the first exact in few bits, so that n * LN2_HI is exact. */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND = 12582912f;
    /** exp overflows to infinity above this and is 0 (after rounding) below the lower clamp. */
    private static final float EXP_HI = 88.8f, EXP_LO = -104f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f, E3 = 4.1665795894e-2f,
            E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    private static final float SQRT_HALF = 0.707106781186547524f;
    private static final float MIN_NORMAL = Float.MIN_NORMAL, TWO_25 = 33554432f;
    private static final float[] L = {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f, 1.4249322787e-1f,
        -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f};

    private static final float TANH_SMALL = 0.625f;
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f, T3 = 1.33314422036e-1f,
            T4 = -3.33332819422e-1f;

    private VectorMath() {}

    private static FloatVector bc(float c) { return FloatVector.broadcast(S, c); }

    // ------------------------------------------------------------------------------------------------- exp

    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);  // NaN stays NaN
        FloatVector n = xc.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = n.fma(bc(-LN2_HI), xc);
        r = n.fma(bc(-LN2_LO), r);
        FloatVector p = r.fma(E0, E1);
        p = p.fma(r, bc(E2));
        p = p.fma(r, bc(E3));
        p = p.fma(r, bc(E4));
        p = p.fma(r, bc(E5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector k = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1), k2 = k.sub(k1);
        y = y.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        return y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
    }

    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float n = Math.fma(xc, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, E0, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        float y = Math.fma(p, r * r, r) + 1f;
        int k = (int) n, k1 = k >> 1, k2 = k - k1;
        y = y * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k2 + 127) << 23);
        return x > EXP_HI ? Float.POSITIVE_INFINITY : y;
    }

    // ------------------------------------------------------------------------------------------------- log

    static FloatVector log(FloatVector x) {
        VectorMask<Float> sub = x.compare(VectorOperators.LT, MIN_NORMAL);
        FloatVector xs = x.mul(TWO_25).blend(x, sub.not());
        IntVector bits = xs.reinterpretAsInts();
        FloatVector fe = (FloatVector) bits.lanewise(VectorOperators.LSHR, 23).and(0xff).sub(126).convert(VectorOperators.I2F, 0);
        fe = fe.sub(FloatVector.zero(S).blend(25f, sub));
        FloatVector m = bits.and(0x007fffff).or(0x3f000000).reinterpretAsFloats();
        VectorMask<Float> small = m.compare(VectorOperators.LT, SQRT_HALF);
        fe = fe.sub(FloatVector.zero(S).blend(1f, small));
        m = m.sub(1f).add(FloatVector.zero(S).blend(m, small));  // m + m - 1 where small, m - 1 elsewhere (both exact)
        FloatVector z = m.mul(m);
        FloatVector y = m.fma(L[0], L[1]);
        for (int i = 2; i < L.length; i++) y = y.fma(m, bc(L[i]));
        y = y.mul(m).mul(z);
        y = fe.fma(bc(LN2_LO), y);
        y = z.fma(bc(-0.5f), y);
        FloatVector out = fe.fma(bc(LN2_HI), m.add(y));
        out = out.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        out = out.blend(Float.NaN, x.compare(VectorOperators.LT, 0f).or(x.compare(VectorOperators.NE, x)));
        return out.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY));
    }

    static float log(float x) {
        boolean sub = x < MIN_NORMAL;
        float xs = sub ? x * TWO_25 : x;
        int bits = Float.floatToRawIntBits(xs);
        float fe = (float) (((bits >>> 23) & 0xff) - 126);
        fe = fe - (sub ? 25f : 0f);
        float m = Float.intBitsToFloat((bits & 0x007fffff) | 0x3f000000);
        boolean small = m < SQRT_HALF;
        fe = fe - (small ? 1f : 0f);
        m = (m - 1f) + (small ? m : 0f);
        float z = m * m;
        float y = Math.fma(m, L[0], L[1]);
        for (int i = 2; i < L.length; i++) y = Math.fma(y, m, L[i]);
        y = y * m * z;
        y = Math.fma(fe, LN2_LO, y);
        y = Math.fma(z, -0.5f, y);
        float out = Math.fma(fe, LN2_HI, m + y);
        if (x == 0f) return Float.NEGATIVE_INFINITY;
        if (x < 0f || x != x) return Float.NaN;
        return x == Float.POSITIVE_INFINITY ? Float.POSITIVE_INFINITY : out;
    }

    // ------------------------------------------------------------------------------------------------- tanh

    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector two = bc(2f);
        FloatVector large = bc(1f).sub(two.div(exp(a.mul(2f)).add(1f)));
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(T0, T1);
        p = p.fma(z, bc(T2));
        p = p.fma(z, bc(T3));
        p = p.fma(z, bc(T4));
        FloatVector small = p.mul(z).fma(x, x).blend(x, x.compare(VectorOperators.EQ, 0f));  // keeps -0
        return small.blend(large, a.compare(VectorOperators.GT, TANH_SMALL));
    }

    static float tanh(float x) {
        float a = Math.abs(x);
        if (a > TANH_SMALL) {
            float large = 1f - 2f / (exp(a * 2f) + 1f);
            return x < 0f ? -large : large;
        }
        float z = x * x;
        float p = Math.fma(z, T0, T1);
        p = Math.fma(p, z, T2);
        p = Math.fma(p, z, T3);
        p = Math.fma(p, z, T4);
        return x == 0f ? x : Math.fma(p * z, x, x);
    }

    /**
     * 1 / (1 + exp(-x)), as e / (1 + e) with e = exp(x) for negative x, so that results far below 1 (down to the
     * subnormal range) keep their precision instead of becoming 1 / inf.
     */
    static FloatVector sigmoid(FloatVector x) {
        FloatVector one = bc(1f);
        FloatVector e = exp(x.abs().neg());
        return one.blend(e, x.compare(VectorOperators.LT, 0f)).div(e.add(one));
    }

    static float sigmoid(float x) {
        float e = exp(-Math.abs(x));
        return (x < 0f ? e : 1f) / (e + 1f);
    }
}
