package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.MemoryScope;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Fused multi-tensor SGD, Adam/AdamW and AMP unscale against loops in double written here. */
class CudaFusedGpuTest {
    private static final int[] SIZES = {1, 7, 1000, 33_333};

    private static float[] values(long seed, int n, double scale) {
        java.util.Random r = new java.util.Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
        return v;
    }

    private static void assertNear(String what, double[] ref, float[] got, double tol) {
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i], got[i], tol * (1 + Math.abs(ref[i])), what + " element " + i);
        }
    }

    @Test
    void sgdWithMomentumNesterovAndWeightDecay() {
        Device g = gpu();
        double lr = 0.1, mom = 0.9, damp = 0.1, wd = 0.01;
        for (boolean nesterov : new boolean[] {false, true}) {
            try (var scope = MemoryScope.open()) {
                List<NDArray> ps = new ArrayList<>(), gs = new ArrayList<>(), bs = new ArrayList<>();
                List<float[]> p0 = new ArrayList<>(), g0 = new ArrayList<>();
                for (int k = 0; k < SIZES.length; k++) {
                    float[] p = values(k, SIZES[k], 1), gr = values(100 + k, SIZES[k], 1);
                    p0.add(p);
                    g0.add(gr);
                    ps.add(NDArray.of(p, p.length).to(g));
                    gs.add(NDArray.of(gr, gr.length).to(g));
                    bs.add(NDArray.zeros(DType.F32, g, p.length));
                }
                // two steps: the first initialises the buffers with the gradient, the second uses them
                CudaFused.sgd(ps, gs, bs, lr, mom, damp, wd, nesterov, true);
                CudaFused.sgd(ps, gs, bs, lr, mom, damp, wd, nesterov, false);
                for (int k = 0; k < SIZES.length; k++) {
                    double[] p = new double[SIZES[k]], buf = new double[SIZES[k]];
                    for (int i = 0; i < p.length; i++) p[i] = p0.get(k)[i];
                    for (int step = 0; step < 2; step++) {
                        for (int i = 0; i < p.length; i++) {
                            double gi = g0.get(k)[i] + wd * p[i];
                            buf[i] = step == 0 ? gi : mom * buf[i] + (1 - damp) * gi;
                            double d = nesterov ? gi + mom * buf[i] : buf[i];
                            p[i] -= lr * d;
                        }
                    }
                    assertNear("sgd nesterov=" + nesterov + " tensor " + k, p, ps.get(k).toFloatArray(), 1e-5);
                }
            }
        }
    }

    @Test
    void adamAndAdamW() {
        Device g = gpu();
        double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
        for (boolean decoupled : new boolean[] {false, true}) {
            try (var scope = MemoryScope.open()) {
                List<NDArray> ps = new ArrayList<>(), gs = new ArrayList<>(), ms = new ArrayList<>(), vs = new ArrayList<>();
                List<float[]> p0 = new ArrayList<>(), g0 = new ArrayList<>();
                for (int k = 0; k < SIZES.length; k++) {
                    float[] p = values(k, SIZES[k], 1), gr = values(200 + k, SIZES[k], 0.1);
                    p0.add(p);
                    g0.add(gr);
                    ps.add(NDArray.of(p, p.length).to(g));
                    gs.add(NDArray.of(gr, gr.length).to(g));
                    ms.add(NDArray.zeros(DType.F32, g, p.length));
                    vs.add(NDArray.zeros(DType.F32, g, p.length));
                }
                for (int step = 1; step <= 3; step++) CudaFused.adam(ps, gs, ms, vs, lr, b1, b2, eps, wd, decoupled, step);
                for (int k = 0; k < SIZES.length; k++) {
                    double[] p = new double[SIZES[k]], m = new double[SIZES[k]], v = new double[SIZES[k]];
                    for (int i = 0; i < p.length; i++) p[i] = p0.get(k)[i];
                    for (int step = 1; step <= 3; step++) {
                        double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
                        for (int i = 0; i < p.length; i++) {
                            double gi = g0.get(k)[i];
                            if (decoupled) p[i] *= 1 - lr * wd;
                            else gi += wd * p[i];
                            m[i] = b1 * m[i] + (1 - b1) * gi;
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                            p[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
                        }
                    }
                    assertNear((decoupled ? "adamw" : "adam") + " tensor " + k, p, ps.get(k).toFloatArray(), 2e-5);
                }
            }
        }
    }

    @Test
    void ampUnscaleDetectsInfAndNaN() {
        Device g = gpu();
        for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16}) {
            try (var scope = MemoryScope.open()) {
                float[] a = values(1, 5000, 100), b = values(2, 77, 100);
                NDArray ga = NDArray.of(a, a.length).to(t).to(g), gb = NDArray.of(b, b.length).to(t).to(g);
                NDArray found = NDArray.zeros(DType.I32, g, 1);
                CudaFused.ampUnscale(List.of(ga, gb), 1.0 / 64, found);
                assertEquals(0, found.toIntArray()[0], "finite gradients " + t);
                try (NDArray expect = NDArray.of(a, a.length).to(t).mul(1.0 / 64)) {
                    GpuCheck.assertClose("unscaled " + t, expect, ga);
                }
                b[40] = Float.NaN;
                NDArray gc = NDArray.of(b, b.length).to(t).to(g);
                CudaFused.ampUnscale(List.of(ga, gc), 1.0, found);
                assertEquals(1, found.toIntArray()[0], "NaN found " + t);
                a[4999] = Float.POSITIVE_INFINITY;
                NDArray gd = NDArray.of(a, a.length).to(t).to(g), found2 = NDArray.zeros(DType.I32, g, 1);
                CudaFused.ampUnscale(List.of(gd), 0.5, found2);
                assertEquals(1, found2.toIntArray()[0], "inf found " + t);
                assertEquals(Device.cpu(), found2.to(Device.cpu()).device());
            }
        }
    }
}
