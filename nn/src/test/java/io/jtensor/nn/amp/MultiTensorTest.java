package io.jtensor.nn.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.badinput.BadInput;
import io.jtensor.memory.MemoryScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The CPU twins of the multi-tensor kernels against loops in double written here: unscale with the inf check, and
 * SGD and Adam steps on fp32 masters from half gradients, writing half copies. {@link MultiTensorGpuTest} checks the
 * CUDA path against these twins.
 */
class MultiTensorTest {
    static final int[] SIZES = {1, 7, 1000, 4099};

    static float[] values(long seed, int n, double scale) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    /** Values as the half type stores them (what a half gradient holds), and the array. */
    static NDArray half(float[] v, DType t, Device d) {
        try (NDArray f = NDArray.of(v, v.length)) {
            return f.to(t).to(d);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "F32"})
    void unscaleIntoF32AndInPlaceWithTheInfCheck(DType t) {
        try (var scope = MemoryScope.open()) {
            List<NDArray> in = new ArrayList<>(), out = new ArrayList<>(), inPlace = new ArrayList<>();
            for (int k = 0; k < SIZES.length; k++) {
                in.add(half(values(k, SIZES[k], 1000), t, Device.cpu()));
                out.add(NDArray.zeros(DType.F32, Device.cpu(), SIZES[k]));
                inPlace.add(half(values(k, SIZES[k], 1000), t, Device.cpu()));
            }
            NDArray found = NDArray.zeros(DType.I32, Device.cpu(), 1);
            MultiTensor.unscale(in, out, 1.0 / 1024, found);
            MultiTensor.unscale(inPlace, inPlace, 1.0 / 1024, found);
            assertEquals(0, found.item(), "all finite");
            for (int k = 0; k < SIZES.length; k++) {
                double[] src = in.get(k).toDoubleArray();
                float[] got = out.get(k).toFloatArray();
                double[] gotInPlace = inPlace.get(k).toDoubleArray();
                for (int i = 0; i < src.length; i++) {
                    assertEquals(src[i] / 1024, got[i], Math.ulp((float) (src[i] / 1024)), "F32 out " + k + "/" + i);
                    // a power-of-two scale is exact in any float type unless the result is subnormal there
                    assertEquals(src[i] / 1024, gotInPlace[i], 1e-7 + 1e-6 * Math.abs(src[i]), "in place " + k + "/" + i);
                }
            }
            // one bad element anywhere in the list sets the flag
            float[] bad = values(9, 300, 1);
            bad[217] = Float.NaN;
            NDArray b = half(bad, t, Device.cpu());
            NDArray found2 = NDArray.zeros(DType.I32, Device.cpu(), 1);
            MultiTensor.unscale(List.of(in.get(0), b), List.of(out.get(0), NDArray.zeros(DType.F32, Device.cpu(), 300)), 0.5, found2);
            assertEquals(1, found2.item());
            bad[217] = Float.NEGATIVE_INFINITY;
            NDArray found3 = NDArray.zeros(DType.I32, Device.cpu(), 1);
            MultiTensor.unscale(List.of(half(bad, t, Device.cpu())), List.of(NDArray.zeros(DType.F32, Device.cpu(), 300)), 0.5, found3);
            assertEquals(1, found3.item());
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void sgdOnMastersFromHalfGradientsWritesTheHalfCopies(DType t) {
        double lr = 0.1, mom = 0.9, damp = 0.1, wd = 0.01, inv = 1.0 / 256;
        for (boolean nesterov : new boolean[] {false, true}) {
            double d = nesterov ? 0 : damp;
            try (var scope = MemoryScope.open()) {
                List<NDArray> ps = new ArrayList<>(), gs = new ArrayList<>(), bs = new ArrayList<>(), cs = new ArrayList<>();
                for (int k = 0; k < SIZES.length; k++) {
                    ps.add(NDArray.of(values(k, SIZES[k], 1), SIZES[k]));
                    gs.add(half(values(100 + k, SIZES[k], 256), t, Device.cpu()));
                    bs.add(NDArray.zeros(DType.F32, Device.cpu(), SIZES[k]));
                    cs.add(NDArray.zeros(t, Device.cpu(), SIZES[k]));
                }
                List<double[]> p0 = ps.stream().map(NDArray::toDoubleArray).toList(), g0 = gs.stream().map(NDArray::toDoubleArray).toList();
                MultiTensor.sgd(ps, gs, bs, cs, inv, lr, mom, d, wd, nesterov, true);
                MultiTensor.sgd(ps, gs, bs, cs, inv, lr, mom, d, wd, nesterov, false);
                for (int k = 0; k < SIZES.length; k++) {
                    double[] p = p0.get(k).clone(), buf = new double[p.length];
                    for (int step = 0; step < 2; step++) {
                        for (int i = 0; i < p.length; i++) {
                            double gi = g0.get(k)[i] * inv + wd * p[i];
                            buf[i] = step == 0 ? gi : mom * buf[i] + (1 - d) * gi;
                            p[i] -= lr * (nesterov ? gi + mom * buf[i] : buf[i]);
                        }
                    }
                    float[] got = ps.get(k).toFloatArray();
                    for (int i = 0; i < p.length; i++) assertEquals(p[i], got[i], 1e-5 * (1 + Math.abs(p[i])), "master " + k + "/" + i);
                    try (NDArray rounded = ps.get(k).to(t)) {
                        assertArrayEquals(rounded.toFloatArray(), cs.get(k).toFloatArray(), "half copy = master rounded, tensor " + k);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void adamAndAdamWOnMastersFromHalfGradients(DType t) {
        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05, inv = 0.5;
        for (boolean decoupled : new boolean[] {false, true}) {
            try (var scope = MemoryScope.open()) {
                List<NDArray> ps = new ArrayList<>(), gs = new ArrayList<>(), ms = new ArrayList<>(), vs = new ArrayList<>(), cs = new ArrayList<>();
                for (int k = 0; k < SIZES.length; k++) {
                    ps.add(NDArray.of(values(k, SIZES[k], 1), SIZES[k]));
                    gs.add(half(values(200 + k, SIZES[k], 2), t, Device.cpu()));
                    ms.add(NDArray.zeros(DType.F32, Device.cpu(), SIZES[k]));
                    vs.add(NDArray.zeros(DType.F32, Device.cpu(), SIZES[k]));
                    cs.add(NDArray.zeros(t, Device.cpu(), SIZES[k]));
                }
                List<double[]> p0 = ps.stream().map(NDArray::toDoubleArray).toList(), g0 = gs.stream().map(NDArray::toDoubleArray).toList();
                for (int step = 1; step <= 3; step++) MultiTensor.adam(ps, gs, ms, vs, cs, inv, lr, b1, b2, eps, wd, decoupled, step);
                for (int k = 0; k < SIZES.length; k++) {
                    double[] p = p0.get(k).clone(), m = new double[p.length], v = new double[p.length];
                    for (int step = 1; step <= 3; step++) {
                        double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
                        for (int i = 0; i < p.length; i++) {
                            double g = g0.get(k)[i] * inv;
                            if (decoupled) p[i] *= 1 - lr * wd;
                            else g += wd * p[i];
                            m[i] = b1 * m[i] + (1 - b1) * g;
                            v[i] = b2 * v[i] + (1 - b2) * g * g;
                            p[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
                        }
                    }
                    float[] got = ps.get(k).toFloatArray(), gotM = ms.get(k).toFloatArray();
                    for (int i = 0; i < p.length; i++) {
                        assertEquals(p[i], got[i], 1e-5 * (1 + Math.abs(p[i])), "master " + k + "/" + i);
                        assertEquals(m[i], gotM[i], 1e-5 * (1 + Math.abs(m[i])), "first moment " + k + "/" + i);
                    }
                    try (NDArray rounded = ps.get(k).to(t)) {
                        assertArrayEquals(rounded.toFloatArray(), cs.get(k).toFloatArray(), "half copy = master rounded, tensor " + k);
                    }
                }
            }
        }
    }

    @Test
    void badListsFailNamingTheProblem() {
        try (var scope = MemoryScope.open()) {
            NDArray p = NDArray.zeros(DType.F32, Device.cpu(), 4), g = NDArray.zeros(DType.F16, Device.cpu(), 5);
            NDArray found = NDArray.zeros(DType.I32, Device.cpu(), 1);
            BadInput.fails(IllegalArgumentException.class, () -> MultiTensor.sgd(List.of(p), List.of(g), null, null, 1, 0.1, 0, 0, 0, false, true),
                    "MultiTensor.sgd", "gradient 0", "5", "4");
            BadInput.fails(IllegalArgumentException.class, () -> MultiTensor.sgd(List.of(g), List.of(g), null, null, 1, 0.1, 0, 0, 0, false, true),
                    "MultiTensor.sgd", "masters", "F32", "F16");
            BadInput.fails(IllegalArgumentException.class, () -> MultiTensor.unscale(List.of(p), List.of(p), 1, p), "MultiTensor.unscale", "I32");
            BadInput.fails(IllegalArgumentException.class, () -> MultiTensor.unscale(List.of(p), List.of(), 1, found), "MultiTensor.unscale", "index-aligned");
            NDArray t = NDArray.zeros(DType.F32, Device.cpu(), 4, 4).transpose(0, 1);
            BadInput.fails(IllegalArgumentException.class, () -> MultiTensor.unscale(List.of(t), List.of(t), 1, found), "MultiTensor.unscale", "contiguous");
        }
    }
}
