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
