package io.jtensor.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The shape and per-operand strides of an elementwise launch, after collapsing: size-1 dims are dropped and a dim
 * is merged into the next inner one when every operand's strides allow it (stride[d] == stride[d+1] * size[d+1]).
 * Packs into the kernels' {@code Geom<N>} struct (kernels/cu/common.cuh):
 * int rank, int fits32, long numel, long size[8], long stride[N][8].
 */
final class Geometry {
    static final int MAX_RANK = 8;

    final int rank;
    final long numel;
    final long[] sizes;
    final long[][] strides;

    private Geometry(int rank, long numel, long[] sizes, long[][] strides) {
        this.rank = rank;
        this.numel = numel;
        this.sizes = sizes;
        this.strides = strides;
    }

    /** Collapses shape with one stride array per operand (all of shape's rank). */
    static Geometry of(String op, long[] shape, long[]... operandStrides) {
        int n = operandStrides.length;
        long numel = 1;
        for (long s : shape) numel *= s;
        if (numel == 0) return new Geometry(1, 0, new long[] {0}, new long[n][1]);
        long[] sz = new long[shape.length];
        long[][] st = new long[n][shape.length];
        int r = 0;
        // Walk from the innermost dim outwards, merging where every operand allows.
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] == 1) continue;
            if (r > 0) {
                boolean merge = true;
                for (int k = 0; k < n; k++) {
                    if (operandStrides[k][d] != st[k][r - 1] * sz[r - 1]) {
                        merge = false;
                        break;
                    }
                }
                if (merge) {
                    sz[r - 1] *= shape[d];
                    continue;
                }
            }
            sz[r] = shape[d];
            for (int k = 0; k < n; k++) st[k][r] = operandStrides[k][d];
            r++;
        }
        if (r > MAX_RANK) {
            throw new IllegalArgumentException(op + ": CUDA kernels take at most " + MAX_RANK + " dims after merging, got "
                    + r + " for shape " + Arrays.toString(shape) + "; make an operand contiguous first");
        }
        // Stored innermost-first above; the kernels want outermost first.
        long[] sizes = new long[r];
        long[][] strides = new long[n][r];
        for (int i = 0; i < r; i++) {
            sizes[i] = sz[r - 1 - i];
            for (int k = 0; k < n; k++) strides[k][i] = st[k][r - 1 - i];
        }
        return new Geometry(r, numel, sizes, strides);
    }

    int operands() { return strides.length; }

    /** Whether every operand is walked with unit stride (the kernels' vector path). */
    boolean contiguous() {
        if (rank == 0) return true;
        if (rank > 1) return false;
        for (long[] s : strides) if (s[0] != 1) return false;
        return true;
    }

    static long structBytes(int operands) { return 80L + 64L * operands; }

    /** Whether the element count and every operand's largest offset fit in a signed 32-bit int. */
    boolean fits32() {
        if (numel > Integer.MAX_VALUE) return false;
        for (long[] s : strides) {
            long max = 0;
            for (int d = 0; d < rank; d++) max += (sizes[d] - 1) * Math.abs(s[d]);
            if (max > Integer.MAX_VALUE) return false;
        }
        return true;
    }

    /** Writes the Geom<N> struct at the start of seg. */
    void pack(MemorySegment seg) {
        seg.asSlice(0, structBytes(operands())).fill((byte) 0);
        seg.set(ValueLayout.JAVA_INT, 0, rank);
        seg.set(ValueLayout.JAVA_INT, 4, fits32() ? 1 : 0);
        seg.set(ValueLayout.JAVA_LONG, 8, numel);
        for (int d = 0; d < rank; d++) seg.set(ValueLayout.JAVA_LONG, 16 + 8L * d, sizes[d]);
        for (int k = 0; k < operands(); k++) {
            for (int d = 0; d < rank; d++) seg.set(ValueLayout.JAVA_LONG, 80 + 64L * k + 8L * d, strides[k][d]);
        }
    }

    @Override public String toString() {
        StringBuilder b = new StringBuilder("Geometry(numel=" + numel + ", sizes=" + Arrays.toString(sizes));
        for (long[] s : strides) b.append(", ").append(Arrays.toString(s));
        return b.append(')').toString();
    }
}
