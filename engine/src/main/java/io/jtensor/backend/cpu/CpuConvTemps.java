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

    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    /**
     * A per-thread buffer of at least bytes, reused across calls (im2col columns). It lives as long as its thread
     * and is handed back to the garbage collector when a larger one replaces it.
     */
    static MemorySegment scratch(long bytes) {
        MemorySegment[] holder = SCRATCH.get();
        MemorySegment s = holder[0];
        if (s == null || s.byteSize() < bytes) {
            s = Arena.ofAuto().allocate(Math.max(bytes, 64), 64);
            holder[0] = s;
        }
        return s;
    }
}
