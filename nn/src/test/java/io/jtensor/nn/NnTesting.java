package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/** Shared helpers of the nn tests: deterministic data, comparisons, and a finite-difference check through modules. */
final class NnTesting {
    private NnTesting() {}

    /** n values in [-1, 1) from a fixed seed. */
    static double[] values(long seed, int n) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble() * 2 - 1;
        return v;
    }

    static Tensor f64(long seed, long... shape) {
        return Tensor.of(values(seed, Math.toIntExact(io.jtensor.Shapes.numel(shape))), shape);
    }

    static Tensor f32(long seed, long... shape) {
        double[] d = values(seed, Math.toIntExact(io.jtensor.Shapes.numel(shape)));
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return Tensor.of(f, shape);
    }

    /** Sets a parameter's values (cast to its dtype) from doubles. */
    static void set(Tensor param, double... v) {
        try (NDArray src = NDArray.of(v, param.shape())) {
            param.data().copyFrom(src);
        }
    }

    static void assertClose(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double allowed = tol * Math.max(1, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= allowed)) {
                fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i] + " (tolerance " + allowed + ")\n expected "
                        + Arrays.toString(expected) + "\n actual   " + Arrays.toString(actual));
            }
        }
    }

    static void assertClose(double[] expected, Tensor actual, double tol, String what) {
        assertClose(expected, actual.toDoubleArray(), tol, what);
    }

    /**
     * Checks the gradients of r . f(x) with respect to x (when it is floating) and to every parameter of
     * {@code module} against central differences, in F64 (the module is converted). {@code beforeEach} runs before
     * every evaluation (e.g. to reseed a dropout generator so that every pass draws the same mask).
     */
    static void gradCheckModule(Module module, Function<Tensor, Tensor> f, Tensor input, Runnable beforeEach) {
        module.to(DType.F64);
        boolean checkInput = input.dtype().isFloating();
        long[] inShape = input.shape();
        double[] inValues = checkInput ? input.to(DType.F64).toDoubleArray() : null;
        Map<String, Tensor> params = module.namedParameters();

        module.zeroGrad();
        Tensor x = checkInput ? Tensor.of(inValues.clone(), inShape).requiresGrad(true) : input;
        beforeEach.run();
        Tensor out = f.apply(x);
        double[] weights = projection(Math.toIntExact(out.numel()));
        out.backward(Tensor.of(weights, out.shape()));

        List<String> names = new ArrayList<>();
        List<double[]> analytic = new ArrayList<>();
        if (checkInput) {
            names.add("input");
            analytic.add(x.grad() == null ? new double[inValues.length] : x.grad().toDoubleArray());
        }
        for (var e : params.entrySet()) {
            names.add(e.getKey());
            Tensor g = e.getValue().grad();
            analytic.add(g == null ? new double[Math.toIntExact(e.getValue().numel())] : g.toDoubleArray());
        }
        module.zeroGrad();

        double eps = 1e-6, atol = 1e-5, rtol = 1e-3;
        int k = 0;
        if (checkInput) {
            double[] v = inValues;
            double[] a = analytic.get(k++);
            for (int j = 0; j < v.length; j++) {
                double keep = v[j];
                v[j] = keep + eps;
                double plus = project(module, f, Tensor.of(v.clone(), inShape), weights, beforeEach);
                v[j] = keep - eps;
                double minus = project(module, f, Tensor.of(v.clone(), inShape), weights, beforeEach);
                v[j] = keep;
                compare("input", j, a[j], (plus - minus) / (2 * eps), atol, rtol);
            }
        }
        for (var e : params.entrySet()) {
            Tensor p = e.getValue();
            double[] v = p.toDoubleArray();
            double[] a = analytic.get(k++);
            long[] shape = p.shape();
            for (int j = 0; j < v.length; j++) {
                double keep = v[j];
                v[j] = keep + eps;
                set(p, v);
                double plus = project(module, f, input(inValues, inShape, input), weights, beforeEach);
                v[j] = keep - eps;
                set(p, v);
                double minus = project(module, f, input(inValues, inShape, input), weights, beforeEach);
                v[j] = keep;
                set(p, v);
                compare(e.getKey() + " " + Arrays.toString(shape), j, a[j], (plus - minus) / (2 * eps), atol, rtol);
            }
        }
    }

    private static Tensor input(double[] values, long[] shape, Tensor original) {
        return values == null ? original : Tensor.of(values.clone(), shape);
    }

    private static void compare(String what, int j, double analytic, double numeric, double atol, double rtol) {
        double err = Math.abs(analytic - numeric);
        if (!(err <= atol + rtol * Math.abs(numeric))) {
            fail("gradient of " + what + " element " + j + ": analytic " + analytic + " vs numeric " + numeric);
        }
    }

    private static double project(Module m, Function<Tensor, Tensor> f, Tensor x, double[] weights, Runnable beforeEach) {
        try (GradMode.Guard g = GradMode.noGrad()) {
            beforeEach.run();
            double[] y = f.apply(x).toDoubleArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += weights[i] * y[i];
            return s;
        }
    }

    private static double[] projection(int n) {
        Random r = new Random(99);
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = (0.5 + r.nextDouble()) * (r.nextBoolean() ? 1 : -1);
        return w;
    }

    static void gradCheckModule(Module module, Tensor input) { gradCheckModule(module, module::forward, input, () -> {}); }
}
