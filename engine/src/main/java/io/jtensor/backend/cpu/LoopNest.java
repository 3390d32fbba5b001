package io.jtensor.backend.cpu;

/**
 * A loop nest over one shape shared by several operands, each with its own strides (in elements). Size-1 dims
 * are dropped and neighbouring dims merged when every operand walks them as one, so that contiguous and simply
 * broadcast arrays become one or two loops. The innermost dim is walked in "runs": stretches where each operand
 * advances by a fixed stride, which kernels process in tight loops.
 */
final class LoopNest {
    final int rank;
    final long[] shape;
    /** strides[operand][dim], in elements. */
    final long[][] strides;
    final long numel;

    private LoopNest(int rank, long[] shape, long[][] strides, long numel) {
        this.rank = rank;
        this.shape = shape;
        this.strides = strides;
        this.numel = numel;
    }

    /** The collapsed nest for a shape and the strides of each operand over it (dims in the given order). */
    static LoopNest of(long[] shape, long[]... operandStrides) {
        int n = shape.length, k = operandStrides.length;
        long numel = 1;
        for (long s : shape) numel *= s;
        int cap = Math.max(n, 1);
        long[] sh = new long[cap];
        long[][] st = new long[k][cap];
        int r = 0;
        for (int d = 0; d < n; d++) {
            long size = shape[d];
            if (size == 1) continue;
            boolean merge = r > 0;
            for (int o = 0; o < k && merge; o++) merge = st[o][r - 1] == operandStrides[o][d] * size;
            if (merge) {
                sh[r - 1] *= size;
                for (int o = 0; o < k; o++) st[o][r - 1] = operandStrides[o][d];
            } else {
                sh[r] = size;
                for (int o = 0; o < k; o++) st[o][r] = operandStrides[o][d];
                r++;
            }
        }
        if (r == 0) { // a single element
            sh[0] = numel == 0 ? 0 : 1;
            r = 1;
        }
        return new LoopNest(r, sh, st, numel);
    }

    /** A one-dim nest of n elements with the given stride per operand. */
    static LoopNest linear(long n, long... operandStrides) {
        long[][] st = new long[operandStrides.length][1];
        for (int o = 0; o < operandStrides.length; o++) st[o][0] = operandStrides[o];
        return new LoopNest(1, new long[] {n}, st, n);
    }

    long innerSize() { return shape[rank - 1]; }

    /** The element offset (from 0) of operand o at a flat position. */
    long offsetAt(int o, long flat) {
        long off = 0;
        for (int d = rank - 1; d >= 0; d--) {
            off += (flat % shape[d]) * strides[o][d];
            flat /= shape[d];
        }
        return off;
    }

    /** The nest of dims [0, count), for walking the outer part of this one. */
    LoopNest leading(int count) {
        long[] sh = java.util.Arrays.copyOf(shape, count);
        long[][] st = new long[strides.length][];
        for (int o = 0; o < strides.length; o++) st[o] = java.util.Arrays.copyOf(strides[o], count);
        return LoopNest.of(sh, st);
    }

    long innerStride(int operand) { return strides[operand][rank - 1]; }

    /** The body of a walk: one run of {@code len} elements starting at element offset offsets[o] of each operand. */
    @FunctionalInterface
    interface RunBody {
        void run(long[] offsets, long len);
    }

    /**
     * Walks flat positions [start, end) (row-major over the nest) as runs along the innermost dim, with operand o
     * starting at element offset base[o]. The offsets array handed to body is reused; body must not keep it.
     */
    void forRuns(long start, long end, long[] base, RunBody body) {
        if (start >= end) return;
        int k = strides.length;
        long[] offs = new long[k];
        if (rank == 1) {
            for (int o = 0; o < k; o++) offs[o] = base[o] + start * strides[o][0];
            body.run(offs, end - start);
            return;
        }
        long[] idx = new long[rank];
        long rem = start;
        for (int d = rank - 1; d >= 0; d--) {
            idx[d] = rem % shape[d];
            rem /= shape[d];
        }
        for (int o = 0; o < k; o++) {
            long off = base[o];
            for (int d = 0; d < rank; d++) off += idx[d] * strides[o][d];
            offs[o] = off;
        }
        int last = rank - 1;
        long inner = shape[last];
        long[] cur = new long[k];
        long pos = start;
        while (pos < end) {
            long len = Math.min(inner - idx[last], end - pos);
            System.arraycopy(offs, 0, cur, 0, k);
            body.run(cur, len);
            pos += len;
            if (pos >= end) break;
            idx[last] += len;
            for (int o = 0; o < k; o++) offs[o] += len * strides[o][last];
            for (int d = last; d > 0 && idx[d] == shape[d]; d--) {
                idx[d] = 0;
                idx[d - 1]++;
                for (int o = 0; o < k; o++) offs[o] += strides[o][d - 1] - shape[d] * strides[o][d];
            }
        }
    }

    /** Walks every element offset of operand 0 in row-major order (for small nests such as reduced dims). */
    @FunctionalInterface
    interface OffsetBody {
        void at(long offset, long flatIndex);
    }

    void forEachOffset(long base, OffsetBody body) {
        long[] b = new long[strides.length];
        b[0] = base;
        long[] flat = {0};
        forRuns(0, numel, b, (offs, len) -> {
            long off = offs[0], st = strides[0][rank - 1];
            for (long i = 0; i < len; i++) body.at(off + i * st, flat[0]++);
        });
    }
}
