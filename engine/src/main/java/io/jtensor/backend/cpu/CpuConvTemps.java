package io.jtensor.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Temporary native buffers for one convolution call, freed together when it ends. The arena is shared (the
 * buffers are used by the pool's threads) and opened only on first use, since most F32 calls need none.
 */
final class CpuConvTemps implements AutoCloseable {
    private Arena arena;

    MemorySegment allocate(long bytes) {
        if (arena == null) arena = Arena.ofShared();
        return arena.allocate(Math.max(bytes, 1), 64);
    }

    @Override public void close() {
        if (arena != null) arena.close();
    }

    /** Scratch slots: the columns, the padded image and the wide output of {@link CpuConvWide}. */
    static final int COLUMNS = 0, IMAGE = 1, WIDE_OUT = 2;

    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[3]);

    /** Room after the requested bytes, so that im2col may write whole vectors past the end of its columns. */
    static final int SPILL = 64;

    /**
     * A per-thread buffer of at least bytes (plus SPILL), reused across calls (im2col columns). It lives as long as its thread
     * and is handed back to the garbage collector when a larger one replaces it.
     */
    static MemorySegment scratch(long bytes) { return scratch(COLUMNS, bytes); }

    /** As {@link #scratch(long)}, from one of the thread's slots (buffers used together need different slots). */
    static MemorySegment scratch(int slot, long bytes) {
        bytes += SPILL;
        MemorySegment[] holder = SCRATCH.get();
        MemorySegment s = holder[slot];
        if (s == null || s.byteSize() < bytes) {
            s = Arena.ofAuto().allocate(Math.max(bytes, 64), 64);
            holder[slot] = s;
        }
        return s;
    }
}
