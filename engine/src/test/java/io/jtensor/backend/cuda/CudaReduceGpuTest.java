package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.assertRelNorm;
import static io.jtensor.backend.cuda.GpuCheck.cpu;
import static io.jtensor.backend.cuda.GpuCheck.cuda;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static io.jtensor.backend.cuda.GpuCheck.poisoned;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.ReduceOp;
import io.jtensor.memory.MemoryScope;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Reductions on the GPU against the CPU backend: every op, several dim sets, permuted inputs, split launches. */
class CudaReduceGpuTest {
    private static final int[][] DIM_SETS = {{2}, {0}, {1}, {0, 2}, {1, 2}, {0, 1, 2}};

    private static NDArray inputFor(ReduceOp op, DType t, long seed, long... shape) {
        if (op == ReduceOp.PROD) {
            if (!t.isFloating()) return GpuCheck.integers(seed, t, 1, 3, shape);
            try (NDArray n = GpuCheck.random(seed, DType.F64, 0.05, shape); NDArray v = n.add(1)) {
                return v.to(t);
            }
        }
        if ((op == ReduceOp.MAX || op == ReduceOp.MIN || op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN) && t.isFloating()) {
            // whole numbers: ties are common, and both backends must pick the first
            try (NDArray n = GpuCheck.integers(seed, DType.F64, -4, 5, shape)) {
                return n.to(t);
            }
        }
        return GpuCheck.random(seed, t, 1, shape);
    }

    private static void check(ReduceOp op, DType t, NDArray xc, NDArray xg, int[] dims, String what) {
        DType outType = CudaReduce.outDType(op, t);
        long[] kept = CudaReduce.keptShape(xc.shape(), dims);
        boolean withIdx = op == ReduceOp.MAX || op == ReduceOp.MIN;
        NDArray rc = NDArray.empty(outType, Device.cpu(), kept), rg = poisoned(outType, xg.device(), kept);
        NDArray ic = withIdx ? NDArray.empty(DType.I64, Device.cpu(), kept) : null;
        NDArray ig = withIdx ? poisoned(DType.I64, xg.device(), kept) : null;
        cpu().reduce(op, xc, dims, rc, ic);
        cuda().reduce(op, xg, dims, rg, ig);
        String w = op + " " + t + " dims " + Arrays.toString(dims) + " " + what;
        if (outType.isFloating() && (op == ReduceOp.SUM || op == ReduceOp.PROD || op == ReduceOp.LOGSUMEXP)) {
            assertSameInfinities(w, rc, rg);
            assertRelNorm(w, finite(rc), finite(rg), GpuCheck.normTol(outType));
        } else {
            assertClose(w, rc, rg, 0, 0);
        }
        if (withIdx) assertArrayEquals(ic.toLongArray(), ig.toLongArray(), w + " indices");
    }

    /** Infinite results (logsumexp of an empty or all -inf slice) must match exactly; norms can't compare them. */
    private static void assertSameInfinities(String what, NDArray ref, NDArray got) {
        double[] r = ref.toDoubleArray(), g = got.toDoubleArray();
        for (int i = 0; i < r.length; i++) {
            if (Double.isInfinite(r[i]) && r[i] != g[i]) fail(what + ": element " + i + " expected " + r[i] + " got " + g[i]);
        }
    }

    /** The values with every infinity of ref replaced by 0 in both (after assertSameInfinities), on the CPU. */
    private static NDArray finite(NDArray a) {
        double[] v = a.toDoubleArray();
        for (int i = 0; i < v.length; i++) if (Double.isInfinite(v[i])) v[i] = 0;
        return NDArray.of(v, a.shape());
    }

