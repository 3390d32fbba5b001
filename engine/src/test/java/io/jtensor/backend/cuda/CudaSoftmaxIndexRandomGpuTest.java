package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.FLOATS;
import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.assertSameBytes;
import static io.jtensor.backend.cuda.GpuCheck.cpu;
import static io.jtensor.backend.cuda.GpuCheck.cuda;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static io.jtensor.backend.cuda.GpuCheck.poisoned;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backend;
import io.jtensor.backend.BinaryOp;
import io.jtensor.memory.MemoryScope;
import org.junit.jupiter.api.Test;

/** Softmax, gather/scatter/index-select, errors that kernels report, and Philox random numbers against the CPU backend. */
class CudaSoftmaxIndexRandomGpuTest {
    /** {rows-ish shape..., dim}: short rows (warp kernel), long rows (block kernel), a middle dim (column kernel). */
    private static final long[][] SHAPES = {{37, 50}, {5, 3000}, {4, 10, 6}, {3, 1025}, {64, 1}};
    private static final int[] DIMS = {1, 1, 1, 1, 1};

    @Test
    void softmaxAndLogSoftmaxForwardAndBackward() {
        Device g = gpu();
        long seed = 6000;
        for (DType t : FLOATS) {
            for (int s = 0; s < SHAPES.length; s++) {
                long[] shape = SHAPES[s];
                int dim = DIMS[s];
                for (boolean log : new boolean[] {false, true}) {
                    for (boolean transposed : new boolean[] {false, true}) {
                        try (var scope = MemoryScope.open()) {
                            NDArray base = GpuCheck.random(seed++, t, 3, shape);
                            NDArray xc = transposed ? base.transpose(0, dim).contiguous().transpose(0, dim) : base;
                            NDArray xg = transposed ? base.to(g).transpose(0, dim).contiguous().transpose(0, dim) : base.to(g);
                            NDArray yc = NDArray.empty(t, Device.cpu(), shape), yg = poisoned(t, g, shape);
                            cpu().softmax(xc, dim, log, yc);
                            cuda().softmax(xg, dim, log, yg);
                            String what = (log ? "logSoftmax " : "softmax ") + t + " " + java.util.Arrays.toString(shape)
                                    + (transposed ? " strided" : "");
                            assertClose(what, yc, yg, GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 4);
                            NDArray gy = GpuCheck.random(seed++, t, 1, shape);
                            NDArray gxc = NDArray.empty(t, Device.cpu(), shape), gxg = poisoned(t, g, shape);
                            cpu().softmaxBackward(yc, gy, dim, log, gxc);
                            cuda().softmaxBackward(yc.to(g), gy.to(g), dim, log, gxg);
                            GpuCheck.assertRelNorm(what + " backward", gxc, gxg, GpuCheck.normTol(t) * 4);
                        }
                    }
                }
            }
        }
    }

    @Test
    void everySoftmaxVariantOnEveryRowLength() {
        Device g = gpu();
        long seed = 6500;
        // {rows, L}: one warp per row with 1, 2 and 4 packs per lane and a partial last block of rows; a block per
        // row with 64 to 512 threads and 1 to 8 packs each; rows that are not whole packs (the baseline's kernels)
        long[][] shapes = {{37, 128}, {41, 256}, {9, 512}, {13, 1024}, {5, 2048}, {3, 4096}, {2, 16384}, {2, 32768}, {6, 1000}, {4, 36},
            // VEC2's staged rows (softmax_fwd_vstage_): F32 just past VEC's last row (2049 packs: 5 staged per
            // thread), 3000 packs (a partly filled last staged slot), 4100 packs (16-bit: 2050); rows staged beyond
            // 48 KB (32768 F32: 28 x 4 KB); 1024 threads (61444 F32: 15361 packs, 12 x 16 KB staged); and rows too
            // long for any (122888: F32 falls to the baseline, F16/BF16 take 1024 threads)
            {3, 8196}, {2, 12000}, {2, 16400}, {1, 61444}, {1, 122888}};
        CudaSoftmax.Variant def = CudaSoftmax.variant();
        try {
            for (CudaSoftmax.Variant v : CudaSoftmax.Variant.values()) {
                CudaSoftmax.setVariant(v);
                for (DType t : FLOATS) {
                    for (long[] shape : shapes) {
                        for (boolean log : new boolean[] {false, true}) {
                            try (var scope = MemoryScope.open()) {
                                NDArray x = GpuCheck.random(seed++, t, 3, shape);
                                NDArray yc = NDArray.empty(t, Device.cpu(), shape), yg = poisoned(t, g, shape);
                                cpu().softmax(x, 1, log, yc);
                                cuda().softmax(x.to(g), 1, log, yg);
                                assertClose("variant " + v + (log ? " logSoftmax " : " softmax ") + t + " " + java.util.Arrays.toString(shape),
                                        yc, yg, GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 4);
                            }
                        }
                    }
                    // a row start off the 16-byte grid (baseline path) and a row of -inf but one element
                    try (var scope = MemoryScope.open()) {
                        NDArray wide = GpuCheck.random(seed++, t, 3, 8, 520);
                        NDArray xc = wide.narrow(1, 1, 512), xg = wide.to(g).narrow(1, 1, 512);
                        NDArray yc = NDArray.empty(t, Device.cpu(), 8, 512), yg = poisoned(t, g, 8, 512);
                        cpu().softmax(xc, 1, false, yc);
                        cuda().softmax(xg, 1, false, yg);
                        assertClose("variant " + v + " softmax " + t + " unaligned rows", yc, yg, GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 4);
                        double[] ninf = new double[2 * 512];
                        java.util.Arrays.fill(ninf, Double.NEGATIVE_INFINITY);
                        ninf[7] = 1;
                        ninf[512 + 300] = -2;
                        NDArray xi = NDArray.of(ninf, 2, 512).to(t);
                        NDArray ic = NDArray.empty(t, Device.cpu(), 2, 512), ig = poisoned(t, g, 2, 512);
                        cpu().softmax(xi, 1, false, ic);
                        cuda().softmax(xi.to(g), 1, false, ig);
                        assertClose("variant " + v + " softmax " + t + " -inf rows", ic, ig, 0, GpuCheck.atol(t));
                    }
                }
            }
        } finally {
            CudaSoftmax.setVariant(def);
        }
    }

