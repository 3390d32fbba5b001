package io.jtensor.backend.cpu;

/**
 * The error function, which Java's Math lacks; GELU needs it. {@link #erf} is accurate to a few ulps of double and
 * serves F64; {@link #erfFast} (about 1e-7 absolute error) serves the float formats, whose results it rounds into.
 */
final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double ONE_OVER_SQRT_PI = 1.0 / Math.sqrt(Math.PI);

    private Erf() {}

    static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double a = Math.abs(x);
        double r;
        if (a < 2.5) {
            r = seriesErf(a);
        } else if (a < 6.0) {
            r = 1.0 - continuedFractionErfc(a);
        } else {
            r = 1.0; // erfc(6) is below 2^-55, so erf rounds to 1
        }
        return x < 0 ? -r : r;
    }

    /**
     * erf(x) = 2/sqrt(pi) e^{-x^2} sum_n (2x^2)^n x / (1*3*...*(2n+1)): every term is positive, so there is no
     * cancellation, and for x < 2.5 it converges within about 60 terms.
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
     * erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated with the
     * modified Lentz method; for x >= 2.5 it converges quickly, and erf = 1 - erfc only needs it to a few digits.
     */
    private static double continuedFractionErfc(double x) {
        final double tiny = 1e-300;
        double f = x, c = x, d = 0;
        for (int k = 1; k < 500; k++) {
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

    /** Abramowitz and Stegun 7.1.26: max absolute error 1.5e-7, one exp; enough for results stored as float. */
    static double erfFast(double x) {
        double a = Math.abs(x);
        double t = 1.0 / (1.0 + 0.3275911 * a);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double r = 1.0 - poly * Math.exp(-a * a);
        return x < 0 ? -r : r;
    }
}
