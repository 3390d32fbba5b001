package io.jtensor.backend.cpu;

import io.jtensor.DType;
import java.lang.foreign.MemorySegment;

/** Copies between layouts and dtypes, fills, and host transfers. */
final class CpuCopy {
    private CpuCopy() {}

    static void copyFromHost(MemorySegment src, Operand dst) {
        long bytes = dst.numel() * dst.dtype().byteSize();
        if (!dst.isContiguous()) throw new IllegalArgumentException("copyFromHost: expected a contiguous destination");
        if (src.byteSize() < bytes) {
            throw new IllegalArgumentException("copyFromHost: host buffer holds " + src.byteSize() + " bytes but the array needs " + bytes);
        }
        bulkCopy(src, 0, dst.seg(), dst.offset() * dst.dtype().byteSize(), bytes);
    }

    static void copyToHost(Operand src, MemorySegment dst) {
        long bytes = src.numel() * src.dtype().byteSize();
        if (!src.isContiguous()) throw new IllegalArgumentException("copyToHost: expected a contiguous source");
        if (dst.byteSize() < bytes) {
            throw new IllegalArgumentException("copyToHost: host buffer holds " + dst.byteSize() + " bytes but the array has " + bytes);
        }
        bulkCopy(src.seg(), src.offset() * src.dtype().byteSize(), dst, 0, bytes);
    }

    /** memcpy, split across cores when large (one core cannot saturate memory bandwidth). */
    private static void bulkCopy(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        if (bytes == 0) return;
        Parallel.forRange(bytes, 1, 4096, (s, e) -> MemorySegment.copy(src, srcByte + s, dst, dstByte + s, e - s));
    }

    static void copy(Operand src, Operand dst) {
        dst.requireShape("copy", src);
        LoopNest nest = LoopNest.of(dst.shape(), dst.strides(), src.strides());
        if (nest.numel == 0) return;
        long ds = nest.innerStride(0), ss = nest.innerStride(1);
        if (src.dtype() == dst.dtype()) {
            int size = src.dtype().byteSize();
            if (nest.rank == 1 && ds == 1 && ss == 1) {
                bulkCopy(src.seg(), src.offset() * size, dst.seg(), dst.offset() * size, nest.numel * size);
                return;
            }
            if (transposeCopy(nest, src, dst, size)) return;
            long[] base = {dst.offset(), src.offset()};
            Parallel.forRange(nest.numel, 1, (start, end) -> nest.forRuns(start, end, base, (offs, len) -> {
                if (ds == 1 && ss == 1) {
                    MemorySegment.copy(src.seg(), offs[1] * size, dst.seg(), offs[0] * size, len * size);
                    return;
                }
                long d = offs[0], s = offs[1];
                for (long i = 0; i < len; i++, d += ds, s += ss) ElementIO.setBits(size, dst.seg(), d, ElementIO.getBits(size, src.seg(), s));
            }));
            return;
        }
        boolean longDomain = src.dtype().isIntegral() && dst.dtype().isIntegral();
        long[] base = {dst.offset(), src.offset()};
        Parallel.forRange(nest.numel, 1, (start, end) -> {
            int cap = (int) Math.min(CpuElementwise.CHUNK, end - start);
            double[] dbuf = longDomain ? null : new double[cap];
            long[] lbuf = longDomain ? new long[cap] : null;
            nest.forRuns(start, end, base, (offs, len) -> {
                if (ds == 1 && ss == 1 && convertContiguous(src, offs[1], dst, offs[0], len)) return;
                for (long c = 0; c < len; c += CpuElementwise.CHUNK) {
                    int m = (int) Math.min(CpuElementwise.CHUNK, len - c);
                    if (longDomain) {
                        ElementIO.load(src.dtype(), src.seg(), offs[1] + c * ss, ss, lbuf, m);
                        ElementIO.store(dst.dtype(), dst.seg(), offs[0] + c * ds, ds, lbuf, m);
                    } else {
                        ElementIO.load(src.dtype(), src.seg(), offs[1] + c * ss, ss, dbuf, m);
                        ElementIO.store(dst.dtype(), dst.seg(), offs[0] + c * ds, ds, dbuf, m);
                    }
                }
            });
        });
    }

    private static final int TILE = 32;

