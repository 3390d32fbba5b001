package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.memory.MemoryScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Checks analytic gradients against central finite differences, in F64. The function's output is projected onto
 * fixed random weights r (so one backward pass gives the vector-Jacobian product r^T J), and each element of each
 * checked input is perturbed by +-eps to estimate the same product numerically.
 */
public final class GradCheck {
    private GradCheck() {}

    /** How close the gradients came: the largest absolute difference and where the tolerance was tightest. */
    public record Result(double maxAbsError, double worstRatio, String worst) {}

    /**
     * Compares gradients of {@code f} at {@code inputs}. Floating inputs that require grad are checked (all floating
     * inputs when none requires grad); they are converted to F64 first, other inputs (e.g. indices) are passed as
     * they are. An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
     *
     * @return the result when every element passes
     * @throws AssertionError naming the worst element otherwise
     */
    public static Result check(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, double eps, double atol, double rtol) {
        int n = inputs.size();
        boolean anyRequires = inputs.stream().anyMatch(t -> t.dtype().isFloating() && t.requiresGrad());
        boolean[] checked = new boolean[n];
        double[][] values = new double[n][];
        long[][] shapes = new long[n][];
        for (int i = 0; i < n; i++) {
            Tensor t = inputs.get(i);
            shapes[i] = t.shape();
            if (t.dtype().isFloating()) {
                values[i] = t.toDoubleArray();
                checked[i] = !anyRequires || t.requiresGrad();
            }
        }

        double[][] analytic = new double[n][];
        double[] weights;
        try (MemoryScope scope = MemoryScope.open()) {
            List<Tensor> leaves = build(inputs, values, shapes, checked, true);
            Tensor out = f.apply(leaves);
            if (!out.dtype().isFloating()) throw new IllegalArgumentException("gradCheck: the function returned " + out.dtype() + ", expected a floating tensor");
            weights = projection(out.numel());
            if (out.requiresGrad()) out.backward(Tensor.of(weights, out.shape()));
            for (int i = 0; i < n; i++) {
                if (!checked[i]) continue;
                Tensor g = leaves.get(i).grad();
                analytic[i] = g == null ? new double[values[i].length] : g.toDoubleArray();
                leaves.get(i).zeroGrad();
            }
        }

        double maxAbs = 0, worstRatio = -1;
        String worst = "no elements checked";
        int failures = 0, total = 0;
        for (int i = 0; i < n; i++) {
            if (!checked[i]) continue;
            double[] v = values[i];
            for (int j = 0; j < v.length; j++) {
                double keep = v[j];
                v[j] = keep + eps;
                double plus = projected(f, inputs, values, shapes, checked, weights);
                v[j] = keep - eps;
                double minus = projected(f, inputs, values, shapes, checked, weights);
                v[j] = keep;
                double numeric = (plus - minus) / (2 * eps);
                double a = analytic[i][j];
                double err = Math.abs(a - numeric);
                double allowed = atol + rtol * Math.abs(numeric);
                double ratio = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / allowed;
                total++;
                if (!(err <= allowed)) failures++;
                maxAbs = Math.max(maxAbs, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
                if (ratio > worstRatio) {
                    worstRatio = ratio;
                    worst = "input " + i + " " + Arrays.toString(shapes[i]) + " element " + j + " " + Arrays.toString(unravel(j, shapes[i]))
                            + ": analytic=" + a + " numeric=" + numeric + " |diff|=" + err + " allowed=" + allowed;
                }
            }
        }
        if (failures > 0) {
            throw new AssertionError("gradCheck failed: " + failures + " of " + total + " elements out of tolerance (atol="
                    + atol + ", rtol=" + rtol + "); worst at " + worst);
        }
        return new Result(maxAbs, worstRatio, worst);
    }

    /** Defaults suited to F64: eps 1e-6, atol 1e-5, rtol 1e-3. */
    public static Result check(Function<List<Tensor>, Tensor> f, List<Tensor> inputs) {
        return check(f, inputs, 1e-6, 1e-5, 1e-3);
    }

    /** r . f(values), evaluated without recording. */
    private static double projected(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, double[][] values, long[][] shapes,
                                    boolean[] checked, double[] weights) {
        try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor out = f.apply(build(inputs, values, shapes, checked, false));
            double[] y = out.toDoubleArray();
            double s = 0;
            for (int k = 0; k < y.length; k++) s += weights[k] * y[k];
            return s;
        }
    }

    /** Fresh F64 tensors for the floating inputs (leaves requiring grad where checked, if asked); others as given. */
    private static List<Tensor> build(List<Tensor> inputs, double[][] values, long[][] shapes, boolean[] checked, boolean grad) {
        List<Tensor> out = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            if (values[i] == null) {
                out.add(inputs.get(i));
                continue;
            }
            Tensor t = Tensor.of(values[i].clone(), shapes[i]);
            if (t.dtype() != DType.F64) throw new IllegalStateException("gradCheck: expected F64 copies");
            if (grad && checked[i]) t.requiresGrad(true);
            out.add(t);
        }
        return out;
    }

    /** Fixed weights away from zero, with mixed signs, so that no element's contribution can vanish. */
    private static double[] projection(long count) {
        Random r = new Random(1234);
        double[] w = new double[Math.toIntExact(count)];
        for (int k = 0; k < w.length; k++) w[k] = (0.5 + r.nextDouble()) * (r.nextBoolean() ? 1 : -1);
        return w;
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return idx;
    }
}