    @Test
    void everyOpOverSeveralDimSetsOfAPermutedInput() {
        Device g = gpu();
        long seed = 1000;
        for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16, DType.I32, DType.I64, DType.U8, DType.BOOL}) {
            for (ReduceOp op : ReduceOp.values()) {
                if (op == ReduceOp.LOGSUMEXP && !t.isFloating()) continue;
                if (t == DType.BOOL && op != ReduceOp.ANY && op != ReduceOp.ALL && op != ReduceOp.SUM) continue;
                for (int[] dims : DIM_SETS) {
                    try (var scope = MemoryScope.open()) {
                        // base [67, 5, 33] permuted to [5, 33, 67]: no dim has unit stride where the kernel expects it
                        NDArray base = inputFor(op, t, seed++, 67, 5, 33);
                        check(op, t, base.permute(1, 2, 0), base.to(g).permute(1, 2, 0), dims, "permuted");
                        check(op, t, base, base.to(g), dims, "contiguous");
                    }
                }
            }
        }
    }

    @Test
    void fewOutputsSplitTheReductionOverBlocks() {
        Device g = gpu();
        for (DType t : new DType[] {DType.F32, DType.F64, DType.BF16, DType.I64}) {
            for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.ARGMIN, ReduceOp.LOGSUMEXP}) {
                if (op == ReduceOp.LOGSUMEXP && !t.isFloating()) continue;
                try (var scope = MemoryScope.open()) {
                    NDArray rows = inputFor(op, t, 77, 3, 200_003);        // rows kernel, split
                    check(op, t, rows, rows.to(g), new int[] {1}, "3 long rows");
                    NDArray cols = inputFor(op, t, 78, 100_001, 3);        // cols kernel, split
                    check(op, t, cols, cols.to(g), new int[] {0}, "3 long columns");
                    NDArray all = inputFor(op, t, 79, (1 << 20) + 3);      // everything into one value
                    check(op, t, all, all.to(g), new int[] {0}, "all of 2^20+3");
                }
            }
        }
    }

    @Test
    void everyVariantOnEveryContiguousPath() {
        Device g = gpu();
        long seed = 4000;
        // many rows (one warp per row), rows starting off 16-byte boundaries (a narrowed view), few long rows (split
        // blocks and their combine), one output over everything
        CudaReduce.Variant def = CudaReduce.variant();
        try {
            for (CudaReduce.Variant v : CudaReduce.Variant.values()) {
                CudaReduce.setVariant(v);
                for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64, DType.I32, DType.I64}) {
                    for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.ARGMIN, ReduceOp.LOGSUMEXP, ReduceOp.PROD}) {
                        if (op == ReduceOp.LOGSUMEXP && !t.isFloating()) continue;
                        try (var scope = MemoryScope.open()) {
                            String w = "variant " + v + " ";
                            // at least 32 rows per SM (CudaReduce.vecPlan) on GPUs up to 156 SMs
                            NDArray many = inputFor(op, t, seed++, 5000, 64);
                            check(op, t, many, many.to(g), new int[] {1}, w + "5000 rows of 64");
                            NDArray wide = inputFor(op, t, seed++, 5000, 71);
                            check(op, t, wide.narrow(1, 3, 65), wide.to(g).narrow(1, 3, 65), new int[] {1}, w + "rows of 65 at odd offsets");
                            if (op == ReduceOp.PROD) continue;  // long products under- or overflow: rounding decides
                            NDArray few = inputFor(op, t, seed++, 5, 70001);
                            check(op, t, few, few.to(g), new int[] {1}, w + "5 rows of 70001");
                            NDArray all = inputFor(op, t, seed++, 3 * 65536 + 5);
                            check(op, t, all.narrow(0, 1, 3 * 65536 + 3), all.to(g).narrow(0, 1, 3 * 65536 + 3), new int[] {0}, w + "all, offset 1");
                        }
                    }
                }
            }
        } finally {
            CudaReduce.setVariant(def);
        }
    }

    /** op over dims without indices on both backends; MAX/MIN (and exact integer sums) must match exactly. */
    private static void checkNoIndex(ReduceOp op, DType t, NDArray xc, NDArray xg, int[] dims, boolean exact, String what) {
        long[] kept = CudaReduce.keptShape(xc.shape(), dims);
        NDArray rc = NDArray.empty(t, Device.cpu(), kept), rg = poisoned(t, xg.device(), kept);
        cpu().reduce(op, xc, dims, rc, null);
        cuda().reduce(op, xg, dims, rg, null);
        String w = "variant " + CudaReduce.variant() + " " + op + " " + t + " dims " + Arrays.toString(dims) + " " + what;
        if (op == ReduceOp.SUM && !exact) assertRelNorm(w, rc, rg, GpuCheck.normTol(t));
        else assertClose(w, rc, rg, 0, 0);
    }

    /**
     * Rows of small integers (exact sums in every float dtype, so NaN and infinities can be compared element by
     * element) with NaN, infinities and signed zeros placed at the edges of packs and rows: [rows, n].
     */
    private static NDArray specialRows(DType t, long seed, int rows, int n) {
        double[] v;
        try (NDArray r = GpuCheck.integers(seed, DType.F64, -4, 5, rows, n)) {
            v = r.toDoubleArray();
        }
        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
        v[0] = nan;                                       // row 0: NaN first
        v[n + n - 1] = nan;                               // row 1: NaN last (a tail element when n % 8 != 0)
        v[2 * n + n / 2] = inf;                           // row 2: +inf
        v[3 * n + 5] = -inf;                              // row 3: -inf
        java.util.Arrays.fill(v, 4 * n, 5 * n, -inf);    // row 4: all -inf (max -inf, sum -inf)
        java.util.Arrays.fill(v, 5 * n, 6 * n, inf);     // row 5: all +inf (min +inf)
        v[6 * n + 1] = inf;                               // row 6: +inf and -inf (sum NaN)
        v[6 * n + n - 2] = -inf;
        v[7 * n + 3] = nan;                               // row 7: NaN after +inf
        v[7 * n + 2] = inf;
        java.util.Arrays.fill(v, 8 * n, 9 * n, nan);     // row 8: all NaN
        for (int j = 0; j < n; j++) v[9 * n + j] = (j & 1) == 0 ? 0.0 : -0.0;  // row 9: signed zeros
        for (int r = 10; r < rows; r += 97) v[r * n + (r * 7) % n] = nan;      // sparse NaN
        return NDArray.of(v, rows, n).to(t);
    }

    @Test
    void vec2SumAndIndexFreeMaxMinMatchTheCpu() {
        Device g = gpu();
        long seed = 5000;
        // 5000 rows: at least 32 per SM (CudaReduce.v2Plan) on GPUs up to 156 SMs. Lengths giving 4, 8, 16 and 32
        // lanes per row, whole packs and tails of single elements.
        long[] lengths = {64, 100, 257, 1000};
        CudaReduce.Variant def = CudaReduce.variant();
        try {
            CudaReduce.setVariant(CudaReduce.Variant.VEC2);
            for (DType t : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
                for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN}) {
                    try (var scope = MemoryScope.open()) {
                        for (long n : lengths) {
                            NDArray x = inputFor(op, t, seed++, 5000, n);
                            checkNoIndex(op, t, x, x.to(g), new int[] {1}, false, "5000 rows of " + n);
                        }
                        // kept dims that merge into one ([50, 100] -> 5000 rows), reduced dims that merge (4 x 64)
                        NDArray x3 = inputFor(op, t, seed++, 50, 100, 4, 64);
                        checkNoIndex(op, t, x3, x3.to(g), new int[] {2, 3}, false, "[50, 100, 4, 64] over the last two");
                        // rows at a stride that keeps them 16-byte aligned (72 elements, starting 8 in: the fast
                        // kernel) and at one that doesn't (71, starting 3 in: VEC's kernels)
                        NDArray wide = inputFor(op, t, seed++, 5000, 72);
                        checkNoIndex(op, t, wide.narrow(1, 8, 64), wide.to(g).narrow(1, 8, 64), new int[] {1}, false, "aligned strided rows");
                        NDArray odd = inputFor(op, t, seed++, 5000, 71);
                        checkNoIndex(op, t, odd.narrow(1, 3, 65), odd.to(g).narrow(1, 3, 65), new int[] {1}, false, "unaligned rows");
                        // kept dims that do not merge (a permutation): VEC's kernels
                        NDArray perm = inputFor(op, t, seed++, 100, 50, 256);
                        checkNoIndex(op, t, perm.permute(1, 0, 2), perm.to(g).permute(1, 0, 2), new int[] {2}, false, "permuted kept dims");
                        // NaN, infinities and signed zeros, with and without a tail
                        for (int n : new int[] {256, 301}) {
                            NDArray sp = specialRows(t, seed++, 5000, n);
                            checkNoIndex(op, t, sp, sp.to(g), new int[] {1}, true, "NaN/inf rows of " + n);
                        }
                        // MAX/MIN with indices keep VEC's index-tracking kernels, even under VEC2
                        if (op != ReduceOp.SUM) {
                            NDArray xi = inputFor(op, t, seed++, 5000, 257);
                            check(op, t, xi, xi.to(g), new int[] {1}, "with indices");
                        }
                    }
                }
            }
        } finally {
            CudaReduce.setVariant(def);
        }
    }

    /**
     * Rows of -inf holding, in every third row, a NaN and a 5 far apart (so that on a GPU a lane or split holds the
     * NaN with nothing but -inf, whose (max, sum) state a merge drops unless the NaN became its max), in the next
     * row nothing else (logsumexp -inf), in the next a 5 and a 1: [rows, n].
     */
    private static NDArray nanAmongMinusInfinity(DType t, int rows, int n) {
        double[] v = new double[rows * n];
        Arrays.fill(v, Double.NEGATIVE_INFINITY);
        for (int r = 0; r < rows; r++) {
            int at = (r * 37) % n, far = (at + n / 2 + 1) % n;
            if (r % 3 == 0) v[r * n + at] = Double.NaN;
            if (r % 3 != 1) v[r * n + far] = 5;
            if (r % 3 == 2) v[r * n + at] = 1;
        }
        return NDArray.of(v, rows, n).to(t);
    }

    @Test
    void logSumExpKeepsANaNWhoseLaneSeesOnlyMinusInfinity() {
        Device g = gpu();
        CudaReduce.Variant def = CudaReduce.variant();
        try {
            for (CudaReduce.Variant variant : CudaReduce.Variant.values()) {
                CudaReduce.setVariant(variant);
                for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16}) {
                    String w = "variant " + variant + " LOGSUMEXP " + t + " ";
                    try (var scope = MemoryScope.open()) {
                        // many rows (a warp or lane group per row), few long rows (split blocks), the transpose of
                        // many rows (the column kernel), and one row of everything
                        for (int[] rn : new int[][] {{5000, 64}, {5000, 301}, {6, 70001}, {1, 3 * 65536 + 5}}) {
                            NDArray x = nanAmongMinusInfinity(t, rn[0], rn[1]);
                            compareLogSumExp(w + "rows of " + rn[1], t, x, x.to(g), 1);
                        }
                        NDArray cols = nanAmongMinusInfinity(t, 300, 257).transpose(0, 1).contiguous();  // [257, 300]
                        compareLogSumExp(w + "columns of 257", t, cols, cols.to(g), 0);
                    }
                }
            }
        } finally {
            CudaReduce.setVariant(def);
        }
    }

    /** LOGSUMEXP over dim on both backends; NaN where the CPU has NaN, the same infinities, finite values close. */
    private static void compareLogSumExp(String what, DType t, NDArray xc, NDArray xg, int dim) {
        long[] kept = CudaReduce.keptShape(xc.shape(), new int[] {dim});
        NDArray rc = NDArray.empty(t, Device.cpu(), kept), rg = poisoned(t, xg.device(), kept);
        cpu().reduce(ReduceOp.LOGSUMEXP, xc, new int[] {dim}, rc, null);
        cuda().reduce(ReduceOp.LOGSUMEXP, xg, new int[] {dim}, rg, null);
        assertClose(what, rc, rg, GpuCheck.rtol(t) * 4, GpuCheck.atol(t) * 4);
    }

    @Test
    void emptyAndScalarReductions() {
        Device g = gpu();
        try (var scope = MemoryScope.open()) {
            for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.PROD, ReduceOp.ANY, ReduceOp.ALL, ReduceOp.LOGSUMEXP}) {
                NDArray e = NDArray.zeros(DType.F32, Device.cpu(), 4, 0, 3);
                check(op, DType.F32, e, e.to(g), new int[] {1}, "empty dim");
            }
            NDArray s = NDArray.scalar(2.5, DType.F32, Device.cpu());
            check(ReduceOp.SUM, DType.F32, s, s.to(g), new int[0], "scalar");
        }
    }
}
