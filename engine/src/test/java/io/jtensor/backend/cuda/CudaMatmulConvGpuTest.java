package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.FLOATS;
import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.assertRelNorm;
import static io.jtensor.backend.cuda.GpuCheck.cpu;
import static io.jtensor.backend.cuda.GpuCheck.cuda;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static io.jtensor.backend.cuda.GpuCheck.poisoned;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** GEMMs (own kernels and cuBLAS), convolutions and pooling against the CPU backend. */
class CudaMatmulConvGpuTest {
    /** {B, M, N, K}: odd sizes, tile edges, a K that is not a multiple of 8, one-element products. */
    private static final long[][] SHAPES = {{1, 1, 1, 1}, {1, 127, 65, 33}, {3, 64, 48, 40}, {2, 129, 257, 200}, {1, 5, 300, 7}, {4, 33, 17, 64}};

    private interface Layout {
        NDArray a(NDArray base);
        NDArray b(NDArray base);
    }

    static void matmulCase(Device g, DType t, long[] s, boolean transposeA, boolean transposeB, boolean broadcastB,
                                   CudaGemm.Impl impl, long seed) {
        long B = s[0], M = s[1], N = s[2], K = s[3];
        try (var scope = MemoryScope.open()) {
            NDArray aBase = transposeA ? GpuCheck.random(seed, t, 1, B, K, M) : GpuCheck.random(seed, t, 1, B, M, K);
            NDArray bBase = broadcastB ? (transposeB ? GpuCheck.random(seed + 1, t, 1, 1, N, K) : GpuCheck.random(seed + 1, t, 1, 1, K, N))
                    : (transposeB ? GpuCheck.random(seed + 1, t, 1, B, N, K) : GpuCheck.random(seed + 1, t, 1, B, K, N));
            UnaryOperator<NDArray> fa = x -> transposeA ? x.transpose(1, 2) : x;
            UnaryOperator<NDArray> fb = x -> {
                NDArray y = transposeB ? x.transpose(1, 2) : x;
                return broadcastB ? y.expand(B, K, N) : y;
            };
            NDArray rc = NDArray.empty(t, Device.cpu(), B, M, N), rg = poisoned(t, g, B, M, N);
            cpu().matmul(fa.apply(aBase), fb.apply(bBase), rc);
            CudaGemm.matmul(fa.apply(aBase.to(g)), fb.apply(bBase.to(g)), rg, impl);
            assertRelNorm("matmul " + t + " " + impl + " (" + CudaGemm.variant16() + "/" + CudaGemm.variant32() + ") B,M,N,K=" + java.util.Arrays.toString(s) + (transposeA ? " A^T" : "")
                    + (transposeB ? " B^T" : "") + (broadcastB ? " broadcast B" : ""), rc, rg, GpuCheck.normTol(t));
        }
    }

    @Test
    void matmulEveryDtypeLayoutAndImplementation() {
        Device g = gpu();
        long seed = 3000;
        for (CudaGemm.Impl impl : CudaGemm.Impl.values()) {
            for (DType t : FLOATS) {
                for (long[] s : SHAPES) {
                    for (int layout = 0; layout < 4; layout++) {
                        matmulCase(g, t, s, (layout & 1) != 0, (layout & 2) != 0, false, impl, seed++);
                    }
                    matmulCase(g, t, s, false, true, true, impl, seed++);
                }
            }
        }
    }

    /** {B, M, N, K}: whole 128x256x64 tiles; partial tiles in every dim with K a multiple of 8 but not of 64; a long K (many pipeline turns); batches. */
    static final long[][] SHAPES16 = {{1, 128, 256, 64}, {2, 200, 264, 136}, {1, 300, 520, 520}, {3, 65, 40, 8}};

    /** The F16/BF16 product of shape s in the layouts the tensor-core kernels take: "nn", "nt", "nt" with B shared by the batch. */
    static void gemm16Layouts(Device g, DType t, long[] s, long seed) {
        matmulCase(g, t, s, false, false, false, CudaGemm.Impl.JTENSOR, seed);
        matmulCase(g, t, s, false, true, false, CudaGemm.Impl.JTENSOR, seed + 100_000);
        matmulCase(g, t, s, false, true, true, CudaGemm.Impl.JTENSOR, seed + 200_000);
    }

