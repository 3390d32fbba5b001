package io.jtensor;

import static io.jtensor.Checks.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every unary and binary op against {@link Reference} on strided, broadcast inputs in every dtype it supports. */
class ElementwiseTest {
    private static final List<DType> FLOATS = List.of(DType.F32, DType.F64, DType.F16, DType.BF16);

    private static double p1(UnaryOp op) {
        return switch (op) {
            case LEAKY_RELU -> 0.1;
            case ELU -> 1.5;
            case POW -> 2.5;
            case CLAMP -> -0.5;
            case ADD_SCALAR -> 1.25;
            case MUL_SCALAR -> -3;
            case RSUB_SCALAR -> 2;
            case RDIV_SCALAR -> 1.5;
            default -> 0;
        };
    }

    private static double p2(UnaryOp op) { return op == UnaryOp.CLAMP ? 0.75 : 0; }

    /** Inputs inside each op's domain. */
    private static double[] range(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL, RDIV_SCALAR, POW -> new double[] {0.1, 5};
            case LOG1P -> new double[] {-0.9, 5};
            default -> new double[] {-4, 4};
        };
    }

    private static NDArray applyUnary(UnaryOp op, NDArray x) {
        return switch (op) {
            case ISNAN -> x.isnan();
            case NONFINITE -> x.isNonFinite();
            case LOGICAL_NOT -> x.logicalNot();
            default -> x.unary(op, p1(op), p2(op));
        };
    }

    /** A [7, 6] transposed (non-contiguous) view over the given values. */
    private static NDArray transposedInput(Device d, DType dt, double[] v) {
        try (NDArray base = on(d, dt, v, 6, 7)) {
            return base.t();
        }
    }

    private static double[] transposedValues(double[] v) { return viewValues(v, new long[] {7, 6}, new long[] {1, 7}, 0); }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void unaryOpsOnFloatsMatchReference(Device d) {
        for (UnaryOp op : UnaryOp.values()) {
            double[] r = range(op);
            double[] v = randomValues(op.ordinal() + 1, 42, r[0], r[1]);
            for (DType dt : FLOATS) {
                double[] in = new double[v.length];
                for (int i = 0; i < v.length; i++) in[i] = roundTo(dt, v[i]);
                double[] inT = transposedValues(in);
                try (NDArray x = transposedInput(d, dt, v); NDArray y = applyUnary(op, x)) {
                    boolean boolOut = op == UnaryOp.ISNAN || op == UnaryOp.NONFINITE || op == UnaryOp.LOGICAL_NOT;
                    DType outType = boolOut ? DType.BOOL : dt;
                    assertEquals(outType, y.dtype(), op + " " + dt);
                    double[] want = new double[inT.length];
                    for (int i = 0; i < want.length; i++) want[i] = roundTo(outType, Reference.unary(op, inT[i], p1(op), p2(op)));
                    double t = boolOut ? 0 : tol(dt);
                    assertClose(op + " " + dt, want, y, t, t * 1e-2);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void unaryOpsOnLongContiguousArraysUseTheFastPathCorrectly(Device d) {
        int n = 140_001; // above the parallel threshold even for cheap ops, not a multiple of the vector length
        for (DType dt : List.of(DType.F32, DType.F64)) {
            double rel = dt == DType.F32 ? 3e-6 : 1e-13, abs = dt == DType.F32 ? 1e-7 : 1e-15;
            for (UnaryOp op : UnaryOp.values()) {
                double[] r = range(op);
                double[] v = randomValues(100 + op.ordinal(), n, r[0], r[1]);
                try (NDArray x = on(d, dt, v, n); NDArray y = applyUnary(op, x)) {
                    double[] got = y.toDoubleArray();
                    for (int i = 0; i < n; i = i < n - 40 ? i + 997 : i + 1) { // a sample, and the whole tail
                        double in = roundTo(dt, v[i]);
                        double want = Reference.unary(op, in, p1(op), p2(op));
                        if (y.dtype() == dt) want = roundTo(dt, want);
                        assertEquals(want, got[i], rel * Math.abs(want) + abs, op + " " + dt + " at " + i + " of " + in);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void geluKeepsRelativeAccuracyInTheNegativeTail(Device d) {
        int n = 1201;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = -6 + 12.0 * i / (n - 1);
        for (DType dt : List.of(DType.F32, DType.F64)) {
            try (NDArray x = on(d, dt, v, n); NDArray y = x.gelu()) {
                double[] want = new double[n];
                for (int i = 0; i < n; i++) want[i] = roundTo(dt, Reference.unary(UnaryOp.GELU, roundTo(dt, v[i]), 0, 0));
                assertClose("gelu " + dt, want, y, dt == DType.F64 ? 1e-12 : 1e-5, 0);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void unaryOpsOnIntegers(Device d) {
        double[] v = {-7, -2, -1, 0, 1, 3, 12};
        List<UnaryOp> ops = List.of(UnaryOp.NEG, UnaryOp.ABS, UnaryOp.SIGN, UnaryOp.RELU, UnaryOp.SQUARE, UnaryOp.CLAMP,
                UnaryOp.FLOOR, UnaryOp.CEIL, UnaryOp.ROUND, UnaryOp.ADD_SCALAR, UnaryOp.MUL_SCALAR, UnaryOp.RSUB_SCALAR,
                UnaryOp.LOGICAL_NOT, UnaryOp.ISNAN, UnaryOp.NONFINITE);
        for (DType dt : List.of(DType.I32, DType.I64)) {
            for (UnaryOp op : ops) {
                double a = op == UnaryOp.CLAMP ? -3 : op == UnaryOp.ADD_SCALAR ? 4 : p1(op), b = op == UnaryOp.CLAMP ? 5 : 0;
                try (NDArray x = on(d, dt, v, v.length); NDArray y = op.name().startsWith("IS") || op == UnaryOp.NONFINITE || op == UnaryOp.LOGICAL_NOT
                        ? applyUnary(op, x) : x.unary(op, a, b)) {
                    double[] want = new double[v.length];
                    for (int i = 0; i < v.length; i++) want[i] = Reference.unary(op, v[i], a, b) + 0.0; // integers have no -0
                    assertArrayEquals(want, y.toDoubleArray(), op + " " + dt);
                }
            }
            try (NDArray x = on(d, dt, v, v.length); NDArray y = x.pow(3)) {
                assertEquals(dt, y.dtype());
                assertArrayEquals(new double[] {-343, -8, -1, 0, 1, 27, 1728}, y.toDoubleArray(), "pow " + dt);
            }
            try (NDArray x = on(d, dt, new double[] {4, 9}, 2); NDArray y = x.pow(0.5)) {
                assertEquals(DType.F32, y.dtype(), "a fractional exponent promotes integers");
                assertArrayEquals(new double[] {2, 3}, y.toDoubleArray());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void specialValues(Device d) {
        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
        try (NDArray x = on(d, DType.F32, new double[] {nan, -0.5, 0.5, 1.5, 2.5, -2.5, inf, -inf}, 8);
             NDArray sign = x.sign(); NDArray round = x.round(); NDArray relu = x.relu(); NDArray clamp = x.clamp(-1, nan);
             NDArray clampHi = x.clamp(nan, 1); NDArray clampCrossed = x.clamp(2, 1);
             NDArray isnan = x.isnan(); NDArray nonFinite = x.isNonFinite()) {
            assertArrayEquals(new double[] {0, -1, 1, 1, 1, -1, 1, -1}, sign.toDoubleArray(), "sign(NaN) is 0 as in PyTorch");
            double[] r = round.toDoubleArray();
            assertTrue(Double.isNaN(r[0]));
            assertArrayEquals(new double[] {-0.0, 0, 2, 2, -2, inf, -inf}, java.util.Arrays.copyOfRange(r, 1, 8), "half to even");
            assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(r[1]), "round(-0.5) is -0");
            assertClose("relu", new double[] {nan, 0, 0.5, 1.5, 2.5, 0, inf, 0}, relu, 0, 0);
            assertClose("clamp min only", new double[] {nan, -0.5, 0.5, 1.5, 2.5, -1, inf, -1}, clamp, 0, 0);
            assertClose("clamp max only", new double[] {nan, -0.5, 0.5, 1, 1, -2.5, 1, -inf}, clampHi, 0, 0);
            assertClose("clamp min > max gives max", new double[] {nan, 1, 1, 1, 1, 1, 1, 1}, clampCrossed, 0, 0);
            assertArrayEquals(new boolean[] {true, false, false, false, false, false, false, false}, isnan.toBooleanArray());
            assertArrayEquals(new boolean[] {true, false, false, false, false, false, true, true}, nonFinite.toBooleanArray());
        }
        try (NDArray a = on(d, DType.F64, new double[] {nan, 1, 3}, 3); NDArray b = on(d, DType.F64, new double[] {2, nan, 1}, 3);
             NDArray mx = a.maximum(b); NDArray mn = a.minimum(b)) {
            assertClose("maximum propagates NaN", new double[] {nan, nan, 3}, mx, 0, 0);
            assertClose("minimum propagates NaN", new double[] {nan, nan, 1}, mn, 0, 0);
        }
    }

    private static NDArray applyBinary(BinaryOp op, NDArray a, NDArray b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case POW -> a.pow(b);
            case MAXIMUM -> a.maximum(b);
            case MINIMUM -> a.minimum(b);
            case EQ -> a.eq(b);
            case NE -> a.ne(b);
            case LT -> a.lt(b);
            case LE -> a.le(b);
            case GT -> a.gt(b);
            case GE -> a.ge(b);
            case LOGICAL_AND -> a.logicalAnd(b);
            case LOGICAL_OR -> a.logicalOr(b);
            case LOGICAL_XOR -> a.logicalXor(b);
            default -> {
                // Ops without an NDArray method go to the backend directly, inputs broadcast by hand.
                long[] sh = Shapes.broadcast(op.name(), a.shape(), b.shape());
                try (NDArray ae = a.expand(sh); NDArray be = b.expand(sh)) {
                    NDArray out = NDArray.empty(a.dtype(), a.device(), sh);
                    a.backend().binary(op, ae, be, out);
                    yield out;
                }
            }
        };
    }

    private static double[] aRange(BinaryOp op) {
        return switch (op) {
            case POW -> new double[] {0.2, 3};
            default -> new double[] {-3, 3};
        };
    }

    private static double[] bRange(BinaryOp op) {
        return switch (op) {
            case POW -> new double[] {-2, 2};
            case DIV, REMAINDER -> new double[] {0.5, 3};
            case SIGMOID_BACKWARD, TANH_BACKWARD -> new double[] {-1, 1};
            default -> new double[] {-3, 3};
        };
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void binaryOpsOnFloatsWithBroadcastAndStrides(Device d) {
        for (BinaryOp op : BinaryOp.values()) {
            double[] ar = aRange(op), br = bRange(op);
            double[] av = randomValues(op.ordinal() * 2 + 1, 4 * 2 * 5, ar[0], ar[1]);
            double[] bv = randomValues(op.ordinal() * 2 + 2, 3, br[0], br[1]);
            if (op == BinaryOp.REMAINDER) bv[1] = -bv[1];
            if (op.isComparison()) { // ties matter for comparisons: use few distinct values
                for (int i = 0; i < av.length; i++) av[i] = Math.round(av[i]);
                for (int i = 0; i < bv.length; i++) bv[i] = Math.round(bv[i]);
            }
            for (DType dt : FLOATS) {
                // a: [4, 1, 5] taken as every other row of a [4, 2, 5] array; b: [3, 1]; result [4, 3, 5]
                try (NDArray aBase = on(d, dt, av, 4, 2, 5); NDArray a = aBase.narrow(1, 1, 1); NDArray b = on(d, dt, bv, 3, 1);
                     NDArray y = applyBinary(op, a, b)) {
                    assertShape(y, 4, 3, 5);
                    DType outType = op.isComparison() ? DType.BOOL : dt;
                    assertEquals(outType, y.dtype(), op + " " + dt);
                    double[] want = new double[60];
                    for (int i = 0; i < 4; i++) {
                        for (int j = 0; j < 3; j++) {
                            for (int k = 0; k < 5; k++) {
                                double x = roundTo(dt, av[i * 10 + 5 + k]), z = roundTo(dt, bv[j]);
                                want[i * 15 + j * 5 + k] = roundTo(outType, Reference.binary(op, x, z));
                            }
                        }
                    }
                    double t = op.isComparison() ? 0 : tol(dt) * (op == BinaryOp.REMAINDER ? 4 : 1);
                    assertClose(op + " " + dt, want, y, t, t);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void binaryFastPathShapes(Device d) {
        int rows = 130, cols = 257; // 33410 elements: parallel, and rows not a multiple of the vector length
        double[] av = randomValues(11, rows * cols, -2, 2), bv = randomValues(12, cols, 0.5, 2), sv = {1.75};
        for (int k = 0; k < av.length; k += 101) av[k] = Double.NaN; // NaN lanes inside the SIMD body
        for (int k = 50; k < av.length; k += 103) av[k] = sv[0]; // ties with the scalar
        for (DType dt : List.of(DType.F32, DType.F64))
        for (BinaryOp op : List.of(BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAXIMUM, BinaryOp.MINIMUM,
                BinaryOp.EQ, BinaryOp.NE, BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE,
                BinaryOp.RELU_BACKWARD, BinaryOp.SIGMOID_BACKWARD, BinaryOp.TANH_BACKWARD)) {
            DType outType = op.isComparison() ? DType.BOOL : dt;
            double rel = op.name().endsWith("BACKWARD") ? tol(dt) : 0;
            try (NDArray a = on(d, dt, av, rows, cols); NDArray row = on(d, dt, bv, cols);
                 NDArray s = on(d, dt, sv, 1, 1); NDArray at = a.t();
                 NDArray same = applyBinary(op, a, a); NDArray bias = applyBinary(op, a, row); NDArray biasLeft = applyBinary(op, row, a);
                 NDArray scalar = applyBinary(op, a, s); NDArray scalarLeft = applyBinary(op, s, a); NDArray trans = applyBinary(op, at, at)) {
                double[] g1 = same.toDoubleArray(), g2 = bias.toDoubleArray(), g3 = biasLeft.toDoubleArray(),
                        g4 = scalar.toDoubleArray(), g5 = scalarLeft.toDoubleArray(), g6 = trans.toDoubleArray();
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        int k = i * cols + j;
                        double x = roundTo(dt, av[k]), b = roundTo(dt, bv[j]), c = roundTo(dt, sv[0]);
                        // exact for +, -, *, /, max/min and comparisons: each is correctly rounded in either precision
                        assertNear(roundTo(outType, Reference.binary(op, x, x)), g1[k], rel, "same", op, dt);
                        assertNear(roundTo(outType, Reference.binary(op, x, b)), g2[k], rel, "row", op, dt);
                        assertNear(roundTo(outType, Reference.binary(op, b, x)), g3[k], rel, "row left", op, dt);
                        assertNear(roundTo(outType, Reference.binary(op, x, c)), g4[k], rel, "scalar", op, dt);
                        assertNear(roundTo(outType, Reference.binary(op, c, x)), g5[k], rel, "scalar left", op, dt);
                        assertNear(roundTo(outType, Reference.binary(op, x, x)), g6[j * rows + i], rel, "transposed", op, dt);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void largeBroadcastBinaryOpsSplitAcrossCores(Device d) {
        int rows = 600, cols = 501; // 300600 elements: split across cores, pieces not aligned to rows or vectors
        double[] av = randomValues(31, rows * cols, -3, 3), bv = randomValues(32, cols, 0.5, 2);
        for (DType dt : List.of(DType.F32, DType.F64, DType.BF16, DType.I64)) {
            try (NDArray a = on(d, dt, av, rows, cols); NDArray row = on(d, dt, bv, cols); NDArray y = a.mul(row); NDArray z = a.sub(row)) {
                double[] gy = y.toDoubleArray(), gz = z.toDoubleArray();
                for (int k = 0; k < gy.length; k += 7) {
                    double x = roundTo(dt, av[k]), b = roundTo(dt, bv[k % cols]);
                    assertNear(roundTo(dt, x * b), gy[k], 0, "row-broadcast", BinaryOp.MUL, dt);
                    assertNear(roundTo(dt, x - b), gz[k], 0, "row-broadcast", BinaryOp.SUB, dt);
                }
            }
        }
    }

    /** Checks one element; the message is only built on failure (these loops check hundreds of thousands). */
    private static void assertNear(double want, double got, double rel, String where, BinaryOp op, DType dt) {
        boolean ok = Double.isNaN(want) ? Double.isNaN(got) : Math.abs(want - got) <= rel * Math.abs(want) + rel * 1e-3;
        if (!ok) fail(op + " " + where + " " + dt + ": expected " + want + ", got " + got);
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void binaryOpsOnIntegersAreExact(Device d) {
        double[] av = {-7, -3, 0, 5, 9, 100}, bv = {3, -2, 4, 5, -3, 7};
        List<BinaryOp> ops = List.of(BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.MAXIMUM, BinaryOp.MINIMUM, BinaryOp.REMAINDER,
                BinaryOp.EQ, BinaryOp.NE, BinaryOp.LT, BinaryOp.LE, BinaryOp.GT, BinaryOp.GE,
                BinaryOp.LOGICAL_AND, BinaryOp.LOGICAL_OR, BinaryOp.LOGICAL_XOR);
        for (DType dt : List.of(DType.I32, DType.I64)) {
            for (BinaryOp op : ops) {
                try (NDArray a = on(d, dt, av, 6); NDArray b = on(d, dt, bv, 6); NDArray y = applyBinary(op, a, b)) {
                    double[] want = new double[6];
                    for (int i = 0; i < 6; i++) want[i] = Reference.binary(op, av[i], bv[i]);
                    assertArrayEquals(want, y.toDoubleArray(), op + " " + dt);
                }
            }
        }
        try (NDArray a = on(d, DType.I32, new double[] {Integer.MAX_VALUE, 2}, 2); NDArray one = on(d, DType.I32, new double[] {1, 10}, 2);
             NDArray sum = a.add(one); NDArray pow = one.pow(one); NDArray big = on(d, DType.I64, new double[] {3}, 1);
             NDArray e = on(d, DType.I64, new double[] {39}, 1); NDArray p = big.pow(e)) {
            assertEquals(Integer.MIN_VALUE, sum.toIntArray()[0], "I32 addition wraps like PyTorch");
            assertArrayEquals(new int[] {1, (int) 10_000_000_000L}, pow.toIntArray(), "10^10 wraps in I32");
            assertEquals(4052555153018976267L, p.toLongArray()[0], "3^39 exact in I64");
        }
        try (NDArray a = on(d, DType.I64, new double[] {7}, 1); NDArray zero = on(d, DType.I64, new double[] {0}, 1)) {
            ArithmeticException ex = assertThrows(ArithmeticException.class, () -> applyBinary(BinaryOp.REMAINDER, a, zero));
            assertTrue(ex.getMessage().contains("remainder"), ex.getMessage());
        }
        // Integer DIV (NDArray.div promotes integers to F32, so it is reached through the backend) and POW to a negative
        // exponent are refused by every backend, however few of the elements are bad.
        try (NDArray a = on(d, DType.I32, new double[] {7, 8, 9}, 3); NDArray b = on(d, DType.I32, new double[] {2, 0, 1}, 3);
             NDArray out = NDArray.empty(DType.I32, d, 3); NDArray base = on(d, DType.I64, new double[] {3, 3}, 2);
             NDArray e = on(d, DType.I64, new double[] {2, -2}, 2)) {
            ArithmeticException div = assertThrows(ArithmeticException.class, () -> a.backend().binary(BinaryOp.DIV, a, b, out));
            assertTrue(div.getMessage().startsWith("div: integer division by zero"), div.getMessage());
            IllegalArgumentException pow = assertThrows(IllegalArgumentException.class, () -> base.pow(e));
            assertTrue(pow.getMessage().startsWith("pow") && pow.getMessage().contains("-2"), pow.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("io.jtensor.TestDevices#all")
    void whereSelectsWithBroadcast(Device d) {
        try (NDArray cond = on(d, DType.BOOL, new double[] {1, 0, 1}, 3); NDArray a = on(d, DType.I32, new double[] {1, 2}, 2, 1);
             NDArray b = on(d, DType.F16, new double[] {-1.5}, 1); NDArray y = NDArray.where(cond, a, b)) {
            assertEquals(DType.F16, y.dtype());
            assertShape(y, 2, 3);
            assertArrayEquals(new double[] {1, -1.5, 1, 2, -1.5, 2}, y.toDoubleArray());
        }
    }
}
