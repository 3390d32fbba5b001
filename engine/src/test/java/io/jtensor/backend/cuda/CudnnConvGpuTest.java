package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertRelNorm;
import static io.jtensor.backend.cuda.GpuCheck.cpu;
import static io.jtensor.backend.cuda.GpuCheck.cuda;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static io.jtensor.backend.cuda.GpuCheck.poisoned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.backend.ConvParams;
import io.jtensor.bindings.cudnn.Cudnn;
import io.jtensor.memory.MemoryScope;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cuDNN convolution path against our own kernels and against the CPU backend in double precision (on the same
 * rounded inputs): forward and both gradients, strides, padding, dilation, groups, F32 / F16 / BF16 / F64.
 * Skips without a GPU or without cuDNN, saying which.
 */
class CudnnConvGpuTest {
    /** cuda:0 with cuDNN loadable, or the test is skipped saying what is missing. */
    private static Device gpuWithCudnn() {
        Device g = gpu();
        assumeTrue(Cudnn.isLoadable(), () -> "GPU present but no cuDNN: " + Cudnn.unavailableReason());
        return g;
    }

    private static CudaDevice dev(Device g) { return Backends.cuda().device(g); }

    /** x [N, C, H, W], w [O, C/groups, KH, KW]. */
    private record Case(long N, long C, long H, long W, long O, long KH, long KW, ConvParams p) {
        long OH() { return ConvParams.outSize(H, (int) KH, p.strideH(), p.padH(), p.dilationH()); }
        long OW() { return ConvParams.outSize(W, (int) KW, p.strideW(), p.padW(), p.dilationW()); }
        long[] x() { return new long[] {N, C, H, W}; }
        long[] w() { return new long[] {O, C / p.groups(), KH, KW}; }
        long[] y() { return new long[] {N, O, OH(), OW()}; }
    }

    private static final Case[] CASES = {
        new Case(2, 8, 12, 12, 16, 3, 3, new ConvParams(1, 1, 1, 1, 1, 1, 1)),        // the plain 3x3 "same" conv
        new Case(3, 6, 13, 11, 8, 3, 3, new ConvParams(2, 2, 1, 1, 1, 1, 1)),         // stride 2, odd sizes
        new Case(2, 4, 11, 13, 6, 3, 2, new ConvParams(1, 2, 2, 1, 2, 1, 1)),         // dilation 2x1, uneven stride/pad
        new Case(2, 8, 10, 9, 12, 3, 3, new ConvParams(2, 1, 1, 0, 1, 1, 4)),         // 4 groups
        new Case(2, 6, 9, 9, 6, 3, 3, new ConvParams(1, 1, 1, 1, 1, 1, 6)),           // depthwise
        new Case(4, 16, 8, 8, 32, 1, 1, new ConvParams(2, 2, 0, 0, 1, 1, 1)),         // 1x1, stride 2 (ResNet shortcut)
        new Case(2, 64, 16, 16, 32, 3, 3, new ConvParams(1, 1, 1, 1, 1, 1, 1)),       // K = 576: TF32 would show
    };

    private static double tol(DType t) {
        return switch (t) {
            case F64 -> 2e-12;
            case F32 -> 2e-5;   // TF32 would give ~3e-4
            case F16 -> 2e-3;
            default -> 1e-2;
        };
    }

