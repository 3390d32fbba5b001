package io.jtensor.distributed;

import io.jtensor.NDArray;
import java.time.Duration;

/**
 * The processes of one distributed job, and the collectives they run together. One process per device: rank
 * {@code r} of {@code size()} works on {@code cuda:localRank()} (NCCL) or on the CPU (MPI).
 *
 * <p>The contract every backend keeps, so that the Reducer above it never asks which one it has:
 * <ul>
 *   <li>Every rank calls the same collectives in the same order with arrays of the same dtype and shape; a rank
 *       that does not makes the others fail with a timeout error naming the collective, the rank and the wait
 *       (never a hang). The default timeout is 10 minutes, {@code -Djtensor.distributed.timeout} (seconds).</li>
 *   <li>In-place collectives ({@link #allReduce}, {@link #broadcast}) accept any layout: a non-contiguous array is
 *       staged through a contiguous copy and written back. The arrays must stay open, and the caller must not write
 *       them, until the work completes (on the CPU another thread reads and writes them meanwhile).</li>
 *   <li>CUDA arrays: the collective runs on the calling thread's current stream of the array's device, after the
 *       work already queued there, and later work on that stream sees its result; the host does not wait.
 *       CPU arrays: the result is visible once {@link Work#await} (or the synchronous form) returns.</li>
 *   <li>Floating dtypes F32, F64, F16, BF16 and the integer dtypes the backend supports; {@link ReduceOp#AVERAGE}
 *       only for floating dtypes.</li>
 * </ul>
 */
public interface ProcessGroup extends AutoCloseable {

    /** The system property that sets every collective's timeout, in seconds (fractions allowed). */
    String TIMEOUT_PROPERTY = "jtensor.distributed.timeout";

    /** The timeout when {@link #TIMEOUT_PROPERTY} is not set. */
    Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    /** The reductions a collective can apply. */
    enum ReduceOp { SUM, AVERAGE, MAX, MIN }

    /** A collective in flight. */
    interface Work {
        /** Whether the collective has finished (on CUDA: has been queued on its stream, which is all a host needs). */
        boolean isCompleted();

        /**
         * Waits for completion; throws a {@link DistributedTimeoutException}, naming the collective and the rank, when
         * {@code timeout} passes first. An expired wait fails the whole group: the ranks can no longer agree on which
         * collectives ran, so every later call throws at once and the communicator is aborted (NCCL: at once;
         * MPI: when the group is closed, because {@code MPI_Abort} ends every process of the job). Poll with {@link #isCompleted()}, not with short waits. A
         * collective that failed in the backend throws here with the backend's error as the cause.
         */
        void await(Duration timeout);
    }

    /**
     * Joins the job described by this process's environment: {@code "nccl"} for CUDA arrays, {@code "mpi"} for CPU
     * arrays. Rendezvous is read from torchrun's variables ({@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK},
     * {@code MASTER_ADDR}, {@code MASTER_PORT}) or Open MPI's ({@code OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK}), see
     * {@link Rendezvous}; with neither, a job of one process. {@code "mpi"} needs its processes started by
     * {@code mpirun} (or {@code jtensor launch --backend mpi}) and can be initialised once per process. The timeout is
     * {@code -Djtensor.distributed.timeout} (seconds), default 10 minutes.
     */
    static ProcessGroup init(String backend) {
        if (backend == null) throw new IllegalArgumentException("ProcessGroup.init: expected \"nccl\" or \"mpi\", got null");
        Rendezvous rv = Rendezvous.fromEnvironment();
        Duration timeout = AbstractProcessGroup.configuredTimeout();
        return switch (backend) {
            case "mpi" -> MpiProcessGroup.create(rv, timeout);
            case "nccl" -> NcclProcessGroup.create(rv, timeout);
            default -> throw new IllegalArgumentException("ProcessGroup.init: expected \"nccl\" or \"mpi\", got \"" + backend + "\"");
        };
    }

    int rank();

    int size();

    /** This process's index among the processes of its node (the CUDA device it uses). */
    int localRank();

    /** {@code "nccl"} or {@code "mpi"}. */
    String backend();

    /** Reduces {@code array} over all ranks, in place, leaving the result on every rank. */
    default void allReduce(NDArray array, ReduceOp op) { allReduceAsync(array, op).await(timeout()); }

    Work allReduceAsync(NDArray array, ReduceOp op);

    /** Copies rank {@code root}'s {@code array} into every other rank's, in place. */
    default void broadcast(NDArray array, int root) { broadcastAsync(array, root).await(timeout()); }

    Work broadcastAsync(NDArray array, int root);

    /** Fills {@code out} ({@code [size(), ...input.shape]}, contiguous) with every rank's {@code input}, in rank order. */
    default void allGather(NDArray out, NDArray input) { allGatherAsync(out, input).await(timeout()); }

    Work allGatherAsync(NDArray out, NDArray input);

    /**
     * Reduces {@code input} ({@code [size(), ...out.shape]}, contiguous) over all ranks and leaves slice
     * {@code rank()} of the result in {@code out}.
     */
    default void reduceScatter(NDArray out, NDArray input, ReduceOp op) { reduceScatterAsync(out, input, op).await(timeout()); }

    Work reduceScatterAsync(NDArray out, NDArray input, ReduceOp op);

    /** Returns once every rank has called it. */
    void barrier();

    /** How long a collective may wait before it fails. */
    Duration timeout();

    /** Leaves the job and releases the communicator. */
    @Override
    void close();
}
