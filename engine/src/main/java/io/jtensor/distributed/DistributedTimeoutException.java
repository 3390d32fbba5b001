package io.jtensor.distributed;

import java.time.Duration;

/**
 * A collective did not complete within the group's timeout: some rank did not call it (the ranks diverged), stalled
 * or died. The message names the collective, the rank and how long it waited. The group is unusable afterwards:
 * its communicator has been (or, for MPI, is being) aborted.
 */
public final class DistributedTimeoutException extends RuntimeException {
    private final String collective;
    private final int rank;
    private final Duration waited;

    public DistributedTimeoutException(String collective, int rank, Duration waited, String message) {
        super(message);
        this.collective = collective;
        this.rank = rank;
        this.waited = waited;
    }

    /** The collective as the group describes it, e.g. "allReduce #3 (F32 [1000])". */
    public String collective() { return collective; }
    public int rank() { return rank; }
    public Duration waited() { return waited; }
}