    @Test
    void everyOwnGemmVariantAgreesWithTheCpu() {
        Device g = gpu();
        long seed = 3500;
        CudaGemm.Variant16 def16 = CudaGemm.variant16();
        try {
            // TMA has a test class of its own (CudaGemmTmaGpuTest): a fault in a kernel not yet run on a GPU would
            // poison this JVM's context for every test after it
            for (CudaGemm.Variant16 v : new CudaGemm.Variant16[] {CudaGemm.Variant16.BASE, CudaGemm.Variant16.WGMMA}) {
                CudaGemm.setVariant16(v);
                for (DType t : new DType[] {DType.F16, DType.BF16}) {
                    for (long[] s : SHAPES16) gemm16Layouts(g, t, s, seed++);
                }
            }
        } finally {
            CudaGemm.setVariant16(def16);
        }
        // F32: float4 and scalar operand loads (A^T and B^T make each operand take the scalar path), partial tiles.
        long[][] shapes32 = {{1, 128, 128, 8}, {2, 130, 260, 36}, {1, 129, 257, 33}, {1, 300, 200, 513}};
        CudaGemm.Variant32 def32 = CudaGemm.variant32();
        try {
            for (CudaGemm.Variant32 v : CudaGemm.Variant32.values()) {
                CudaGemm.setVariant32(v);
                for (long[] s : shapes32) {
                    for (int layout = 0; layout < 4; layout++) {
                        matmulCase(g, DType.F32, s, (layout & 1) != 0, (layout & 2) != 0, false, CudaGemm.Impl.JTENSOR, seed++);
                    }
                }
            }
        } finally {
            CudaGemm.setVariant32(def32);
        }
    }

    @Test
    void ownTensorCoreGemmAgreesWithCublasAtSize() {
        Device g = gpu();
        for (DType t : new DType[] {DType.F16, DType.BF16}) {
            try (var scope = MemoryScope.open()) {
                NDArray a = NDArray.randn(new io.jtensor.Generator(1), t, g, 1, 1024, 1000);
                NDArray b = NDArray.randn(new io.jtensor.Generator(2), t, g, 1, 1000, 1032);
                NDArray ours = poisoned(t, g, 1, 1024, 1032), ref = poisoned(t, g, 1, 1024, 1032);
                CudaGemm.matmul(a, b, ours, CudaGemm.Impl.JTENSOR);
                CudaGemm.matmul(a, b, ref, CudaGemm.Impl.CUBLAS);
                assertRelNorm("tensor-core " + t + " vs cuBLAS", ref, ours, GpuCheck.normTol(t));
                // B given as a transposed weight (the "nt" kernel)
                NDArray bt = NDArray.randn(new io.jtensor.Generator(3), t, g, 1, 1032, 1000).transpose(1, 2);
                CudaGemm.matmul(a, bt, ours, CudaGemm.Impl.JTENSOR);
                CudaGemm.matmul(a, bt, ref, CudaGemm.Impl.CUBLAS);
                assertRelNorm("tensor-core nt " + t + " vs cuBLAS", ref, ours, GpuCheck.normTol(t));
            }
        }
    }

    private static final ConvParams[] CONVS = {
        new ConvParams(1, 1, 0, 0, 1, 1, 1), new ConvParams(2, 2, 1, 1, 1, 1, 2), new ConvParams(1, 2, 2, 1, 2, 1, 1),
        new ConvParams(3, 1, 0, 2, 1, 2, 3)};
    private static final long[][] WEIGHTS = {{5, 6, 1, 1}, {8, 3, 3, 3}, {7, 6, 3, 2}, {9, 2, 2, 3}};

