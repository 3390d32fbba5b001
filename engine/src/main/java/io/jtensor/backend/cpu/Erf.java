package io.jtensor.backend.cpu;

/**
 * The complementary error function, which Java's Math lacks; exact GELU needs Phi(x) = erfc(-x / sqrt 2) / 2.
 * Working with erfc rather than 1 + erf keeps the relative accuracy in GELU's negative tail, where 1 + erf
 * cancels. {@link #erfc} is accurate to a few ulps of double and serves F64; {@link #erfcFast} (relative error
 * about 1.2e-7 everywhere) serves the float formats, whose results it rounds into.
 */
final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double ONE_OVER_SQRT_PI = 1.0 / Math.sqrt(Math.PI);

    private Erf() {}

    static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x >= 1.0) return continuedFractionErfc(x);
        if (x <= -1.0) return 2.0 - continuedFractionErfc(-x);
        // |x| < 1: erfc > 0.15, so 1 - erf loses less than one digit.
        double e = seriesErf(Math.abs(x));
        return x < 0 ? 1.0 + e : 1.0 - e;
    }

    /**
     * erf(x) = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (1*3*...*(2n+1)) for x >= 0: every term is positive, so
     * there is no cancellation, and for x < 1 it converges within about 25 terms.
     */
    private static double seriesErf(double x) {
        double x2 = x * x;
        double term = x, sum = x;
        for (int n = 1; n < 200; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    }

    /**
     * erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))) for x >= 1, evaluated
     * with the modified Lentz method; from x = 1 on it reaches double precision within a few hundred terms.
     */
    private static double continuedFractionErfc(double x) {
        if (x > 27) return 0; // below the smallest double
        final double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 2000; k++) {
            double ak = k * 0.5;
            d = x + ak * d;
            if (d == 0) d = tiny;
            c = x + ak / c;
            if (c == 0) c = tiny;
            d = 1 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) * ONE_OVER_SQRT_PI / f;
    }

    /**
     * A Chebyshev fit of erfc (Press et al., Numerical Recipes, "erfcc") with fractional error below 1.2e-7 for
     * every x: one exp and a degree-9 polynomial.
     */
    static double erfcFast(double x) {
        if (Double.isNaN(x)) return x;
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.exp(-z * z + poly);
        return x >= 0 ? r : 2.0 - r;
    }
}
