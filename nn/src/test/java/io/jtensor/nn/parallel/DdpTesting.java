package io.jtensor.nn.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/** What the DDP tests share: fixed data, replicas built from one state, parameter snapshots and comparisons. */
final class DdpTesting {
    private DdpTesting() {}

    /** n floats in [-1, 1) from a fixed seed. */
    static float[] values(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    static NDArray input(long seed, long... shape) { return NDArray.of(values(seed, Math.toIntExact(io.jtensor.Shapes.numel(shape))), shape); }

    static NDArray labels(long seed, int n, int classes) {
        Random r = new Random(seed);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(classes);
        return NDArray.of(y, n);
    }

    /** Rows [start, start + count) of a batch, on {@code device}, as a tensor. */
    static Tensor rows(NDArray batch, long start, long count, Device device) {
        try (NDArray part = batch.narrow(0, start, count)) {
            return Tensor.wrap(part.to(device));
        }
    }

    /** {@code n} models with the same state (the first one's), all on the CPU; move them as the test needs. */
    static <M extends Module> List<M> copies(int n, Supplier<M> build) {
        java.util.ArrayList<M> out = new java.util.ArrayList<>();
        out.add(build.get());
        Map<String, NDArray> state = out.get(0).stateDict();
        try {
            for (int r = 1; r < n; r++) {
                M m = build.get();
                m.loadStateDict(state);
                out.add(m);
            }
            return out;
        } finally {
            state.values().forEach(NDArray::close);
        }
    }

    /** Every parameter and buffer by name, as doubles. */
    static Map<String, double[]> snapshot(Module m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        Map<String, NDArray> state = m.stateDict();
        try {
            state.forEach((k, v) -> out.put(k, v.toDoubleArray()));
        } finally {
            state.values().forEach(NDArray::close);
        }
        return out;
    }

    /** The gradients by parameter name (null where a parameter has none). */
    static Map<String, double[]> grads(Module m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> out.put(k, p.grad() == null ? null : p.grad().toDoubleArray()));
        return out;
    }

    static void assertClose(Map<String, double[]> expected, Map<String, double[]> actual, double tol, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": names");
        for (String k : expected.keySet()) {
            double[] e = expected.get(k), a = actual.get(k);
            if (e == null || a == null) {
                if (e != a) fail(what + ": " + k + " expected " + (e == null ? "no gradient" : "a gradient") + " but got " + (a == null ? "none" : "one"));
                continue;
            }
            assertEquals(e.length, a.length, what + ": " + k + " length");
            double scale = 0;
            for (double v : e) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < e.length; i++) {
                if (!(Math.abs(e[i] - a[i]) <= tol * Math.max(1e-3, scale))) {
                    fail(what + ": " + k + "[" + i + "] expected " + e[i] + " but was " + a[i] + " (tolerance " + tol + " x " + scale + ")");
                }
            }
        }
    }
}
