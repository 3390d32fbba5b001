package io.jtensor.backend.cuda;

import static io.jtensor.backend.cuda.GpuCheck.FLOATS;
import static io.jtensor.backend.cuda.GpuCheck.assertClose;
import static io.jtensor.backend.cuda.GpuCheck.assertSameBytes;
import static io.jtensor.backend.cuda.GpuCheck.cpu;
import static io.jtensor.backend.cuda.GpuCheck.cuda;
import static io.jtensor.backend.cuda.GpuCheck.gpu;
import static io.jtensor.backend.cuda.GpuCheck.poisoned;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;
import io.jtensor.memory.MemoryScope;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every elementwise primitive on the GPU against the CPU backend, on transposed, sliced and broadcast inputs. */
class CudaElementwiseGpuTest {
    private static final Set<UnaryOp> POSITIVE_DOMAIN = EnumSet.of(UnaryOp.LOG, UnaryOp.SQRT, UnaryOp.RSQRT, UnaryOp.LOG1P, UnaryOp.POW);
    private static final Set<UnaryOp> AWAY_FROM_ZERO = EnumSet.of(UnaryOp.RECIPROCAL, UnaryOp.RDIV_SCALAR);
    private static final Set<UnaryOp> INTEGER_OPS = EnumSet.of(UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.RELU, UnaryOp.SQUARE,
            UnaryOp.CLAMP, UnaryOp.FLOOR, UnaryOp.CEIL, UnaryOp.ROUND, UnaryOp.LOGICAL_NOT, UnaryOp.ISNAN, UnaryOp.NONFINITE,
            UnaryOp.ADD_SCALAR, UnaryOp.MUL_SCALAR, UnaryOp.RSUB_SCALAR, UnaryOp.POW);

    private static double[] params(UnaryOp op, boolean integer) {
        return switch (op) {
            case POW -> new double[] {integer ? 3 : 2.5, 0};
            case LEAKY_RELU -> new double[] {0.1, 0};
            case ELU -> new double[] {1.3, 0};
            case CLAMP -> new double[] {integer ? -4 : -0.5, integer ? 6 : 0.7};
            case ADD_SCALAR -> new double[] {integer ? 3 : 1.25, 0};
            case MUL_SCALAR -> new double[] {integer ? -2 : -0.75, 0};
            case RSUB_SCALAR -> new double[] {integer ? 5 : 2.5, 0};
            case RDIV_SCALAR -> new double[] {1.5, 0};
            default -> new double[] {0, 0};
        };
    }

    /** x on the CPU for op: a [13, 9] base, so that its transpose [9, 13] is the strided input. */
    private static NDArray inputFor(UnaryOp op, DType t, long seed) {
        if (!t.isFloating()) return GpuCheck.integers(seed, t, t == DType.U8 ? 0 : -9, 10, 13, 9);
        if (POSITIVE_DOMAIN.contains(op)) return GpuCheck.uniform(seed, t, 0.05, 4, 13, 9);
        if (AWAY_FROM_ZERO.contains(op)) {
            try (NDArray u = GpuCheck.uniform(seed, DType.F64, 0.5, 3, 13, 9); NDArray s = GpuCheck.random(seed + 1, DType.F64, 1, 13, 9);
                 NDArray sg = s.sign(); NDArray v = u.mul(sg)) {
                return v.to(t);
            }
        }
        if (op == UnaryOp.ISNAN || op == UnaryOp.NONFINITE || op == UnaryOp.FLOOR || op == UnaryOp.CEIL || op == UnaryOp.ROUND) {
            double[] v = new double[13 * 9];
            for (int i = 0; i < v.length; i++) v[i] = (i % 7 == 0) ? Double.NaN : (i % 11 == 0) ? Double.NEGATIVE_INFINITY
                    : (i % 13 == 0) ? Double.POSITIVE_INFINITY : (i - 50) * 0.25;  // halves test round-half-even
            try (NDArray d = NDArray.of(v, 13, 9)) {
                return d.to(t);
            }
        }
        return GpuCheck.random(seed, t, 2, 13, 9);
    }

