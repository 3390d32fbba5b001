package io.jtensor.backend.cpu;

import io.jtensor.backend.BackendContract;
import java.lang.foreign.MemorySegment;

/**
 * gather, scatterAdd and indexSelect. Every index value is checked before any element moves, so a bad index
 * fails with an {@link IndexOutOfBoundsException} naming the op, the value and the size, and leaves out untouched.
 */
final class CpuIndexing {
    private CpuIndexing() {}

    /** Checks that every index value lies in [0, size). */
    private static void checkIndexValues(String op, Operand index, int dim, long size) {
        LoopNest nest = LoopNest.of(index.shape(), index.strides());
        if (nest.numel == 0) return;
        long is = nest.innerStride(0);
        long[] base = {index.offset()};
        Parallel.forRange(nest.numel, 1, (start, end) -> nest.forRuns(start, end, base, (offs, len) -> {
            for (long i = 0, o = offs[0]; i < len; i++, o += is) {
                long v = ElementIO.getLong(index.dtype(), index.seg(), o);
                if (v < 0 || v >= size) throw BackendContract.indexOutOfBounds(op, v, dim, size);
            }
        }));
    }

    /** Strides of a with dim d zeroed: the index value supplies that dim's offset. */
    private static long[] withoutDim(long[] strides, int d) {
        long[] s = strides.clone();
        if (s.length > 0) s[d] = 0;
        return s;
    }

    private static long strideOf(Operand a, int d) { return a.rank() == 0 ? 0 : a.strides()[d]; }

    private static long sizeOf(Operand a, int d) { return a.rank() == 0 ? 1 : a.shape()[d]; }

    static void gather(Operand x, int dim, Operand index, Operand out) {
        BackendContract.requireIndexOperands("gather", x.shape(), dim, index.shape());
        out.requireShape("gather", index);
        checkIndexValues("gather", index, dim, sizeOf(x, dim));
        LoopNest nest = LoopNest.of(out.shape(), out.strides(), index.strides(), withoutDim(x.strides(), dim));
        if (nest.numel == 0) return;
        int size = x.dtype().byteSize();
        long xd = strideOf(x, dim);
        long os = nest.innerStride(0), is = nest.innerStride(1), xs = nest.innerStride(2);
        long[] base = {out.offset(), index.offset(), x.offset()};
        Parallel.forRange(nest.numel, 2, (start, end) -> nest.forRuns(start, end, base, (offs, len) -> {
            long o = offs[0], ix = offs[1], xo = offs[2];
            for (long i = 0; i < len; i++, o += os, ix += is, xo += xs) {
                long v = ElementIO.getLong(index.dtype(), index.seg(), ix);
                ElementIO.setBits(size, out.seg(), o, ElementIO.getBits(size, x.seg(), xo + v * xd));
            }
        }));
    }

    /** out[...index...] += src, sequentially (several sources may land on one element). */
    static void scatterAdd(Operand out, int dim, Operand index, Operand src) {
        BackendContract.requireIndexOperands("scatterAdd", out.shape(), dim, index.shape());
        index.requireShape("scatterAdd", src);
        checkIndexValues("scatterAdd", index, dim, sizeOf(out, dim));
        LoopNest nest = LoopNest.of(index.shape(), index.strides(), src.strides(), withoutDim(out.strides(), dim));
        if (nest.numel == 0) return;
        long od = strideOf(out, dim);
        boolean longDomain = out.dtype().isIntegral();
        long is = nest.innerStride(0), ss = nest.innerStride(1), os = nest.innerStride(2);
        long[] base = {index.offset(), src.offset(), out.offset()};
        MemorySegment oseg = out.seg();
        nest.forRuns(0, nest.numel, base, (offs, len) -> {
            long ix = offs[0], so = offs[1], oo = offs[2];
            for (long i = 0; i < len; i++, ix += is, so += ss, oo += os) {
                long at = oo + ElementIO.getLong(index.dtype(), index.seg(), ix) * od;
                if (longDomain) {
                    ElementIO.setLong(out.dtype(), oseg, at, ElementIO.getLong(out.dtype(), oseg, at) + ElementIO.getLong(src.dtype(), src.seg(), so));
                } else {
                    ElementIO.setDouble(out.dtype(), oseg, at, ElementIO.getDouble(out.dtype(), oseg, at) + ElementIO.getDouble(src.dtype(), src.seg(), so));
                }
            }
        });
    }

    static void indexSelect(Operand x, int dim, Operand index, Operand out) {
        BackendContract.requireIndexSelect(x.shape(), dim, index.shape(), out.shape());
        checkIndexValues("indexSelect", index, dim, sizeOf(x, dim));
        long[] idxStrides = new long[out.rank()];
        if (idxStrides.length > 0) idxStrides[dim] = index.strides()[0];
        LoopNest nest = LoopNest.of(out.shape(), out.strides(), withoutDim(x.strides(), dim), idxStrides);
        if (nest.numel == 0) return;
        int size = x.dtype().byteSize();
        long xd = strideOf(x, dim);
        long os = nest.innerStride(0), xs = nest.innerStride(1), is = nest.innerStride(2);
        long[] base = {out.offset(), x.offset(), index.offset()};
        Parallel.forRange(nest.numel, 2, (start, end) -> nest.forRuns(start, end, base, (offs, len) -> {
            if (os == 1 && xs == 1 && is == 0) {
                // A run along a dim other than dim: one row of the table, copied whole.
                long v = ElementIO.getLong(index.dtype(), index.seg(), offs[2]);
                MemorySegment.copy(x.seg(), (offs[1] + v * xd) * size, out.seg(), offs[0] * size, len * size);
                return;
            }
            long o = offs[0], xo = offs[1], ix = offs[2];
            for (long i = 0; i < len; i++, o += os, xo += xs, ix += is) {
                long v = ElementIO.getLong(index.dtype(), index.seg(), ix);
                ElementIO.setBits(size, out.seg(), o, ElementIO.getBits(size, x.seg(), xo + v * xd));
            }
        }));
    }
}
