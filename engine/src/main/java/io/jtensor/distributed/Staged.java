package io.jtensor.distributed;

import io.jtensor.DType;
import io.jtensor.NDArray;

/**
 * The buffer a collective works on for a caller's array: the array itself when its layout and dtype serve, else a
 * contiguous copy made on the caller's thread (so it sees the caller's writes in order) and written back into the
 * caller's array when the collective is done. References are detached from any open {@code MemoryScope}: an MPI
 * collective finishes on another thread, possibly after the caller's scope closed. NCCL queues the collective and
 * the write-back on the caller's stream, so its buffer may be closed as soon as both are queued.
 */
final class Staged implements AutoCloseable {
    /** The caller's array (a shared reference), written back into when {@link #work} is a copy. */
    private final NDArray target;
    /** What MPI reads and writes: contiguous. */
    final NDArray work;
    private final boolean copy;

    private Staged(NDArray target, NDArray work, boolean copy) {
        this.target = target;
        this.work = work;
        this.copy = copy;
    }

    /** Contiguous, in the array's own dtype (bytes are bytes for broadcast and gather). */
    static Staged asIs(NDArray a) {
        NDArray target = a.share().keep();
        if (a.isContiguous()) return new Staged(target, a.share().keep(), false);
        return new Staged(target, a.copy().keep(), true);
    }

    /** Contiguous, and F16/BF16 widened to F32 (MPI has no half types; see MpiProcessGroup). */
    static Staged forReduction(NDArray a) {
        if (a.dtype() == DType.F16 || a.dtype() == DType.BF16) {
            NDArray target = a.share().keep();
            return new Staged(target, a.to(DType.F32).keep(), true);
        }
        return asIs(a);
    }

    /** Copies the result into the caller's array (casting back, one rounding) when the work buffer is a copy. */
    void writeBack() {
        if (copy) target.copyFrom(work);
    }

    @Override public void close() {
        work.close();
        target.close();
    }
}
