package io.jtensor.backend.cpu;

import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD kernels for contiguous F64 runs, the double-lane twins of {@link VectorF32}'s (same kinds, same
 * semantics, same structure), except GELU, which F64 computes with the precise erfc, and sums, which need no
 * blocking since they accumulate in double already.
 */
final class VectorF64 {
    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorF64() {}

    /** The vector kind of a unary op on F64, or null when it has none. */
    static VectorF32.Kind kindOf(UnaryOp op) {
        VectorF32.Kind k = VectorF32.kindOf(op);
        return k == VectorF32.Kind.GELU ? null : k;
    }

    static boolean hasBinary(BinaryOp op) {
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM -> true;
            default -> false;
        };
    }

    private static DoubleVector ld(MemorySegment s, long elem) {
        return DoubleVector.fromMemorySegment(S, s, elem * 8, ORDER);
    }

    // ------------------------------------------------------------------ unary

    /** o[oOff + i] = kind(x[xOff + i]) for contiguous runs; p1, p2 are the op's parameters. */
    static void unary(VectorF32.Kind k, MemorySegment x, long xo, MemorySegment o, long oo, long len, double p1, double p2) {
        long i = 0, bound = S.loopBound(len);
        switch (k) {
            case NEG -> { for (; i < bound; i += L) ld(x, xo + i).neg().intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case ABS -> { for (; i < bound; i += L) ld(x, xo + i).abs().intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case RELU -> { for (; i < bound; i += L) ld(x, xo + i).max(0.0).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case SQUARE -> {
                for (; i < bound; i += L) {
                    DoubleVector v = ld(x, xo + i);
                    v.mul(v).intoMemorySegment(o, (oo + i) * 8, ORDER);
                }
            }
            case SQRT -> { for (; i < bound; i += L) ld(x, xo + i).sqrt().intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case RSQRT -> {
                DoubleVector one = DoubleVector.broadcast(S, 1.0);
                for (; i < bound; i += L) one.div(ld(x, xo + i).sqrt()).intoMemorySegment(o, (oo + i) * 8, ORDER);
            }
            case RECIPROCAL -> {
                DoubleVector one = DoubleVector.broadcast(S, 1.0);
                for (; i < bound; i += L) one.div(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER);
            }
            case EXP, LOG, TANH, SIGMOID -> {
                // element by element below: a vector EXP, LOG or TANH gives other bits once C2 compiles it (VectorMath)
            }
            case LEAKY_RELU -> {
                for (; i < bound; i += L) {
                    DoubleVector v = ld(x, xo + i);
                    VectorMask<Double> pos = v.compare(VectorOperators.GT, 0.0);
                    v.mul(p1).blend(v, pos).intoMemorySegment(o, (oo + i) * 8, ORDER);
                }
            }
            case CLAMP -> {
                boolean hasLo = !Double.isNaN(p1), hasHi = !Double.isNaN(p2);
                double lo = hasLo ? p1 : Double.NEGATIVE_INFINITY, hi = hasHi ? p2 : Double.POSITIVE_INFINITY;
                for (; i < bound; i += L) ld(x, xo + i).max(lo).min(hi).intoMemorySegment(o, (oo + i) * 8, ORDER);
            }
            case ADD_S -> { for (; i < bound; i += L) ld(x, xo + i).add(p1).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case MUL_S -> { for (; i < bound; i += L) ld(x, xo + i).mul(p1).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case RSUB_S -> {
                DoubleVector s = DoubleVector.broadcast(S, p1);
                for (; i < bound; i += L) s.sub(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER);
            }
            case RDIV_S -> {
                DoubleVector s = DoubleVector.broadcast(S, p1);
                for (; i < bound; i += L) s.div(ld(x, xo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER);
            }
            case DIV_S -> { for (; i < bound; i += L) ld(x, xo + i).div(p1).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case MAX_S -> { for (; i < bound; i += L) ld(x, xo + i).max(p1).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case MIN_S -> { for (; i < bound; i += L) ld(x, xo + i).min(p1).intoMemorySegment(o, (oo + i) * 8, ORDER); }
        }
        for (; i < len; i++) o.set(ElementIO.DOUBLE, (oo + i) * 8, scalar(k, x.get(ElementIO.DOUBLE, (xo + i) * 8), p1, p2));
    }

    /** One element of a kind, with the vector loop's semantics. */
    static double scalar(VectorF32.Kind k, double v, double p1, double p2) {
        return switch (k) {
            case NEG -> -v;
            case ABS -> Math.abs(v);
            case RELU -> Math.max(v, 0.0);
            case SQUARE -> v * v;
            case SQRT -> Math.sqrt(v);
            case RSQRT -> 1.0 / Math.sqrt(v);
            case RECIPROCAL -> 1.0 / v;
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case TANH -> StrictMath.tanh(v);  // Math.tanh may be compiled to an intrinsic that the interpreter lacks
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-v));
            case LEAKY_RELU -> v > 0 ? v : v * p1;
            case CLAMP -> Math.min(Math.max(v, Double.isNaN(p1) ? Double.NEGATIVE_INFINITY : p1), Double.isNaN(p2) ? Double.POSITIVE_INFINITY : p2);
            case GELU -> throw new IllegalArgumentException("GELU has no F64 vector form");
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
        if (as == 1 && bs == 0) {
            double s = b.get(ElementIO.DOUBLE, bo * 8);
            VectorF32.Kind k = switch (op) {
                case ADD -> VectorF32.Kind.ADD_S;
                case SUB -> { s = -s; yield VectorF32.Kind.ADD_S; }
                case MUL -> VectorF32.Kind.MUL_S;
                case DIV -> VectorF32.Kind.DIV_S;
                case MAXIMUM -> VectorF32.Kind.MAX_S;
                default -> VectorF32.Kind.MIN_S;
            };
            unary(k, a, ao, o, oo, len, s, 0);
            return true;
        }
        if (as == 0 && bs == 1) {
            double s = a.get(ElementIO.DOUBLE, ao * 8);
            VectorF32.Kind k = switch (op) {
                case ADD -> VectorF32.Kind.ADD_S;
                case SUB -> VectorF32.Kind.RSUB_S;
                case MUL -> VectorF32.Kind.MUL_S;
                case DIV -> VectorF32.Kind.RDIV_S;
                case MAXIMUM -> VectorF32.Kind.MAX_S;
                default -> VectorF32.Kind.MIN_S;
            };
            unary(k, b, bo, o, oo, len, s, 0);
            return true;
        }
        return false;
    }

    private static void binary11(BinaryOp op, MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment o, long oo, long len) {
        long i = 0, bound = S.loopBound(len);
        switch (op) {
            case ADD -> { for (; i < bound; i += L) ld(a, ao + i).add(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case SUB -> { for (; i < bound; i += L) ld(a, ao + i).sub(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case MUL -> { for (; i < bound; i += L) ld(a, ao + i).mul(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case DIV -> { for (; i < bound; i += L) ld(a, ao + i).div(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case MAXIMUM -> { for (; i < bound; i += L) ld(a, ao + i).max(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            case MINIMUM -> { for (; i < bound; i += L) ld(a, ao + i).min(ld(b, bo + i)).intoMemorySegment(o, (oo + i) * 8, ORDER); }
            default -> throw new IllegalArgumentException(op + " has no F32 vector form");
        }
        for (; i < len; i++) {
            double x = a.get(ElementIO.DOUBLE, (ao + i) * 8), y = b.get(ElementIO.DOUBLE, (bo + i) * 8);
            double r = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAXIMUM -> Math.max(x, y);
                default -> Math.min(x, y);
            };
            o.set(ElementIO.DOUBLE, (oo + i) * 8, r);
        }
    }

    // ------------------------------------------------------------------ reductions

    static double sum(MemorySegment x, long xo, long len) {
        long i = 0, bound = S.loopBound(len);
        DoubleVector acc0 = DoubleVector.zero(S), acc1 = DoubleVector.zero(S), acc2 = DoubleVector.zero(S), acc3 = DoubleVector.zero(S);
        for (; i + 3L * L < bound; i += 4L * L) {
            acc0 = acc0.add(ld(x, xo + i));
            acc1 = acc1.add(ld(x, xo + i + L));
            acc2 = acc2.add(ld(x, xo + i + 2L * L));
            acc3 = acc3.add(ld(x, xo + i + 3L * L));
        }
        for (; i < bound; i += L) acc0 = acc0.add(ld(x, xo + i));
        double total = sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
        for (; i < len; i++) total += x.get(ElementIO.DOUBLE, (xo + i) * 8);
        return total;
    }

    /** Max (or min) of a run, NaN if any element is NaN; len > 0. */
    static double max(MemorySegment x, long xo, long len, boolean isMin) {
        long i = 0, bound = S.loopBound(len);
        double r;
        if (bound > 0) {
            // Four independent accumulators: NaN-propagating max has a long latency, so one chain would stall.
            DoubleVector a0 = ld(x, xo), a1 = a0, a2 = a0, a3 = a0;
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
            r = x.get(ElementIO.DOUBLE, xo * 8);
        }
        for (; i < len; i++) {
            double v = x.get(ElementIO.DOUBLE, (xo + i) * 8);
            r = isMin ? Math.min(r, v) : Math.max(r, v);
        }
        return r;
    }

    // ------------------------------------------------------------------ softmax

    /** Softmax or log-softmax of one contiguous row into a contiguous row. */
    static void softmaxRow(MemorySegment x, long xo, MemorySegment o, long oo, long len, boolean log) {
        double max = max(x, xo, len, false);
        long bound = S.loopBound(len);
        long i = 0;
        double sum;
        // The exponentials element by element (Math.exp gives the same bits in every JIT tier; a vector EXP does not).
        sum = 0;
        if (!log) {
            // Write e^(x - max) while summing, then scale in place.
            for (; i < len; i++) {
                double e = Math.exp(x.get(ElementIO.DOUBLE, (xo + i) * 8) - max);
                o.set(ElementIO.DOUBLE, (oo + i) * 8, e);
                sum += e;
            }
            unary(VectorF32.Kind.MUL_S, o, oo, o, oo, len, 1.0 / sum, 0);
        } else {
            for (; i < len; i++) sum += Math.exp(x.get(ElementIO.DOUBLE, (xo + i) * 8) - max);
            // (x - max) - log(sum) in two steps: folding both into one double shift would round it at max's scale
            double logSum = Math.log(sum);
            for (i = 0; i < bound; i += L) ld(x, xo + i).sub(max).sub(logSum).intoMemorySegment(o, (oo + i) * 8, ORDER);
            for (; i < len; i++) o.set(ElementIO.DOUBLE, (oo + i) * 8, (x.get(ElementIO.DOUBLE, (xo + i) * 8) - max) - logSum);
        }
    }

    /**
     * The sum of v's lanes, added in lane order. reduceLanes(ADD) adds in one order in the Java fallback and in
     * another once C2 intrinsifies it, so results depended on when the JIT compiled a method and training runs
     * with one seed differed; a fixed order keeps them reproducible.
     */
    static double sumLanes(DoubleVector v) {
        double sum = 0;
        for (int i = 0; i < v.length(); i++) sum += v.lane(i);
        return sum;
    }

}