    /** Forward and both gradients of c in dtype t by cuDNN and by our kernels, each against the CPU in F64. */
    private static void check(Device g, DType t, Case c, long seed) {
        ConvParams p = c.p();
        try (var scope = MemoryScope.open()) {
            NDArray x = GpuCheck.random(seed, t, 1, c.x()), w = GpuCheck.random(seed + 1, t, 0.5, c.w());
            NDArray gy = GpuCheck.random(seed + 2, t, 1, c.y());
            NDArray x64 = x.to(DType.F64), w64 = w.to(DType.F64), gy64 = gy.to(DType.F64);
            NDArray yRef = NDArray.zeros(DType.F64, Device.cpu(), c.y()), gxRef = NDArray.zeros(DType.F64, Device.cpu(), c.x());
            NDArray gwRef = NDArray.zeros(DType.F64, Device.cpu(), c.w());
            cpu().conv2d(x64, w64, yRef, p);
            cpu().conv2dBackwardInput(gy64, w64, gxRef, p);
            cpu().conv2dBackwardWeight(x64, gy64, gwRef, p);
            NDArray xg = x.to(g), wg = w.to(g), gyg = gy.to(g);
            NDArray[] y = new NDArray[2], gx = new NDArray[2], gw = new NDArray[2];
            CudaConv.Impl[] impls = {CudaConv.Impl.CUDNN, CudaConv.Impl.JTENSOR};
            for (int i = 0; i < 2; i++) {
                String what = t + " " + impls[i] + " " + c;
                y[i] = poisoned(t, g, c.y());
                CudaConv.conv2d(xg, wg, y[i], p, impls[i]);
                assertRelNorm("conv2d " + what, yRef, y[i], tol(t));
                gx[i] = poisoned(t, g, c.x());
                CudaConv.conv2dBackwardInput(gyg, wg, gx[i], p, impls[i]);
                assertRelNorm("conv2dBackwardInput " + what, gxRef, gx[i], tol(t));
                gw[i] = poisoned(t, g, c.w());
                CudaConv.conv2dBackwardWeight(xg, gyg, gw[i], p, impls[i]);
                // A sum over N*OH*OW products per element: 4x the tolerance for the half types, as CudaMatmulConvGpuTest allows.
                assertRelNorm("conv2dBackwardWeight " + what, gwRef, gw[i], tol(t) * (t == DType.F16 || t == DType.BF16 ? 4 : 2));
            }
            // And the two GPU paths against each other (both rounded to t: twice the tolerance).
            assertRelNorm("conv2d cuDNN vs jtensor " + t + " " + c, y[1], y[0], 2 * tol(t));
            assertRelNorm("conv2dBackwardInput cuDNN vs jtensor " + t + " " + c, gx[1], gx[0], 2 * tol(t));
            assertRelNorm("conv2dBackwardWeight cuDNN vs jtensor " + t + " " + c, gw[1], gw[0], 8 * tol(t));
        }
    }

    @Test
    void f32MatchesTheCpuAndOurKernelsWithoutTf32() {
        Device g = gpuWithCudnn();
        long seed = 7000;
        for (Case c : CASES) check(g, DType.F32, c, seed += 10);
        // Every F32 plan runs on FMA math (no tensor cores, so no TF32).
        for (Map.Entry<CudnnConv.Key, CudnnConv.Plan> e : CudnnConv.plans(dev(g)).entrySet()) {
            if (e.getKey().dtype() == DType.F32) assertEquals(Cudnn.FMA_MATH, e.getValue().mathType(), e.toString());
        }
    }

    @Test
    void f16MatchesTheCpuAndOurKernels() {
        Device g = gpuWithCudnn();
        long seed = 7100;
        for (Case c : CASES) check(g, DType.F16, c, seed += 10);
    }

    @Test
    void bf16AndF64MatchTheCpuAndOurKernels() {
        Device g = gpuWithCudnn();
        long seed = 7200;
        for (DType t : new DType[] {DType.BF16, DType.F64}) {
            for (int i = 0; i < CASES.length; i += 2) check(g, t, CASES[i], seed += 10);
        }
    }