    /**
     * A same-dtype copy whose source is contiguous along the destination's second-to-last dim (a transpose, as in
     * {@code t().contiguous()}) goes tile by tile through a small buffer: each tile is read along the source's
     * contiguous runs and written along the destination's, so neither side strides through memory (row strides
     * that are powers of two would otherwise make every strided access collide in the same cache set).
     */
    private static boolean transposeCopy(LoopNest nest, Operand src, Operand dst, int size) {
        int r = nest.rank;
        if (r < 2 || nest.strides[0][r - 1] != 1 || nest.strides[1][r - 2] != 1 || nest.strides[1][r - 1] == 1) return false;
        long rows = nest.shape[r - 2], cols = nest.shape[r - 1];
        if (rows < TILE || cols < TILE) return false;
        long dRow = nest.strides[0][r - 2], sCol = nest.strides[1][r - 1];
        LoopNest outer = nest.leading(r - 2);
        long strips = (rows + TILE - 1) / TILE;
        MemorySegment s = src.seg(), d = dst.seg();
        Parallel.forRange(outer.numel * strips, (long) TILE * cols, (start, end) -> {
            long[] buf = new long[TILE * TILE];
            for (long item = start; item < end; item++) {
                long o = item / strips, i0 = (item % strips) * TILE;
                int h = (int) Math.min(TILE, rows - i0);
                long dBase = dst.offset() + (outer.rank == 0 ? 0 : outer.offsetAt(0, o)) + i0 * dRow;
                long sBase = src.offset() + (outer.rank == 0 ? 0 : outer.offsetAt(1, o)) + i0;
                for (long j0 = 0; j0 < cols; j0 += TILE) {
                    int w = (int) Math.min(TILE, cols - j0);
                    if (size == 4) { // the common F32/I32 case, without a per-element size switch
                        for (int j = 0; j < w; j++) {
                            long at = (sBase + (j0 + j) * sCol) * 4;
                            for (int i = 0; i < h; i++) buf[i * TILE + j] = s.get(ElementIO.INT, at + i * 4L);
                        }
                        for (int i = 0; i < h; i++) {
                            long at = (dBase + i * dRow + j0) * 4;
                            for (int j = 0; j < w; j++) d.set(ElementIO.INT, at + j * 4L, (int) buf[i * TILE + j]);
                        }
                        continue;
                    }
                    for (int j = 0; j < w; j++) {
                        long at = sBase + (j0 + j) * sCol;
                        for (int i = 0; i < h; i++) buf[i * TILE + j] = ElementIO.getBits(size, s, at + i);
                    }
                    for (int i = 0; i < h; i++) {
                        long at = dBase + i * dRow + j0;
                        for (int j = 0; j < w; j++) ElementIO.setBits(size, d, at + j, buf[i * TILE + j]);
                    }
                }
            }
        });
        return true;
    }

    /** Direct loops for the casts mixed precision does all the time; false when the pair has none. */
    private static boolean convertContiguous(Operand src, long so, Operand dst, long dO, long len) {
        MemorySegment s = src.seg(), d = dst.seg();
        DType from = src.dtype(), to = dst.dtype();
        if (from == DType.F32 && to == DType.F16) {
            for (long i = 0; i < len; i++) d.set(ElementIO.SHORT, (dO + i) * 2, Float.floatToFloat16(s.get(ElementIO.FLOAT, (so + i) * 4)));
        } else if (from == DType.F16 && to == DType.F32) {
            for (long i = 0; i < len; i++) d.set(ElementIO.FLOAT, (dO + i) * 4, Float.float16ToFloat(s.get(ElementIO.SHORT, (so + i) * 2)));
        } else if (from == DType.F32 && to == DType.BF16) {
            for (long i = 0; i < len; i++) d.set(ElementIO.SHORT, (dO + i) * 2, HalfFloats.floatToBf16(s.get(ElementIO.FLOAT, (so + i) * 4)));
        } else if (from == DType.BF16 && to == DType.F32) {
            for (long i = 0; i < len; i++) d.set(ElementIO.FLOAT, (dO + i) * 4, HalfFloats.bf16ToFloat(s.get(ElementIO.SHORT, (so + i) * 2)));
        } else if (from == DType.F32 && to == DType.F64) {
            for (long i = 0; i < len; i++) d.set(ElementIO.DOUBLE, (dO + i) * 8, s.get(ElementIO.FLOAT, (so + i) * 4));
        } else if (from == DType.F64 && to == DType.F32) {
            for (long i = 0; i < len; i++) d.set(ElementIO.FLOAT, (dO + i) * 4, (float) s.get(ElementIO.DOUBLE, (so + i) * 8));
        } else {
            return false;
        }
        return true;
    }

    static void fill(Operand dst, double value) {
        LoopNest nest = LoopNest.of(dst.shape(), dst.strides());
        if (nest.numel == 0) return;
        int size = dst.dtype().byteSize();
        long bits = ElementIO.bitsOf(dst.dtype(), value);
        long ds = nest.innerStride(0);
        long[] base = {dst.offset()};
        Parallel.forRange(nest.numel, 1, 64, (start, end) -> nest.forRuns(start, end, base, (offs, len) -> {
            if (ds == 1) fillContiguous(dst.seg(), offs[0] * size, len, size, bits);
            else for (long i = 0, o = offs[0]; i < len; i++, o += ds) ElementIO.setBits(size, dst.seg(), o, bits);
        }));
    }

    /** Writes a pattern once, then doubles it with memcpy, which is as fast as the memory allows. */
    private static void fillContiguous(MemorySegment seg, long byteOff, long count, int size, long bits) {
        long bytes = count * size;
        boolean byteWise = bits == 0 || size == 1;
        if (byteWise) {
            seg.asSlice(byteOff, bytes).fill((byte) bits);
            return;
        }
        long seed = Math.min(count, 64);
        for (long i = 0; i < seed; i++) ElementIO.setBits(size, seg, byteOff / size + i, bits);
        long done = seed * size;
        while (done < bytes) {
            long n = Math.min(done, bytes - done);
            MemorySegment.copy(seg, byteOff, seg, byteOff + done, n);
            done += n;
        }
    }
}
