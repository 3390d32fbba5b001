package io.jtensor.distributed;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What every backend shares: the rank facts, the argument checks of each collective, sequence numbers, the
 * timeout and the failed state. One door for the timeout: {@link #timedOut} builds the error, marks the group
 * failed (every later call throws it at once), reports it on stderr and asks the backend to
 * {@link #abortCommunicator abort}.
 */
abstract class AbstractProcessGroup implements ProcessGroup {
    protected final Rendezvous rendezvous;
    protected final Duration timeout;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    protected volatile boolean closed;

    AbstractProcessGroup(Rendezvous rendezvous, Duration timeout) {
        this.rendezvous = rendezvous;
        this.timeout = timeout;
    }

    @Override public int rank() { return rendezvous.rank(); }
    @Override public int size() { return rendezvous.size(); }
    @Override public int localRank() { return rendezvous.localRank(); }
    @Override public Duration timeout() { return timeout; }

    /** The timeout {@code -Djtensor.distributed.timeout} (seconds, fractions allowed) asks for, else 10 minutes. */
    static Duration configuredTimeout() {
        String v = System.getProperty(TIMEOUT_PROPERTY);
        if (v == null || v.isBlank()) return DEFAULT_TIMEOUT;
        double s;
        try {
            s = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + TIMEOUT_PROPERTY + ": expected seconds (a positive number), got '" + v + "'");
        }
        if (!(s > 0) || Double.isInfinite(s)) {
            throw new IllegalArgumentException("-D" + TIMEOUT_PROPERTY + ": expected seconds (a positive number), got '" + v + "'");
        }
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    /** "rank 1 of 4 (mpi)". */
    final String who() { return "rank " + rank() + " of " + size() + " (" + backend() + ")"; }

    /** A description of the next collective: "allReduce #3 (SUM, F32 [4, 5])". */
    final String describe(String op, String detail, NDArray a) {
        return op + " #" + sequence.incrementAndGet() + " (" + (detail == null ? "" : detail + ", ") + a.dtype() + " "
                + Arrays.toString(a.shape()) + ")";
    }

    final String describe(String op) { return op + " #" + sequence.incrementAndGet(); }

    /** Throws when the group was closed or has failed: a failed group cannot run collectives consistently again. */
    final void checkUsable(String op) {
        if (closed) throw new IllegalStateException(op + ": the process group (" + who() + ") is closed");
        RuntimeException f = failure.get();
        if (f != null) throw new IllegalStateException(op + ": the process group (" + who() + ") has failed: " + f.getMessage(), f);
    }

    final RuntimeException failure() { return failure.get(); }

    final boolean hasFailed() { return failure.get() != null; }

    /** Records a failure (the first one wins) and returns the recorded one. */
    final RuntimeException fail(RuntimeException e) {
        failure.compareAndSet(null, e);
        return failure.get();
    }

    /**
     * The door every expired wait goes through: the error names the collective, this rank and the wait; the group
     * fails; the message goes to stderr (an abort may end the process before the caller can print it); the
     * backend aborts its communicator. Returns the error for the caller to throw.
     */
    final DistributedTimeoutException timedOut(String collective, Duration waited, String state) {
        String msg = String.format(Locale.ROOT,
                "%s on %s did not complete within %s (-D%s): a rank did not call the same collectives in the same "
                        + "order, stalled or died%s; the communicator is aborted",
                collective, who(), seconds(waited), TIMEOUT_PROPERTY, state == null ? "" : " (" + state + ")");
        DistributedTimeoutException e = new DistributedTimeoutException(collective, rank(), waited, msg);
        if (failure.compareAndSet(null, e)) {
            System.err.println("jtensor.distributed: " + msg);
            System.err.flush();
            abortCommunicator(e);
        }
        return e;
    }

    static String seconds(Duration d) { return String.format(Locale.ROOT, "%.1f s", d.toNanos() / 1e9); }

    /** Aborts the communicator after a timeout; called once. */
    abstract void abortCommunicator(DistributedTimeoutException cause);

    // ------------------------------------------------------------------ argument checks (same for every backend)

    final void checkReduce(String op, NDArray a, ReduceOp r) {
        checkOpenArray(op, a, "array");
        if (r == null) throw new IllegalArgumentException(op + ": expected a ReduceOp, got null");
        if (r == ReduceOp.AVERAGE && !a.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": AVERAGE needs a floating dtype (F32, F64, F16, BF16), got " + a.dtype());
        }
        if (a.dtype() == DType.BOOL && (r == ReduceOp.SUM || r == ReduceOp.AVERAGE)) {
            throw new IllegalArgumentException(op + ": BOOL arrays reduce only with MAX (any) or MIN (all), got " + r);
        }
    }

    final void checkRoot(String op, int root) {
        if (root < 0 || root >= size()) throw new IllegalArgumentException(op + ": root must be in 0.." + (size() - 1) + ", got " + root);
    }

    /** {@code big} is {@code [size(), ...small.shape]}, contiguous, of small's dtype and device. */
    final void checkStacked(String op, NDArray big, String bigName, NDArray small, String smallName) {
        checkOpenArray(op, big, bigName);
        checkOpenArray(op, small, smallName);
        long[] expected = new long[small.dim() + 1];
        expected[0] = size();
        System.arraycopy(small.shape(), 0, expected, 1, small.dim());
        if (!Arrays.equals(big.shape(), expected)) {
            throw new IllegalArgumentException(op + ": expected " + bigName + " of shape " + Arrays.toString(expected) + " ([size(), ..."
                    + smallName + ".shape]), got " + Arrays.toString(big.shape()));
        }
        if (!big.isContiguous()) throw new IllegalArgumentException(op + ": expected a contiguous " + bigName + ", got strides " + Arrays.toString(big.strides()));
        if (big.dtype() != small.dtype()) throw new IllegalArgumentException(op + ": " + bigName + " is " + big.dtype() + " but " + smallName + " is " + small.dtype());
        if (!big.device().equals(small.device())) {
            throw new IllegalArgumentException(op + ": " + bigName + " is on " + big.device() + " but " + smallName + " is on " + small.device());
        }
    }

    private void checkOpenArray(String op, NDArray a, String name) {
        if (a == null) throw new IllegalArgumentException(op + ": expected an array for " + name + ", got null");
        if (a.isClosed()) throw new IllegalArgumentException(op + ": " + name + " " + Arrays.toString(a.shape()) + " was closed");
        checkDevice(op, a, name);
    }

    /** The backend's device rule, e.g. "CPU arrays only". */
    abstract void checkDevice(String op, NDArray a, String name);

    // ------------------------------------------------------------------ work handles

    /** A collective finished by another thread: completed or failed, waited for with a bound. */
    final class PendingWork implements Work {
        final String collective;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile RuntimeException error;

        PendingWork(String collective) { this.collective = collective; }

        void complete() { done.countDown(); }

        void failWith(RuntimeException e) {
            error = e;
            done.countDown();
        }

        @Override public boolean isCompleted() { return done.getCount() == 0; }

        @Override public void await(Duration limit) {
            boolean finished;
            try {
                finished = done.await(limit.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(collective + " on " + who() + ": interrupted while waiting", e);
            }
            if (!finished) throw timedOut(collective, limit, stateForTimeout());
            RuntimeException e = error;
            if (e != null) throw new IllegalStateException(collective + " on " + who() + " failed: " + e.getMessage(), e);
        }

        @Override public String toString() { return collective + (isCompleted() ? " (done)" : " (pending)"); }
    }

    /** A line about what the backend is doing now, for the timeout message (null when nothing to add). */
    String stateForTimeout() { return null; }
}