    /**
     * NaN and infinities under every variant, in rows that take each kernel: one warp per row (512), a block per row
     * (2048, 4096, 16384 F32 under VEC; the baseline's block kernel), VEC2's staged rows (16384, 32768): [6, L].
     * Row 1 holds a NaN where the thread that loads it sees only -inf otherwise: a (max, sum) state that kept the
     * NaN only in its sum would be dropped by the merge, as the baseline and VEC did before the NaN became the
     * poisoned state (see MaxSum in softmax.cu).
     */
    @Test
    void everyVariantPropagatesNaNAndInfinitiesAsTheCpuDoes() {
        Device g = gpu();
        long seed = 6900;
        CudaSoftmax.Variant def = CudaSoftmax.variant();
        try {
            for (CudaSoftmax.Variant variant : CudaSoftmax.Variant.values()) {
                CudaSoftmax.setVariant(variant);
                for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                    for (int L : new int[] {512, 2048, 4096, 16384, 32768}) {
                        double[] v;
                        try (NDArray r = GpuCheck.random(seed++, DType.F64, 3, 6, L)) {
                            v = r.toDoubleArray();
                        }
                        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
                        v[L / 3] = nan;                                            // row 0: one NaN (all NaN)
                        java.util.Arrays.fill(v, L, 2 * L, -inf);                  // row 1: -inf but a NaN and a 5 in
                        v[L + 1] = nan;                                            //   other threads' packs (all NaN)
                        v[L + L - 1] = 5;
                        v[2 * L + Math.min(4095, L - 1)] = inf;                    // row 2: +inf (all NaN)
                        java.util.Arrays.fill(v, 3 * L, 4 * L, -inf);              // row 3: all -inf (all NaN)
                        java.util.Arrays.fill(v, 4 * L, 5 * L, -inf);              // row 4: -inf but two (for VEC2's
                        v[4 * L + 7] = 2;                                          //   staged rows, one in registers
                        v[4 * L + L - 3] = 1;                                      //   and one in shared memory)
                        // row 5: plain random values
                        String what = "variant " + variant + " " + t + " NaN/inf rows of " + L;
                        try (var rows = MemoryScope.open()) {
                            NDArray x = NDArray.of(v, 6, L).to(t);
                            for (boolean log : new boolean[] {false, true}) {
                                try (var scope = MemoryScope.open()) {
                                    NDArray yc = NDArray.empty(t, Device.cpu(), 6, L), yg = poisoned(t, g, 6, L);
                                    cpu().softmax(x, 1, log, yc);
                                    cuda().softmax(x.to(g), 1, log, yg);
                                    assertClose((log ? "logSoftmax " : "softmax ") + what, yc, yg, GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 4);
                                }
                            }
                            // a strided view whose rows stay 16-byte aligned (every other row): still the row kernels
                            try (var scope = MemoryScope.open()) {
                                NDArray xs = x.slice(0, 0, 6, 2), xgs = x.to(g).slice(0, 0, 6, 2);
                                NDArray yc = NDArray.empty(t, Device.cpu(), 3, L), yg = poisoned(t, g, 3, L);
                                cpu().softmax(xs, 1, false, yc);
                                cuda().softmax(xgs, 1, false, yg);
                                assertClose("softmax, every other row: " + what, yc, yg, GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 4);
                            }
                        }
                    }
                }
            }
        } finally {
            CudaSoftmax.setVariant(def);
        }
    }

    @Test
    void gatherScatterAddAndIndexSelect() {
        Device g = gpu();
        long seed = 7000;
        for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16, DType.I32, DType.I64, DType.U8}) {
            for (int dim = 0; dim < 3; dim++) {
                try (var scope = MemoryScope.open()) {
                    NDArray xBase = GpuCheck.random(seed++, t, 2, 6, 5, 7);
                    NDArray xc = xBase.permute(2, 0, 1), xg = xBase.to(g).permute(2, 0, 1);   // [7, 6, 5]
                    long[] xs = xc.shape();
                    long[] is = {xs[0], xs[1], xs[2]};
                    is[dim] = 9;
                    NDArray idx = GpuCheck.integers(seed++, DType.I64, 0, xs[dim], is);
                    NDArray oc = NDArray.empty(t, Device.cpu(), is), og = poisoned(t, g, is);
                    cpu().gather(xc, dim, idx, oc);
                    cuda().gather(xg, dim, idx.to(g), og);
                    assertSameBytes("gather " + t + " dim " + dim, oc, og);

                    // scatterAdd with repeated targets (9 sources into 7/6/5 slots)
                    long[] small = is.clone();
                    for (int d = 0; d < 3; d++) if (d != dim) small[d] = Math.min(small[d], xs[d]);
                    NDArray sidx = GpuCheck.integers(seed++, DType.I64, 0, xs[dim], small);
                    NDArray src = t == DType.U8 ? GpuCheck.integers(seed++, t, 0, 3, small) : GpuCheck.random(seed++, t, 1, small);
                    NDArray tc = xc.contiguous(), tg = xg.contiguous();
                    cpu().scatterAdd(tc, dim, sidx, src);
                    cuda().scatterAdd(tg, dim, sidx.to(g), src.to(g));
                    if (t.isFloating()) GpuCheck.assertRelNorm("scatterAdd " + t + " dim " + dim, tc, tg, GpuCheck.normTol(t) * 2);
                    else assertSameBytes("scatterAdd " + t + " dim " + dim, tc, tg);

                    NDArray sel = GpuCheck.integers(seed++, DType.I64, 0, xs[dim], 11);
                    long[] ss = xs.clone();
                    ss[dim] = 11;
                    NDArray sc = NDArray.empty(t, Device.cpu(), ss), sg = poisoned(t, g, ss);
                    cpu().indexSelect(xc, dim, sel, sc);
                    cuda().indexSelect(xg, dim, sel.to(g), sg);
                    assertSameBytes("indexSelect " + t + " dim " + dim, sc, sg);
                }
            }
        }
    }

    @Test
    void anIndexOutOfRangeFailsTheCallItselfAndLeavesNoErrorBehind() {
        Device g = gpu();
        try (var scope = MemoryScope.open()) {
            NDArray x = NDArray.ones(DType.F32, g, 4, 3);
            NDArray idx = NDArray.of(new long[] {0, 7, 1}, 3).to(g);
            NDArray out = NDArray.empty(DType.F32, g, 3, 3);
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> cuda().indexSelect(x, 0, idx, out));
            assertEquals("indexSelect: index 7 is out of bounds for dim 0 with size 4", e.getMessage());
            // negative indices are errors, as on the CPU (they used to count from the end here)
            NDArray neg = NDArray.of(new long[] {-1, 0, 1}, 3).to(g);
            e = assertThrows(IndexOutOfBoundsException.class, () -> cuda().indexSelect(x, 0, neg, out));
            assertEquals("indexSelect: index -1 is out of bounds for dim 0 with size 4", e.getMessage());
            // scatterAdd along dim 1 of [4, 3] and gather along dim 1 name their own op, dim and size
            NDArray bad = NDArray.of(new long[] {3}, 1, 1).to(g), src = NDArray.ones(DType.F32, g, 1, 1);
            e = assertThrows(IndexOutOfBoundsException.class, () -> cuda().scatterAdd(x.contiguous(), 1, bad, src));
            assertEquals("scatterAdd: index 3 is out of bounds for dim 1 with size 3", e.getMessage());
            NDArray one = NDArray.empty(DType.F32, g, 1, 1);
            e = assertThrows(IndexOutOfBoundsException.class, () -> cuda().gather(x, 1, bad, one));
            assertEquals("gather: index 3 is out of bounds for dim 1 with size 3", e.getMessage());
            // nothing is left pending: the next ops and the next synchronisation succeed
            NDArray ok = NDArray.ones(DType.F32, g, 2).add(1);
            assertClose("after index errors", NDArray.full(2, DType.F32, Device.cpu(), 2), ok, 0, 0);
            cuda().synchronize();
            NDArray good = NDArray.of(new long[] {3, 0}, 2).to(g), sel = NDArray.empty(DType.F32, g, 2, 3);
            cuda().indexSelect(x, 0, good, sel);
            assertClose("a good indexSelect after the errors", NDArray.ones(DType.F32, Device.cpu(), 2, 3), sel, 0, 0);
        }
    }

    @Test
    void integerOpsTheCpuRefusesThrowAtOnce() {
        Device g = gpu();
        long[] divisors = new long[1000];
        java.util.Arrays.fill(divisors, 2);
        divisors[637] = 0;
        for (DType t : new DType[] {DType.I32, DType.I64, DType.U8}) {
            try (var scope = MemoryScope.open()) {
                NDArray a = NDArray.full(7, t, g, 1000), two = NDArray.full(2, t, g, 1000);
                NDArray withZero = NDArray.of(divisors, 1000).to(t).to(g);
                for (BinaryOp op : new BinaryOp[] {BinaryOp.DIV, BinaryOp.REMAINDER}) {
                    NDArray out = NDArray.empty(t, g, 1000);
                    ArithmeticException e = assertThrows(ArithmeticException.class, () -> cuda().binary(op, a, withZero, out));
                    assertEquals(op.name().toLowerCase() + ": integer division by zero", e.getMessage(), op + " " + t);
                    // 7 // 2 = 3, 7 % 2 = 1, and the failed call left nothing behind
                    cuda().binary(op, a, two, out);
                    assertClose(op + " " + t + " by 2", NDArray.full(op == BinaryOp.DIV ? 3 : 1, t, Device.cpu(), 1000), out, 0, 0);
                }
            }
        }
        try (var scope = MemoryScope.open()) {
            long[] exponents = {2, 0, 3, -2, 1};
            NDArray base = NDArray.full(3, DType.I64, g, 5), e = NDArray.of(exponents, 5).to(g), out = NDArray.empty(DType.I64, g, 5);
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> cuda().binary(BinaryOp.POW, base, e, out));
            assertEquals("pow: integers to negative integer powers are not allowed, got exponent -2", ex.getMessage());
            NDArray x = NDArray.of(new long[] {2, 3}, 2).to(g), y = NDArray.empty(DType.I64, g, 2);
            ex = assertThrows(IllegalArgumentException.class, () -> cuda().unary(io.jtensor.backend.UnaryOp.POW, x, y, -1, 0));
            assertTrue(ex.getMessage().startsWith("pow: integer tensors need a non-negative integer exponent, got -1"), ex.getMessage());
        }
    }

    @Test
    void philoxStreamsMatchTheCpu() {
        Device g = gpu();
        for (DType t : FLOATS) {
            for (long offset : new long[] {0, 3, 1L << 33}) {
                try (var scope = MemoryScope.open()) {
                    long n = 10_007;
                    NDArray uc = NDArray.empty(t, Device.cpu(), n), ug = poisoned(t, g, n);
                    cpu().random(Backend.RandomKind.UNIFORM, 0x1234_5678_9ABCL, offset, -2, 3, uc);
                    cuda().random(Backend.RandomKind.UNIFORM, 0x1234_5678_9ABCL, offset, -2, 3, ug);
                    assertSameBytes("uniform " + t + " offset " + offset, uc, ug);
                    // a span whose products with u are inexact: the GPU must round them as Java does (no fused multiply-add)
                    NDArray vc = NDArray.empty(t, Device.cpu(), n), vg = poisoned(t, g, n);
                    cpu().random(Backend.RandomKind.UNIFORM, 77, offset, 0.1, 0.7, vc);
                    cuda().random(Backend.RandomKind.UNIFORM, 77, offset, 0.1, 0.7, vg);
                    assertSameBytes("uniform in [0.1, 0.7) " + t + " offset " + offset, vc, vg);
                    NDArray nc = NDArray.empty(t, Device.cpu(), n), ng = poisoned(t, g, n);
                    cpu().random(Backend.RandomKind.NORMAL, 99, offset, 0.5, 2, nc);
                    cuda().random(Backend.RandomKind.NORMAL, 99, offset, 0.5, 2, ng);
                    // computed in double on both sides; the last bits of log/cos/sin may differ
                    assertClose("normal " + t + " offset " + offset, nc, ng, t == DType.F64 ? 1e-13 : GpuCheck.rtol(t) / 4,
                            t == DType.F64 ? 1e-13 : GpuCheck.atol(t) / 4);
                }
            }
        }
    }
}