    @Test
    void stridedAndMisalignedArraysAreCopiedInAndOut() {
        Device g = gpuWithCudnn();
        Case c = CASES[1];
        ConvParams p = c.p();
        for (DType t : new DType[] {DType.F32, DType.F16}) {
            try (var scope = MemoryScope.open()) {
                // x as a channels-last view; w one element into a larger buffer (misaligned); y written into a
                // column slice of a wider array (not contiguous).
                NDArray xNhwc = GpuCheck.random(8000, t, 1, c.N(), c.H(), c.W(), c.C());
                NDArray xc = xNhwc.permute(0, 3, 1, 2);
                NDArray wc = GpuCheck.random(8001, t, 0.5, c.w());
                long wn = wc.numel();
                NDArray wBig = GpuCheck.random(8002, t, 1, wn + 1).to(g);
                NDArray wg = wBig.narrow(0, 1, wn).view(c.w());
                wg.copyFrom(wc.to(g));
                NDArray ref = NDArray.zeros(DType.F64, Device.cpu(), c.y());
                cpu().conv2d(xc.to(DType.F64), wc.to(DType.F64), ref, p);
                long[] wide = c.y().clone();
                wide[3] += 3;
                NDArray yWide = poisoned(t, g, wide);
                NDArray y = yWide.narrow(3, 2, c.OW());
                CudaConv.conv2d(xNhwc.to(g).permute(0, 3, 1, 2), wg, y, p, CudaConv.Impl.CUDNN);
                assertRelNorm("conv2d cuDNN " + t + " strided/misaligned", ref, y, tol(t));
                // The columns around the slice are untouched.
                try (NDArray left = yWide.narrow(3, 0, 2); NDArray isnan = left.isnan(); NDArray all = isnan.all()) {
                    assertEquals(1.0, all.item(), "conv2d wrote outside its output view");
                }
            }
        }
    }

    @Test
    void selectingCudnnRoutesTheBackendThroughItAndPlansAreMadeOnce() {
        Device g = gpuWithCudnn();
        Case c = new Case(2, 5, 7, 9, 3, 3, 3, new ConvParams(1, 2, 1, 1, 1, 1, 1));   // a geometry no other test uses
        CudaConv.Impl before = CudaConv.getDefault();
        try (var scope = MemoryScope.open()) {
            CudaConv.setDefault(CudaConv.Impl.CUDNN);
            NDArray x = GpuCheck.random(8100, DType.F32, 1, c.x()), w = GpuCheck.random(8101, DType.F32, 0.5, c.w());
            NDArray ref = NDArray.zeros(DType.F64, Device.cpu(), c.y());
            cpu().conv2d(x.to(DType.F64), w.to(DType.F64), ref, c.p());
            NDArray y = poisoned(DType.F32, g, c.y());
            int plansBefore = CudnnConv.plans(dev(g)).size();
            cuda().conv2d(x.to(g), w.to(g), y, c.p());
            assertRelNorm("Backend.conv2d with cuDNN selected", ref, y, tol(DType.F32));
            Map<CudnnConv.Key, CudnnConv.Plan> plans = CudnnConv.plans(dev(g));
            assertEquals(plansBefore + 1, plans.size(), "one new plan for the new geometry");
            CudnnConv.Key key = new CudnnConv.Key(CudnnConv.Direction.FORWARD, DType.F32, 2, 5, 7, 9, 3, 3, 3, c.OH(), c.OW(), c.p());
            CudnnConv.Plan plan = plans.get(key);
            assertTrue(plan != null, "no plan under " + key + " in " + plans.keySet());
            cuda().conv2d(x.to(g), w.to(g), y, c.p());
            assertEquals(plansBefore + 1, CudnnConv.plans(dev(g)).size(), "the same geometry again: no new plan");
            assertSame(plan, CudnnConv.plans(dev(g)).get(key));
        } finally {
            CudaConv.setDefault(before);
        }
    }

    @Test
    void emptyConvolutionsTakeOurKernels() {
        Device g = gpuWithCudnn();
        ConvParams p = ConvParams.of(1, 1);
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.zeros(DType.F32, g, 0, 3, 5, 5), gy = NDArray.zeros(DType.F32, g, 0, 4, 5, 5);
            NDArray gw = poisoned(DType.F32, g, 4, 3, 3, 3);
            CudaConv.conv2dBackwardWeight(x, gy, gw, p, CudaConv.Impl.CUDNN);
            for (double v : gw.toDoubleArray()) assertEquals(0.0, v, "an empty batch gives a zero weight gradient");
        }
    }
}
