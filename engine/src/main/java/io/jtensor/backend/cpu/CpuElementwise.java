package io.jtensor.backend.cpu;

import io.jtensor.DType;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.UnaryOp;

/**
 * Unary, binary and where over strided, broadcast operands of any dtype. Each run of the loop nest is computed in
 * chunks: loaded into double (or long) buffers, transformed by {@link UnaryMath}/{@link BinaryMath}, stored with a
 * cast. Runs of the common ops on F32 or F64 whose operands are contiguous (or a broadcast scalar) go straight to
 * the SIMD loops of {@link VectorF32}/{@link VectorF64}, as do F32 comparisons into BOOL.
 */
final class CpuElementwise {
    /** Elements per buffered chunk: three double buffers stay within L1. */
    static final int CHUNK = 512;

    private CpuElementwise() {}

    /** Relative cost of one element, so that expensive ops go parallel at smaller sizes. */
    private static long cost(UnaryOp op) {
        return switch (op) {
            case EXP, LOG, SQRT, RSQRT, SIN, COS, TANH, SIGMOID, ELU, GELU, POW, LOG1P, EXPM1 -> 8;
            default -> 1;
        };
    }

    static void unary(UnaryOp op, Operand x, Operand out, double p1, double p2) {
        out.requireShape(op.name().toLowerCase(), x);
        LoopNest nest = LoopNest.of(out.shape(), out.strides(), x.strides());
        if (nest.numel == 0) return;
        boolean f64 = x.dtype() == DType.F64 && out.dtype() == DType.F64;
        VectorF32.Kind kind = x.dtype() == DType.F32 && out.dtype() == DType.F32 ? VectorF32.kindOf(op)
                : f64 ? VectorF64.kindOf(op) : null;
        boolean longDomain = x.dtype().isIntegral() && UnaryMath.hasLongForm(op);
        boolean precise = x.dtype() == DType.F64 || out.dtype() == DType.F64;
        long os = nest.innerStride(0), xs = nest.innerStride(1);
        long[] base = {out.offset(), x.offset()};
        Parallel.forRange(nest.numel, cost(op), (start, end) -> {
            int cap = (int) Math.min(CHUNK, end - start);
            double[] dbuf = longDomain ? null : new double[cap];
            long[] lbuf = longDomain ? new long[cap] : null;
            nest.forRuns(start, end, base, (offs, len) -> {
                if (kind != null && os == 1 && xs == 1) {
                    if (f64) VectorF64.unary(kind, x.seg(), offs[1], out.seg(), offs[0], len, p1, p2);
                    else VectorF32.unary(kind, x.seg(), offs[1], out.seg(), offs[0], len, (float) p1, (float) p2);
                    return;
                }
                for (long c = 0; c < len; c += CHUNK) {
                    int m = (int) Math.min(CHUNK, len - c);
                    if (longDomain) {
                        ElementIO.load(x.dtype(), x.seg(), offs[1] + c * xs, xs, lbuf, m);
                        UnaryMath.apply(op, lbuf, lbuf, m, p1, p2);
                        ElementIO.store(out.dtype(), out.seg(), offs[0] + c * os, os, lbuf, m);
                    } else {
                        ElementIO.load(x.dtype(), x.seg(), offs[1] + c * xs, xs, dbuf, m);
                        UnaryMath.apply(op, dbuf, dbuf, m, p1, p2, precise);
                        ElementIO.store(out.dtype(), out.seg(), offs[0] + c * os, os, dbuf, m);
                    }
                }
            });
        });
    }

