package io.jtensor.backend.cpu;

import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels for contiguous F32 runs: the common elementwise ops and comparisons, the fused gradient helpers,
 * sum/max/min of rows and columns, softmax rows and columns and their gradient. Each op has its own loop so that
 * the JIT sees a constant vector operation (a variable operator would fall back to scalar code); scalar tails use
 * the vectors' semantics (MAX/MIN and so RELU/CLAMP propagate NaN, as {@link Math#max} does). Offsets are in
 * elements.
 */
final class VectorF32 {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorF32() {}

    /**
     * Unary ops with a vector loop (here and in {@link VectorF64}); the scalar-operand kinds (ADD_S ...) also serve
     * binary ops whose other operand is a broadcast scalar.
     */
    enum Kind { NEG, ABS, RELU, SQUARE, SQRT, RSQRT, RECIPROCAL, EXP, LOG, TANH, SIGMOID, LEAKY_RELU, CLAMP, GELU,
        ADD_S, MUL_S, RSUB_S, RDIV_S, DIV_S, MAX_S, MIN_S }

    /** The vector kind of a unary op, or null when it has none. */
    static Kind kindOf(UnaryOp op) {
        return switch (op) {
            case NEG -> Kind.NEG;
            case ABS -> Kind.ABS;
            case RELU -> Kind.RELU;
            case SQUARE -> Kind.SQUARE;
            case SQRT -> Kind.SQRT;
            case RSQRT -> Kind.RSQRT;
            case RECIPROCAL -> Kind.RECIPROCAL;
            case EXP -> Kind.EXP;
            case LOG -> Kind.LOG;
            case TANH -> Kind.TANH;
            case SIGMOID -> Kind.SIGMOID;
            case LEAKY_RELU -> Kind.LEAKY_RELU;
            case CLAMP -> Kind.CLAMP;
            case GELU -> Kind.GELU;
            case ADD_SCALAR -> Kind.ADD_S;
            case MUL_SCALAR -> Kind.MUL_S;
            case RSUB_SCALAR -> Kind.RSUB_S;
            case RDIV_SCALAR -> Kind.RDIV_S;
            default -> null;
        };
    }