    @Test
    void conv2dForwardAndBothGradients() {
        Device g = gpu();
        long seed = 4000;
        for (CudaGemm.Impl impl : CudaGemm.Impl.values()) {
            CudaGemm.Impl before = CudaGemm.getDefault();
            CudaGemm.setDefault(impl);
            try {
                for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
                    for (int c = 0; c < CONVS.length; c++) {
                        ConvParams p = CONVS[c];
                        long[] ws = WEIGHTS[c];
                        try (var scope = MemoryScope.open()) {
                            // x is a channels-last view (strides of NHWC) to exercise im2col's strides
                            NDArray xNhwc = GpuCheck.random(seed++, t, 1, 3, 11, 13, ws[1] * p.groups());
                            NDArray xc = xNhwc.permute(0, 3, 1, 2), xg = xNhwc.to(g).permute(0, 3, 1, 2);
                            NDArray w = GpuCheck.random(seed++, t, 0.5, ws);
                            long oh = ConvParams.outSize(11, (int) ws[2], p.strideH(), p.padH(), p.dilationH());
                            long ow = ConvParams.outSize(13, (int) ws[3], p.strideW(), p.padW(), p.dilationW());
                            long[] outShape = {3, ws[0], oh, ow};
                            NDArray rc = NDArray.empty(t, Device.cpu(), outShape), rg = poisoned(t, g, outShape);
                            cpu().conv2d(xc, w, rc, p);
                            cuda().conv2d(xg, w.to(g), rg, p);
                            String what = "conv2d " + t + " " + impl + " " + p;
                            assertRelNorm(what, rc, rg, GpuCheck.normTol(t) * 2);
                            NDArray go = GpuCheck.random(seed++, t, 1, outShape);
                            NDArray gic = NDArray.zeros(t, Device.cpu(), xc.shape()), gig = poisoned(t, g, xc.shape());
                            cpu().conv2dBackwardInput(go, w, gic, p);
                            cuda().conv2dBackwardInput(go.to(g), w.to(g), gig, p);
                            assertRelNorm(what + " grad input", gic, gig, GpuCheck.normTol(t) * 2);
                            NDArray gwc = NDArray.zeros(t, Device.cpu(), ws), gwg = poisoned(t, g, ws);
                            cpu().conv2dBackwardWeight(xc, go, gwc, p);
                            cuda().conv2dBackwardWeight(xg, go.to(g), gwg, p);
                            assertRelNorm(what + " grad weight", gwc, gwg, GpuCheck.normTol(t) * 4);
                        }
                    }
                }
            } finally {
                CudaGemm.setDefault(before);
            }
        }
    }

    /**
     * Our weight gradient split over K (CudaConv.setSplitK, SplitK): a product of a 16 x 72 output over K = 12544
     * (12 slices of 1088, the last 576), a grouped strided one over K = 2548 (one slice of 1280 and a last of 1268,
     * not a multiple of 8: the general kernels), and the first again with the batch in chunks of 5 images (slices
     * per chunk, the last chunk unsplit, chunks summed), against the CPU, through both GEMM implementations.
     */
    @Test
    void weightGradientSplitOverKAgreesWithTheCpu() {
        Device g = gpu();
        long seed = 4500;
        // {x shape}, {w shape}, params, column budget in images (0: the whole batch at once)
        long[][] xs = {{16, 8, 28, 28}, {13, 6, 27, 27}, {16, 8, 28, 28}};
        long[][] ws = {{16, 8, 3, 3}, {8, 3, 3, 3}, {16, 8, 3, 3}};
        ConvParams[] ps = {ConvParams.of(1, 1), new ConvParams(2, 2, 1, 1, 1, 1, 2), ConvParams.of(1, 1)};
        int[] chunkImages = {0, 0, 5};
        boolean splitBefore = CudaConv.splitK();
        CudaGemm.Impl gemmBefore = CudaGemm.getDefault();
        CudaConv.setSplitK(true);
        try {
            for (CudaGemm.Impl impl : CudaGemm.Impl.values()) {
                CudaGemm.setDefault(impl);
                for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
                    for (int c = 0; c < xs.length; c++) {
                        ConvParams p = ps[c];
                        long oh = ConvParams.outSize(xs[c][2], (int) ws[c][2], p.strideH(), p.padH(), p.dilationH());
                        long ow = ConvParams.outSize(xs[c][3], (int) ws[c][3], p.strideW(), p.padW(), p.dilationW());
                        long perImage = xs[c][1] * ws[c][2] * ws[c][3] * oh * ow * t.byteSize();
                        long budgetBefore = CudaConv.setColumnBudget(chunkImages[c] == 0 ? CudaConv.COLS_BUDGET : chunkImages[c] * perImage);
                        try (var scope = MemoryScope.open()) {
                            NDArray x = GpuCheck.random(seed++, t, 1, xs[c]);
                            NDArray go = GpuCheck.random(seed++, t, 1, xs[c][0], ws[c][0], oh, ow);
                            NDArray gwc = NDArray.zeros(t, Device.cpu(), ws[c]), gwg = poisoned(t, g, ws[c]);
                            cpu().conv2dBackwardWeight(x, go, gwc, p);
                            cuda().conv2dBackwardWeight(x.to(g), go.to(g), gwg, p);
                            assertRelNorm("split-K grad weight " + t + " " + impl + " x " + java.util.Arrays.toString(xs[c]) + " " + p
                                    + (chunkImages[c] > 0 ? " in chunks of " + chunkImages[c] : ""), gwc, gwg, GpuCheck.normTol(t) * 4);
                        } finally {
                            CudaConv.setColumnBudget(budgetBefore);
                        }
                    }
                }
            }
        } finally {
            CudaConv.setSplitK(splitBefore);
            CudaGemm.setDefault(gemmBefore);
        }
    }

    @Test
    void maxAndAveragePoolingWithGradients() {
        Device g = gpu();
        int[][] kernels = {{3, 3}, {2, 3}, {3, 2}};
        ConvParams[] ps = {new ConvParams(2, 2, 1, 1, 1, 1, 1), new ConvParams(1, 2, 1, 0, 2, 1, 1), new ConvParams(2, 1, 0, 1, 1, 1, 1)};
        long seed = 5000;
        for (DType t : FLOATS) {
            for (int i = 0; i < ps.length; i++) {
                int kH = kernels[i][0], kW = kernels[i][1];
                ConvParams p = ps[i];
                try (var scope = MemoryScope.open()) {
                    NDArray base = GpuCheck.integers(seed++, t, -20, 20, 2, 9, 10, 3);  // whole numbers: ties
                    NDArray xc = base.permute(0, 3, 1, 2), xg = base.to(g).permute(0, 3, 1, 2);
                    long oh = ConvParams.outSize(9, kH, p.strideH(), p.padH(), p.dilationH());
                    long ow = ConvParams.outSize(10, kW, p.strideW(), p.padW(), p.dilationW());
                    long[] os = {2, 3, oh, ow};
                    NDArray mc = NDArray.empty(t, Device.cpu(), os), mg = poisoned(t, g, os);
                    NDArray ic = NDArray.empty(DType.I64, Device.cpu(), os), ig = poisoned(DType.I64, g, os);
                    cpu().maxPool2d(xc, kH, kW, p, mc, ic);
                    cuda().maxPool2d(xg, kH, kW, p, mg, ig);
                    assertClose("maxPool2d " + t + " " + p, mc, mg, 0, 0);
                    assertArrayEquals(ic.toLongArray(), ig.toLongArray(), "maxPool2d indices " + t + " " + p);
                    NDArray go = GpuCheck.random(seed++, t, 1, os);
                    NDArray gc = NDArray.zeros(t, Device.cpu(), xc.shape()), gg = poisoned(t, g, xc.shape());
                    cpu().maxPool2dBackward(go, ic, gc);
                    cuda().maxPool2dBackward(go.to(g), ig, gg);
                    assertClose("maxPool2dBackward " + t + " " + p, gc, gg);
                    if (p.dilationH() != 1 || p.dilationW() != 1) continue;
                    for (boolean cip : new boolean[] {true, false}) {
                        NDArray ac = NDArray.empty(t, Device.cpu(), os), ag = poisoned(t, g, os);
                        cpu().avgPool2d(xc, kH, kW, p, cip, ac);
                        cuda().avgPool2d(xg, kH, kW, p, cip, ag);
                        assertClose("avgPool2d " + t + " " + p + " countIncludePad=" + cip, ac, ag);
                        NDArray bc = NDArray.zeros(t, Device.cpu(), xc.shape()), bg = poisoned(t, g, xc.shape());
                        cpu().avgPool2dBackward(go, kH, kW, p, cip, bc);
                        cuda().avgPool2dBackward(go.to(g), kH, kW, p, cip, bg);
                        assertClose("avgPool2dBackward " + t + " " + p + " countIncludePad=" + cip, bc, bg);
                    }
                }
            }
        }
    }
}