    static void binary(BinaryOp op, Operand a, Operand b, Operand out) {
        String name = op.name().toLowerCase();
        out.requireShape(name, a);
        out.requireShape(name, b);
        LoopNest nest = LoopNest.of(out.shape(), out.strides(), a.strides(), b.strides());
        if (nest.numel == 0) return;
        boolean vector = a.dtype() == DType.F32 && b.dtype() == DType.F32 && out.dtype() == DType.F32 && VectorF32.hasBinary(op);
        boolean vector64 = a.dtype() == DType.F64 && b.dtype() == DType.F64 && out.dtype() == DType.F64 && VectorF64.hasBinary(op);
        boolean compare32 = a.dtype() == DType.F32 && b.dtype() == DType.F32 && out.dtype() == DType.BOOL && VectorF32.hasCompare(op);
        boolean longDomain = a.dtype().isIntegral() && b.dtype().isIntegral();
        boolean precise = a.dtype() == DType.F64 || out.dtype() == DType.F64;
        long os = nest.innerStride(0), as = nest.innerStride(1), bs = nest.innerStride(2);
        long[] base = {out.offset(), a.offset(), b.offset()};
        long cost = op == BinaryOp.POW || op == BinaryOp.ATAN2 || op == BinaryOp.GELU_BACKWARD ? 8 : 1;
        Parallel.forRange(nest.numel, cost, (start, end) -> {
            int cap = (int) Math.min(CHUNK, end - start);
            double[] da = longDomain ? null : new double[cap], db = longDomain ? null : new double[cap];
            long[] la = longDomain ? new long[cap] : null, lb = longDomain ? new long[cap] : null;
            nest.forRuns(start, end, base, (offs, len) -> {
                if (vector && VectorF32.binary(op, a.seg(), offs[1], as, b.seg(), offs[2], bs, out.seg(), offs[0], os, len)) return;
                if (vector64 && VectorF64.binary(op, a.seg(), offs[1], as, b.seg(), offs[2], bs, out.seg(), offs[0], os, len)) return;
                if (compare32 && VectorF32.compare(op, a.seg(), offs[1], as, b.seg(), offs[2], bs, out.seg(), offs[0], os, len)) return;
                for (long c = 0; c < len; c += CHUNK) {
                    int m = (int) Math.min(CHUNK, len - c);
                    if (longDomain) {
                        ElementIO.load(a.dtype(), a.seg(), offs[1] + c * as, as, la, m);
                        ElementIO.load(b.dtype(), b.seg(), offs[2] + c * bs, bs, lb, m);
                        BinaryMath.apply(op, la, lb, la, m);
                        ElementIO.store(out.dtype(), out.seg(), offs[0] + c * os, os, la, m);
                    } else {
                        ElementIO.load(a.dtype(), a.seg(), offs[1] + c * as, as, da, m);
                        ElementIO.load(b.dtype(), b.seg(), offs[2] + c * bs, bs, db, m);
                        BinaryMath.apply(op, da, db, da, m, precise);
                        ElementIO.store(out.dtype(), out.seg(), offs[0] + c * os, os, da, m);
                    }
                }
            });
        });
    }

    /** out = cond ? a : b, moving raw element bits (a, b and out share a dtype). */
    static void where(Operand cond, Operand a, Operand b, Operand out) {
        out.requireShape("where", cond);
        out.requireShape("where", a);
        out.requireShape("where", b);
        if (a.dtype() != out.dtype() || b.dtype() != out.dtype()) {
            throw new IllegalArgumentException("where: expected a, b and out of one dtype, got " + a.dtype() + ", " + b.dtype() + ", " + out.dtype());
        }
        LoopNest nest = LoopNest.of(out.shape(), out.strides(), cond.strides(), a.strides(), b.strides());
        if (nest.numel == 0) return;
        int size = out.dtype().byteSize();
        DType condType = cond.dtype();
        long os = nest.innerStride(0), cs = nest.innerStride(1), as = nest.innerStride(2), bs = nest.innerStride(3);
        long[] base = {out.offset(), cond.offset(), a.offset(), b.offset()};
        Parallel.forRange(nest.numel, 1, (start, end) -> nest.forRuns(start, end, base, (offs, len) -> {
            long o = offs[0], c = offs[1], ao = offs[2], bo = offs[3];
            for (long i = 0; i < len; i++, o += os, c += cs, ao += as, bo += bs) {
                boolean pick = condType == DType.BOOL || condType == DType.U8
                        ? cond.seg().get(ElementIO.BYTE, c) != 0
                        : ElementIO.getDouble(condType, cond.seg(), c) != 0;
                long bits = pick ? ElementIO.getBits(size, a.seg(), ao) : ElementIO.getBits(size, b.seg(), bo);
                ElementIO.setBits(size, out.seg(), o, bits);
            }
        }));
    }
}