    static boolean hasBinary(BinaryOp op) {
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, RELU_BACKWARD, SIGMOID_BACKWARD, TANH_BACKWARD -> true;
            default -> false;
        };
    }

    /** Ops with a vector form only when both operands advance (no scalar-operand kind). */
    private static boolean onlyElementwise(BinaryOp op) {
        return op == BinaryOp.RELU_BACKWARD || op == BinaryOp.SIGMOID_BACKWARD || op == BinaryOp.TANH_BACKWARD;
    }

    static boolean hasCompare(BinaryOp op) {
        return switch (op) {
            case EQ, NE, LT, LE, GT, GE -> true;
            default -> false;
        };
    }

    private static FloatVector ld(MemorySegment s, long elem) {
        return FloatVector.fromMemorySegment(S, s, elem * 4, ORDER);
    }

    // ------------------------------------------------------------------ unary

    /** o[oOff + i] = kind(x[xOff + i]) for contiguous runs; p1, p2 are the op's parameters. */
    static void unary(Kind k, MemorySegment x, long xo, MemorySegment o, long oo, long len, float p1, float p2) {
        long i = 0, bound = S.loopBound(len);
        switch (k) {
            case NEG -> { for (; i < bound; i += L) ld(x, xo + i).neg().intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case ABS -> { for (; i < bound; i += L) ld(x, xo + i).abs().intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case RELU -> { for (; i < bound; i += L) ld(x, xo + i).max(0f).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case SQUARE -> {
                for (; i < bound; i += L) {
                    FloatVector v = ld(x, xo + i);
                    v.mul(v).intoMemorySegment(o, (oo + i) * 4, ORDER);
                }
            }
            case SQRT -> { for (; i < bound; i += L) ld(x, xo + i).sqrt().intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case RSQRT -> {
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i < bound; i += L) one.div(ld(x, xo + i).sqrt()).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case RECIPROCAL -> {
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i < bound; i += L) one.div(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case EXP -> {
                for (; i < bound; i += L) VectorMath.exp(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case LOG -> {
                for (; i < bound; i += L) VectorMath.log(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case TANH -> {
                for (; i < bound; i += L) VectorMath.tanh(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case SIGMOID -> { for (; i < bound; i += L) VectorMath.sigmoid(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    FloatVector v = ld(x, xo + i);
                    VectorMask<Float> pos = v.compare(VectorOperators.GT, 0f);
                    v.mul(p1).blend(v, pos).intoMemorySegment(o, (oo + i) * 4, ORDER);
                }
            }
            case CLAMP -> {
                boolean hasLo = !Float.isNaN(p1), hasHi = !Float.isNaN(p2);
                float lo = hasLo ? p1 : Float.NEGATIVE_INFINITY, hi = hasHi ? p2 : Float.POSITIVE_INFINITY;
                for (; i < bound; i += L) ld(x, xo + i).max(lo).min(hi).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case GELU -> { for (; i < bound; i += L) gelu(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case ADD_S -> { for (; i < bound; i += L) ld(x, xo + i).add(p1).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case MUL_S -> { for (; i < bound; i += L) ld(x, xo + i).mul(p1).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case RSUB_S -> {
                FloatVector s = FloatVector.broadcast(S, p1);
                for (; i < bound; i += L) s.sub(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case RDIV_S -> {
                FloatVector s = FloatVector.broadcast(S, p1);
                for (; i < bound; i += L) s.div(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case DIV_S -> { for (; i < bound; i += L) ld(x, xo + i).div(p1).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case MAX_S -> { for (; i < bound; i += L) ld(x, xo + i).max(p1).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case MIN_S -> { for (; i < bound; i += L) ld(x, xo + i).min(p1).intoMemorySegment(o, (oo + i) * 4, ORDER); }
        }
        for (; i < len; i++) o.set(ElementIO.FLOAT, (oo + i) * 4, scalar(k, x.get(ElementIO.FLOAT, (xo + i) * 4), p1, p2));
    }

    private static final float SQRT_HALF = (float) Math.sqrt(0.5);

    /**
     * Exact GELU x * erfc(-x / sqrt 2) / 2, with erfc from the same Chebyshev fit as {@link Erf#erfcFast}
     * evaluated in float lanes: erfc(|u|) = t exp(-u^2 + P(t)), t = 1 / (1 + |u| / 2), and 2 - that for u < 0.
     */
    private static FloatVector bc(float c) { return FloatVector.broadcast(S, c); }

    private static FloatVector gelu(FloatVector x) {
        FloatVector z = x.abs().mul(SQRT_HALF);
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(0.5f, 1f));
        FloatVector p = t.fma(0.17087277f, -0.82215223f);
        p = p.fma(t, bc(1.48851587f));
        p = p.fma(t, bc(-1.13520398f));
        p = p.fma(t, bc(0.27886807f));
        p = p.fma(t, bc(-0.18628806f));
        p = p.fma(t, bc(0.09678418f));
        p = p.fma(t, bc(0.37409196f));
        p = p.fma(t, bc(1.00002368f));
        p = p.fma(t, bc(-1.26551223f));
        FloatVector r = t.mul(VectorMath.exp(z.neg().fma(z, p)));
        // u = -x / sqrt 2 is negative where x > 0: there erfc(u) = 2 - erfc(|u|)
        FloatVector erfc = FloatVector.broadcast(S, 2f).sub(r).blend(r, x.compare(VectorOperators.LE, 0f));
        return x.mul(0.5f).mul(erfc);
    }

    /** One element of a kind, with the vector loop's semantics. */
    static float scalar(Kind k, float v, float p1, float p2) {
        return switch (k) {
            case NEG -> -v;
            case ABS -> Math.abs(v);
            case RELU -> Math.max(v, 0f);
            case SQUARE -> v * v;
            case SQRT -> (float) Math.sqrt(v);
            case RSQRT -> 1f / (float) Math.sqrt(v);
            case RECIPROCAL -> 1f / v;
            case EXP -> VectorMath.exp(v);
            case LOG -> VectorMath.log(v);
            case TANH -> VectorMath.tanh(v);
            case SIGMOID -> VectorMath.sigmoid(v);
            case LEAKY_RELU -> v > 0 ? v : v * p1;
            case CLAMP -> Math.min(Math.max(v, Float.isNaN(p1) ? Float.NEGATIVE_INFINITY : p1), Float.isNaN(p2) ? Float.POSITIVE_INFINITY : p2);
            case GELU -> (float) (0.5 * v * Erf.erfcFast(-v * SQRT_HALF));
            case ADD_S -> v + p1;
            case MUL_S -> v * p1;
            case RSUB_S -> p1 - v;
            case RDIV_S -> p1 / v;
            case DIV_S -> v / p1;
            case MAX_S -> Math.max(v, p1);
            case MIN_S -> Math.min(v, p1);
        };
    }

    // ------------------------------------------------------------------ binary

    /**
     * A binary op over one run: operands advance by stride 1, or stay (stride 0, a broadcast scalar), and the
     * output is contiguous. Returns false for other stride patterns, which the caller handles generically.
     */
    static boolean binary(BinaryOp op, MemorySegment a, long ao, long as, MemorySegment b, long bo, long bs,
                          MemorySegment o, long oo, long os, long len) {
        if (os != 1 && len > 1) return false;
        if (as == 1 && bs == 1 || len == 1) {
            binary11(op, a, ao, b, bo, o, oo, len);
            return true;
        }
        if (onlyElementwise(op)) return false;
        if (as == 1 && bs == 0) {
            float s = b.get(ElementIO.FLOAT, bo * 4);
            Kind k = switch (op) {
                case ADD -> Kind.ADD_S;
                case SUB -> { s = -s; yield Kind.ADD_S; }
                case MUL -> Kind.MUL_S;
                case DIV -> Kind.DIV_S;
                case MAXIMUM -> Kind.MAX_S;
                default -> Kind.MIN_S;
            };
            unary(k, a, ao, o, oo, len, s, 0);
            return true;
        }
        if (as == 0 && bs == 1) {
            float s = a.get(ElementIO.FLOAT, ao * 4);
            Kind k = switch (op) {
                case ADD -> Kind.ADD_S;
                case SUB -> Kind.RSUB_S;
                case MUL -> Kind.MUL_S;
                case DIV -> Kind.RDIV_S;
                case MAXIMUM -> Kind.MAX_S;
                default -> Kind.MIN_S;
            };
            unary(k, b, bo, o, oo, len, s, 0);
            return true;
        }
        return false;
    }

    private static void binary11(BinaryOp op, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment o, long oo, long len) {
        long i = 0, bound = S.loopBound(len);
        switch (op) {
            case ADD -> { for (; i < bound; i += L) ld(a, ao + i).add(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case SUB -> { for (; i < bound; i += L) ld(a, ao + i).sub(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case MUL -> { for (; i < bound; i += L) ld(a, ao + i).mul(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case DIV -> { for (; i < bound; i += L) ld(a, ao + i).div(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case MAXIMUM -> { for (; i < bound; i += L) ld(a, ao + i).max(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case MINIMUM -> { for (; i < bound; i += L) ld(a, ao + i).min(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 4, ORDER); }
            case RELU_BACKWARD -> {
                FloatVector zero = FloatVector.zero(S);
                for (; i < bound; i += L) zero.blend(ld(a, ao + i), ld(b, bo + i).compare(VectorOperators.GT, 0f)).intoMemorySegment(o, (oo + i) * 4, ORDER);
            }
            case SIGMOID_BACKWARD -> {
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i < bound; i += L) {
                    FloatVector y = ld(b, bo + i);
                    ld(a, ao + i).mul(one.sub(y)).mul(y).intoMemorySegment(o, (oo + i) * 4, ORDER);
                }
            }
            case TANH_BACKWARD -> {
                FloatVector one = FloatVector.broadcast(S, 1f);
                for (; i < bound; i += L) {
                    FloatVector y = ld(b, bo + i);
                    // (1 - y)(1 + y) rather than 1 - y^2: exact 1 - y keeps the relative accuracy as |y| nears 1
                    ld(a, ao + i).mul(one.sub(y)).mul(one.add(y)).intoMemorySegment(o, (oo + i) * 4, ORDER);
                }
            }
            default -> throw new IllegalArgumentException(op + " has no F32 vector form");
        }
        for (; i < len; i++) {
            float x = a.get(ElementIO.FLOAT, (ao + i) * 4), y = b.get(ElementIO.FLOAT, (bo + i) * 4);
            float r = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAXIMUM -> Math.max(x, y);
                case RELU_BACKWARD -> y > 0 ? x : 0f;
                case SIGMOID_BACKWARD -> x * (1f - y) * y;
                case TANH_BACKWARD -> x * (1f - y) * (1f + y);
                default -> Math.min(x, y);
            };
            o.set(ElementIO.FLOAT, (oo + i) * 4, r);
        }
    }

    // ------------------------------------------------------------------ comparisons

    private static BinaryOp flip(BinaryOp op) {
        return switch (op) {
            case LT -> BinaryOp.GT;
            case LE -> BinaryOp.GE;
            case GT -> BinaryOp.LT;
            case GE -> BinaryOp.LE;
            default -> op;
        };
    }

    private static boolean compareScalar(BinaryOp op, float x, float y) {
        return switch (op) {
            case EQ -> x == y;
            case NE -> x != y;
            case LT -> x < y;
            case LE -> x <= y;
            case GT -> x > y;
            default -> x >= y;
        };
    }

    /**
     * Writes a mask as BOOL bytes. The mask's bits (one move out of the mask register) are spread eight at a time
     * into the bytes of a long: replicate the byte, keep bit i in byte i, and turn each nonzero byte into 1.
     */
    private static void storeBool(VectorMask<Float> m, MemorySegment o, long at) {
        long bits = m.toLong();
        for (int k = 0; k < L; k += 8, bits >>>= 8) o.set(ElementIO.LONG, at + k, spreadBits(bits & 0xFF));
    }

    static long spreadBits(long b) {
        long lanes = (b * 0x0101010101010101L) & 0x8040201008040201L;
        return ((lanes + 0x7F7F7F7F7F7F7F7FL) >>> 7) & 0x0101010101010101L;
    }

    /**
     * A comparison over one run into BOOL bytes (1 or 0), with operands advancing by 1 or staying (0) and a
     * contiguous output. Returns false for other stride patterns.
     */
    static boolean compare(BinaryOp op, MemorySegment a, long ao, long as, MemorySegment b, long bo, long bs,
                           MemorySegment o, long oo, long os, long len) {
        if (os != 1 && len > 1) return false;
        if ((as != 0 && as != 1) || (bs != 0 && bs != 1)) return false;
        if (as == 0 && bs == 1) { // x op y == y flip(op) x: one loop shape serves both broadcast sides
            return compare(flip(op), b, bo, bs, a, ao, as, o, oo, os, len);
        }
        // The comparison must be a constant in each loop for the JIT to emit a vector compare.
        long i = 0, bound = len <= 1 ? 0 : S.loopBound(len);
        boolean both = bs == 1;
        FloatVector y0 = FloatVector.broadcast(S, b.get(ElementIO.FLOAT, bo * 4));
        switch (op) {
            case EQ -> { for (; i < bound; i += L) storeBool(ld(a, ao + i).compare(VectorOperators.EQ, both ? ld(b, bo + i) : y0), o, oo + i); }
            case NE -> { for (; i < bound; i += L) storeBool(ld(a, ao + i).compare(VectorOperators.NE, both ? ld(b, bo + i) : y0), o, oo + i); }
            case LT -> { for (; i < bound; i += L) storeBool(ld(a, ao + i).compare(VectorOperators.LT, both ? ld(b, bo + i) : y0), o, oo + i); }
            case LE -> { for (; i < bound; i += L) storeBool(ld(a, ao + i).compare(VectorOperators.LE, both ? ld(b, bo + i) : y0), o, oo + i); }
            case GT -> { for (; i < bound; i += L) storeBool(ld(a, ao + i).compare(VectorOperators.GT, both ? ld(b, bo + i) : y0), o, oo + i); }
            default -> { for (; i < bound; i += L) storeBool(ld(a, ao + i).compare(VectorOperators.GE, both ? ld(b, bo + i) : y0), o, oo + i); }
        }
        for (; i < len; i++) {
            float x = a.get(ElementIO.FLOAT, (ao + i * as) * 4), y = b.get(ElementIO.FLOAT, (bo + i * bs) * 4);
            o.set(ElementIO.BYTE, oo + i, (byte) (compareScalar(op, x, y) ? 1 : 0));
        }
        return true;
    }

    // ------------------------------------------------------------------ reductions

    /** Elements are summed in float vectors over blocks this long, and the block sums in double. */
    private static final int SUM_BLOCK = 1024;

    static double sum(MemorySegment x, long xo, long len) {
        double total = 0;
        long i = 0;
        while (i < len) {
            long end = Math.min(len, i + SUM_BLOCK);
            long bound = i + S.loopBound(end - i);
            FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S), acc2 = FloatVector.zero(S), acc3 = FloatVector.zero(S);
            for (; i + 3L * L < bound; i += 4L * L) {
                acc0 = acc0.add(ld(x, xo + i));
                acc1 = acc1.add(ld(x, xo + i + L));
                acc2 = acc2.add(ld(x, xo + i + 2L * L));
                acc3 = acc3.add(ld(x, xo + i + 3L * L));
            }
            for (; i < bound; i += L) acc0 = acc0.add(ld(x, xo + i));
            double block = sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
            for (; i < end; i++) block += x.get(ElementIO.FLOAT, (xo + i) * 4);
            total += block;
        }
        return total;
    }

    /** Max (or min) of a run, NaN if any element is NaN; len > 0. */
    static float max(MemorySegment x, long xo, long len, boolean isMin) {
        long i = 0, bound = S.loopBound(len);
        float r;
        if (bound > 0) {
            // Four independent accumulators: NaN-propagating max has a long latency, so one chain would stall.
            FloatVector a0 = ld(x, xo), a1 = a0, a2 = a0, a3 = a0;
            i = L;
            if (isMin) {
                for (; i + 3L * L < bound; i += 4L * L) {
                    a0 = a0.min(ld(x, xo + i));
                    a1 = a1.min(ld(x, xo + i + L));
                    a2 = a2.min(ld(x, xo + i + 2L * L));
                    a3 = a3.min(ld(x, xo + i + 3L * L));
                }
                for (; i < bound; i += L) a0 = a0.min(ld(x, xo + i));
                r = a0.min(a1).min(a2.min(a3)).reduceLanes(VectorOperators.MIN);
            } else {
                for (; i + 3L * L < bound; i += 4L * L) {
                    a0 = a0.max(ld(x, xo + i));
                    a1 = a1.max(ld(x, xo + i + L));
                    a2 = a2.max(ld(x, xo + i + 2L * L));
                    a3 = a3.max(ld(x, xo + i + 3L * L));
                }
                for (; i < bound; i += L) a0 = a0.max(ld(x, xo + i));
                r = a0.max(a1).max(a2.max(a3)).reduceLanes(VectorOperators.MAX);
            }
        } else {
            r = x.get(ElementIO.FLOAT, xo * 4);
        }
        for (; i < len; i++) {
            float v = x.get(ElementIO.FLOAT, (xo + i) * 4);
            r = isMin ? Math.min(r, v) : Math.max(r, v);
        }
        return r;
    }

    /** Rows folded in float before their block total joins the double accumulator. */
    private static final int COLUMN_BLOCK = 64;

    /**
     * Folds, for each of m adjacent columns, the elements at xBase + rowOffsets[r] + j over all r into acc[j]:
     * kind 0 sums (in float over blocks of rows, then in double), 1 takes the max, 2 the min (NaN propagating).
     */
    static void columns(int kind, MemorySegment x, long xBase, long[] rowOffsets, int m, double[] acc) {
        float[] f = new float[m];
        long bound = S.loopBound(m);
        if (kind == 0) {
            java.util.Arrays.fill(acc, 0, m, 0);
            for (int r0 = 0; r0 < rowOffsets.length; r0 += COLUMN_BLOCK) {
                int r1 = Math.min(rowOffsets.length, r0 + COLUMN_BLOCK);
                java.util.Arrays.fill(f, 0f);
                for (int r = r0; r < r1; r++) {
                    long at = xBase + rowOffsets[r];
                    int j = 0;
                    for (; j < bound; j += L) FloatVector.fromArray(S, f, j).add(ld(x, at + j)).intoArray(f, j);
                    for (; j < m; j++) f[j] += x.get(ElementIO.FLOAT, (at + j) * 4);
                }
                for (int j = 0; j < m; j++) acc[j] += f[j];
            }
            return;
        }
        boolean isMin = kind == 2;
        MemorySegment.copy(x, ElementIO.FLOAT, (xBase + rowOffsets[0]) * 4, f, 0, m);
        for (int r = 1; r < rowOffsets.length; r++) {
            long at = xBase + rowOffsets[r];
            int j = 0;
            if (isMin) for (; j < bound; j += L) FloatVector.fromArray(S, f, j).min(ld(x, at + j)).intoArray(f, j);
            else for (; j < bound; j += L) FloatVector.fromArray(S, f, j).max(ld(x, at + j)).intoArray(f, j);
            for (; j < m; j++) {
                float v = x.get(ElementIO.FLOAT, (at + j) * 4);
                f[j] = isMin ? Math.min(f[j], v) : Math.max(f[j], v);
            }
        }
        for (int j = 0; j < m; j++) acc[j] = f[j];
    }

    // ------------------------------------------------------------------ softmax

    /** Softmax or log-softmax of one contiguous row into a contiguous row. */
    static void softmaxRow(MemorySegment x, long xo, MemorySegment o, long oo, long len, boolean log) {
        float max = max(x, xo, len, false);
        long bound = S.loopBound(len);
        long i = 0;
        double sum;
        if (!log) {
            // Write e^(x - max) while summing, then scale in place.
            FloatVector acc = FloatVector.zero(S);
            sum = 0;
            for (; i < bound; i += L) {
                FloatVector e = VectorMath.exp(ld(x, xo + i).sub(max));
                e.intoMemorySegment(o, (oo + i) * 4, ORDER);
                acc = acc.add(e);
            }
            sum = sumLanes(acc);
            for (; i < len; i++) {
                float e = VectorMath.exp(x.get(ElementIO.FLOAT, (xo + i) * 4) - max);
                o.set(ElementIO.FLOAT, (oo + i) * 4, e);
                sum += e;
            }
            unary(Kind.MUL_S, o, oo, o, oo, len, (float) (1.0 / sum), 0);
        } else {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += L) acc = acc.add(VectorMath.exp(ld(x, xo + i).sub(max)));
            sum = sumLanes(acc);
            for (; i < len; i++) sum += VectorMath.exp(x.get(ElementIO.FLOAT, (xo + i) * 4) - max);
            // (x - max) - log(sum) in two steps: folding both into one float shift would round it at max's scale
            float logSum = (float) Math.log(sum);
            for (i = 0; i < bound; i += L) ld(x, xo + i).sub(max).sub(logSum).intoMemorySegment(o, (oo + i) * 4, ORDER);
            for (; i < len; i++) o.set(ElementIO.FLOAT, (oo + i) * 4, (x.get(ElementIO.FLOAT, (xo + i) * 4) - max) - logSum);
        }
    }

    /**
     * Gradient of one contiguous softmax row: gx = y * (gy - sum(gy * y)); of a log-softmax row:
     * gx = gy - exp(y) * sum(gy). The sum is taken in float lanes and added up in double.
     */
    static void softmaxBackwardRow(MemorySegment y, long yo, MemorySegment gy, long go, MemorySegment gx, long xo, long len, boolean log) {
        long i = 0, bound = S.loopBound(len);
        FloatVector acc = FloatVector.zero(S);
        if (log) for (; i < bound; i += L) acc = acc.add(ld(gy, go + i));
        else for (; i < bound; i += L) acc = ld(gy, go + i).fma(ld(y, yo + i), acc);
        double sum = sumLanes(acc);
        for (; i < len; i++) {
            float g = gy.get(ElementIO.FLOAT, (go + i) * 4);
            sum += log ? g : g * y.get(ElementIO.FLOAT, (yo + i) * 4);
        }
        float s = (float) sum;
        for (i = 0; i < bound; i += L) {
            FloatVector yv = ld(y, yo + i), g = ld(gy, go + i);
            FloatVector r = log ? g.sub(VectorMath.exp(yv).mul(s)) : yv.mul(g.sub(s));
            r.intoMemorySegment(gx, (xo + i) * 4, ORDER);
        }
        for (; i < len; i++) {
            float yv = y.get(ElementIO.FLOAT, (yo + i) * 4), g = gy.get(ElementIO.FLOAT, (go + i) * 4);
            gx.set(ElementIO.FLOAT, (xo + i) * 4, log ? g - VectorMath.exp(yv) * s : yv * (g - s));
        }
    }

    /**
     * Softmax of m adjacent rows at once, for a dim whose elements are xs apart while neighbouring rows are
     * contiguous (channels of NCHW): every step along the dim loads m contiguous floats.
     */
    static void softmaxColumns(MemorySegment x, long xo, long xs, MemorySegment o, long oo, long os, long d, int m, boolean log) {
        float[] max = new float[m], sum = new float[m];
        long bound = S.loopBound(m);
        MemorySegment.copy(x, ElementIO.FLOAT, xo * 4, max, 0, m);
        for (long k = 1; k < d; k++) {
            long at = xo + k * xs;
            int j = 0;
            for (; j < bound; j += L) FloatVector.fromArray(S, max, j).max(ld(x, at + j)).intoArray(max, j);
            for (; j < m; j++) max[j] = Math.max(max[j], x.get(ElementIO.FLOAT, (at + j) * 4));
        }
        for (long k = 0; k < d; k++) {
            long at = xo + k * xs;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector e = VectorMath.exp(ld(x, at + j).sub(FloatVector.fromArray(S, max, j)));
                FloatVector.fromArray(S, sum, j).add(e).intoArray(sum, j);
            }
            for (; j < m; j++) sum[j] += VectorMath.exp(x.get(ElementIO.FLOAT, (at + j) * 4) - max[j]);
        }
        // log: x - max - log(sum); softmax: exp(x - max) * (1 / sum)
        for (int j = 0; j < m; j++) sum[j] = log ? (float) Math.log(sum[j]) : 1f / sum[j];
        for (long k = 0; k < d; k++) {
            long at = xo + k * xs, to = oo + k * os;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector v = ld(x, at + j).sub(FloatVector.fromArray(S, max, j)), s = FloatVector.fromArray(S, sum, j);
                (log ? v.sub(s) : VectorMath.exp(v).mul(s)).intoMemorySegment(o, (to + j) * 4, ORDER);
            }
            for (; j < m; j++) {
                float v = x.get(ElementIO.FLOAT, (at + j) * 4) - max[j];
                o.set(ElementIO.FLOAT, (to + j) * 4, log ? v - sum[j] : VectorMath.exp(v) * sum[j]);
            }
        }
    }

    /**
     * The sum of v's lanes, added in lane order. reduceLanes(ADD) adds in one order in the Java fallback and in
     * another once C2 intrinsifies it, so results depended on when the JIT compiled a method and training runs
     * with one seed differed; a fixed order keeps them reproducible.
     */
    static float sumLanes(FloatVector v) {
        float sum = 0;
        for (int i = 0; i < v.length(); i++) sum += v.lane(i);
        return sum;
    }

}