    @Test
    void everyUnaryOpInEveryDtype() {
        Device g = gpu();
        long seed = 100;
        for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16, DType.I32, DType.I64, DType.U8}) {
            for (UnaryOp op : UnaryOp.values()) {
                if (!t.isFloating() && !INTEGER_OPS.contains(op)) continue;
                if (t == DType.U8 && op == UnaryOp.POW) continue;
                double[] p = params(op, !t.isFloating());
                DType outType = KernelCodes.predicate(op) ? DType.BOOL : t;
                try (var scope = MemoryScope.open()) {
                    NDArray base = inputFor(op, t, seed++);
                    NDArray xc = base.transpose(0, 1);
                    NDArray xg = base.to(g).transpose(0, 1);
                    NDArray rc = NDArray.empty(outType, Device.cpu(), 9, 13);
                    NDArray rg = poisoned(outType, g, 9, 13);
                    cpu().unary(op, xc, rc, p[0], p[1]);
                    cuda().unary(op, xg, rg, p[0], p[1]);
                    assertClose(op + " " + t + " (transposed input)", rc, rg);
                    // contiguous input: the vector path
                    NDArray rc2 = NDArray.empty(outType, Device.cpu(), 13, 9), rg2 = poisoned(outType, g, 13, 9);
                    NDArray bg = base.to(g);
                    cpu().unary(op, base, rc2, p[0], p[1]);
                    cuda().unary(op, bg, rg2, p[0], p[1]);
                    assertClose(op + " " + t + " (contiguous)", rc2, rg2);
                }
            }
        }
    }

    @Test
    void largeContiguousUnaryUsesEveryLaneAndTheTail() {
        Device g = gpu();
        for (DType t : FLOATS) {
            try (var scope = MemoryScope.open()) {
                NDArray x = GpuCheck.random(7, t, 1, 100_003);
                NDArray rc = NDArray.empty(t, Device.cpu(), 100_003), rg = poisoned(t, g, 100_003);
                cpu().unary(UnaryOp.TANH, x, rc, 0, 0);
                cuda().unary(UnaryOp.TANH, x.to(g), rg, 0, 0);
                assertClose("tanh " + t, rc, rg);
                // an odd offset breaks 16-byte alignment: the scalar path
                NDArray xs = x.narrow(0, 1, 100_001), rc3 = NDArray.empty(t, Device.cpu(), 100_001), rg3 = poisoned(t, g, 100_001);
                cpu().unary(UnaryOp.EXP, xs, rc3, 0, 0);
                cuda().unary(UnaryOp.EXP, x.to(g).narrow(0, 1, 100_001), rg3, 0, 0);
                assertClose("exp misaligned " + t, rc3, rg3);
            }
        }
    }

    private static NDArray binaryInput(BinaryOp op, DType t, long seed, boolean second, long... shape) {
        boolean integer = !t.isFloating();
        if (op.isComparison() || integer) {
            long lo = t == DType.U8 || t == DType.BOOL ? 0 : -5, hi = t == DType.BOOL ? 2 : 6;
            if (second && (op == BinaryOp.DIV || op == BinaryOp.REMAINDER) && integer) lo = 1;
            if (second && op == BinaryOp.POW) {
                lo = 0;
                hi = 4;
            }
            return GpuCheck.integers(seed, t, lo, hi, shape);
        }
        if (!second && op == BinaryOp.POW) return GpuCheck.uniform(seed, t, 0.1, 3, shape);
        if (second && (op == BinaryOp.DIV || op == BinaryOp.REMAINDER)) return GpuCheck.uniform(seed, t, 0.5, 3, shape);
        if (op == BinaryOp.SIGMOID_BACKWARD && second) return GpuCheck.uniform(seed, t, 0, 1, shape);
        if (op == BinaryOp.TANH_BACKWARD && second) return GpuCheck.uniform(seed, t, -1, 1, shape);
        return GpuCheck.random(seed, t, 2, shape);
    }

    @Test
    void everyBinaryOpWithBroadcastAndStrides() {
        Device g = gpu();
        long seed = 500;
        for (DType t : new DType[] {DType.F32, DType.F64, DType.F16, DType.BF16, DType.I32, DType.I64, DType.U8, DType.BOOL}) {
            for (BinaryOp op : BinaryOp.values()) {
                boolean integer = !t.isFloating();
                if (integer && (op == BinaryOp.GELU_BACKWARD || op == BinaryOp.ATAN2)) continue;
                if (t == DType.BOOL && !op.isComparison() && op != BinaryOp.ADD && op != BinaryOp.MUL
                        && op != BinaryOp.MAXIMUM && op != BinaryOp.MINIMUM) continue;
                if (t == DType.U8 && (op == BinaryOp.SUB || op == BinaryOp.DIV || op == BinaryOp.REMAINDER)) continue;
                DType outType = op.isComparison() ? DType.BOOL : t;
                try (var scope = MemoryScope.open()) {
                    // a: [9, 13] as the transpose of [13, 9]; b: a row [1, 13] broadcast over 9 rows
                    NDArray aBase = binaryInput(op, t, seed++, false, 13, 9);
                    NDArray bRow = binaryInput(op, t, seed++, true, 1, 13);
                    NDArray ac = aBase.transpose(0, 1), bc = bRow.expand(9, 13);
                    NDArray ag = aBase.to(g).transpose(0, 1), bg = bRow.to(g).expand(9, 13);
                    NDArray rc = NDArray.empty(outType, Device.cpu(), 9, 13), rg = poisoned(outType, g, 9, 13);
                    cpu().binary(op, ac, bc, rc);
                    cuda().binary(op, ag, bg, rg);
                    assertClose(op + " " + t, rc, rg);
                    // contiguous, same shape: the vector path
                    NDArray a2 = binaryInput(op, t, seed++, false, 1001), b2 = binaryInput(op, t, seed++, true, 1001);
                    NDArray rc2 = NDArray.empty(outType, Device.cpu(), 1001), rg2 = poisoned(outType, g, 1001);
                    cpu().binary(op, a2, b2, rc2);
                    cuda().binary(op, a2.to(g), b2.to(g), rg2);
                    assertClose(op + " " + t + " contiguous", rc2, rg2);
                }
            }
        }
    }

    @Test
    void whereInEveryDtype() {
        Device g = gpu();
        for (DType t : DType.values()) {
            try (var scope = MemoryScope.open()) {
                NDArray cond = GpuCheck.random(1, DType.BOOL, 1, 7, 1, 5).expand(7, 6, 5);
                NDArray a = GpuCheck.random(2, t, 3, 6, 5).expand(7, 6, 5);
                NDArray bBase = GpuCheck.random(3, t, 3, 5, 6, 7);
                NDArray b = bBase.permute(2, 1, 0);
                NDArray rc = NDArray.empty(t, Device.cpu(), 7, 6, 5), rg = poisoned(t, g, 7, 6, 5);
                cpu().where(cond, a, b, rc);
                NDArray cg = GpuCheck.random(1, DType.BOOL, 1, 7, 1, 5).to(g).expand(7, 6, 5);
                NDArray agg = GpuCheck.random(2, t, 3, 6, 5).to(g).expand(7, 6, 5);
                NDArray bgg = bBase.to(g).permute(2, 1, 0);
                cuda().where(cg, agg, bgg, rg);
                assertSameBytes("where " + t, rc, rg);
            }
        }
    }

    @Test
    void everyCastIsBitExact() {
        Device g = gpu();
        for (DType from : DType.values()) {
            for (DType to : DType.values()) {
                try (var scope = MemoryScope.open()) {
                    // multiples of 0.5 in [-8, 60): exact in every floating dtype; negatives wrap in U8 like a C cast
                    NDArray halves = GpuCheck.integers(from.ordinal() * 10L + to.ordinal(), DType.F64, -16, 120, 11, 7).mul(0.5);
                    NDArray src = halves.to(from);
                    NDArray rc = NDArray.empty(to, Device.cpu(), 7, 11), rg = poisoned(to, g, 7, 11);
                    cpu().copy(src.transpose(0, 1), rc);
                    cuda().copy(src.to(g).transpose(0, 1), rg);
                    assertSameBytes("cast " + from + " -> " + to, rc, rg);
                }
            }
        }
    }

    @Test
    void copyIntoAStridedViewAndFill() {
        Device g = gpu();
        for (DType t : DType.values()) {
            try (var scope = MemoryScope.open()) {
                NDArray src = GpuCheck.random(9, t, 4, 5, 6);
                NDArray dc = NDArray.zeros(t, Device.cpu(), 10, 12), dg = NDArray.zeros(t, g, 10, 12);
                cpu().copy(src, dc.slice(0, 0, 10, 2).slice(1, 1, 12, 2));
                cuda().copy(src.to(g), dg.slice(0, 0, 10, 2).slice(1, 1, 12, 2));
                assertSameBytes("strided copy " + t, dc, dg);
                cpu().fill(dc.slice(1, 0, 12, 3), -2.5);
                cuda().fill(dg.slice(1, 0, 12, 3), -2.5);
                assertSameBytes("strided fill " + t, dc, dg);
            }
        }
    }
}
