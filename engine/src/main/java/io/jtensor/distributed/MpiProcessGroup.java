package io.jtensor.distributed;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.bindings.mpi.Mpi;
import io.jtensor.bindings.mpi.MpiHandles;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * The {@code mpi} backend: CPU arrays over Open MPI, one process per rank, wired by {@code mpirun}.
 *
 * <p>Progress: every MPI call of the group runs on one communication thread, in submission order, so that
 * collectives leave each rank in the order the caller issued them, and an async collective really overlaps the
 * caller's computation (a blocking MPI call on that thread drives MPI's progress engine for as long as it takes;
 * {@code MPI_Iallreduce} tested from the backward would progress only when tested). MPI is initialised at
 * {@code MPI_THREAD_MULTIPLE} when granted (Open MPI 4.1 grants it) so that the timeout path may call
 * {@code MPI_Abort} from the waiting thread while the communication thread is stuck; {@link #threadLevel()} says what
 * was granted.
 *
 * <p>Half precision: MPI has no F16/BF16 types. Reductions widen them to F32 on the caller's thread, reduce in F32
 * and round once when writing back: the result is the correctly rounded F32 sum, independent of MPI's reduction
 * tree (a user-defined MPI_Op on halves would round at every step of the tree). The price is twice the bytes on the
 * wire, acceptable for the CPU backend. Broadcast and all-gather move every dtype as bytes.
 *
 * <p>Timeout: MPI cannot abort one communicator and keep the process, so an expired wait fails the group (and
 * reports on stderr) at once, and the job is aborted ({@code MPI_Abort}, which ends every rank) when the group is
 * closed; a process that exits without closing it ends the job too, because {@code mpirun} aborts the job when a
 * rank exits without {@code MPI_Finalize}.
 */
final class MpiProcessGroup extends AbstractProcessGroup {
    /** MPI counts are ints: larger arrays go in chunks of this many elements. */
    static final int MAX_COUNT = Integer.MAX_VALUE;
    private static boolean initialisedOnce;

    private final ExecutorService comm;
    private final MpiHandles h;
    private final long world;
    private final int threadLevel;
    /** What the communication thread is inside now, and since when (for the timeout message). */
    private volatile String inside;
    private volatile long insideSince;

    private MpiProcessGroup(Rendezvous rv, Duration timeout, ExecutorService comm, int threadLevel) {
        super(rv, timeout);
        this.comm = comm;
        this.h = Mpi.handles();
        this.world = h.commWorld();
        this.threadLevel = threadLevel;
    }

    /** Initialises MPI on a new communication thread and checks that MPI's view of the job matches the environment's. */
    static synchronized MpiProcessGroup create(Rendezvous rv, Duration timeout) {
        if (!rv.underMpirun() && rv.size() > 1) {
            throw new IllegalStateException("ProcessGroup.init(\"mpi\"): WORLD_SIZE=" + rv.size() + " was set by a torchrun-style launcher, "
                    + "but MPI wires its processes itself: start them with mpirun (or jtensor launch --backend mpi)");
        }
        if (initialisedOnce) {
            throw new IllegalStateException("ProcessGroup.init(\"mpi\"): MPI was already initialised in this process, and MPI allows it only once "
                    + "(keep one process group for the whole run)");
        }
        Mpi.load();
        initialisedOnce = true;
        ExecutorService comm = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jtensor-mpi-comm");
            t.setDaemon(true);
            return t;
        });
        int[] facts = new int[3];
        Runnable init = () -> {
            facts[0] = Mpi.initThread(Mpi.THREAD_MULTIPLE);
            MpiHandles hs = Mpi.handles();
            Mpi.commSetErrhandler(hs.commWorld(), hs.errorsReturn());
            facts[1] = Mpi.commRank(hs.commWorld());
            facts[2] = Mpi.commSize(hs.commWorld());
        };
        try {
            comm.submit(init).get(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("ProcessGroup.init(\"mpi\"): MPI_Init_thread on rank " + rv.rank() + " did not return within "
                    + seconds(timeout) + " (-D" + TIMEOUT_PROPERTY + ")");
        } catch (java.util.concurrent.ExecutionException e) {
            comm.shutdownNow();
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new IllegalStateException("ProcessGroup.init(\"mpi\"): " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("ProcessGroup.init(\"mpi\"): interrupted", e);
        }
        if (facts[1] != rv.rank() || facts[2] != rv.size()) {
            throw new IllegalStateException("ProcessGroup.init(\"mpi\"): MPI says rank " + facts[1] + " of " + facts[2] + " but the environment ("
                    + rv.source() + ") says rank " + rv.rank() + " of " + rv.size());
        }
        // No shutdown hook finalizes a group left open: on SIGTERM (mpirun ending the job) MPI_Finalize would wait
        // for ranks that are being killed. A program closes its group; one that exits without doing so ends the job.
        return new MpiProcessGroup(rv, timeout, comm, facts[0]);
    }

    @Override public String backend() { return "mpi"; }

    /** The MPI thread level granted ({@link Mpi#THREAD_MULTIPLE} and so on). */
    int threadLevel() { return threadLevel; }

    @Override public String toString() {
        return "ProcessGroup(" + who() + ", " + Mpi.threadLevelName(threadLevel) + ", timeout " + seconds(timeout) + ")";
    }

    @Override void checkDevice(String op, NDArray a, String name) {
        if (!a.device().isCpu()) {
            throw new IllegalArgumentException(op + ": the mpi backend takes CPU arrays, got " + name + " on " + a.device()
                    + " (use the nccl backend for CUDA arrays)");
        }
    }

    // ------------------------------------------------------------------ collectives

    @Override public Work allReduceAsync(NDArray array, ReduceOp op) {
        checkUsable("allReduce");
        checkReduce("allReduce", array, op);
        String what = describe("allReduce", op.name(), array);
        Staged buf = Staged.forReduction(array);
        return submit(what, () -> {
            long elem = buf.work.dtype().byteSize();
            long n = buf.work.numel(), base = buf.work.dataAddress();
            for (long start = 0; start < n; start += MAX_COUNT) {
                int count = (int) Math.min(MAX_COUNT, n - start);
                Mpi.allreduce(h.inPlace(), base + start * elem, count, reductionType(buf.work.dtype()), mpiOp(op), world);
            }
            if (op == ReduceOp.AVERAGE) buf.work.mulInPlace(1.0 / size());
            buf.writeBack();
        }, buf);
    }

    @Override public Work broadcastAsync(NDArray array, int root) {
        checkUsable("broadcast");
        if (array == null) throw new IllegalArgumentException("broadcast: expected an array, got null");
        checkDevice("broadcast", array, "array");
        checkRoot("broadcast", root);
        String what = describe("broadcast", "root " + root, array);
        Staged buf = Staged.asIs(array);
        return submit(what, () -> {
            long bytes = buf.work.numel() * buf.work.dtype().byteSize(), base = buf.work.dataAddress();
            for (long start = 0; start < bytes; start += MAX_COUNT) {
                Mpi.bcast(base + start, (int) Math.min(MAX_COUNT, bytes - start), h.byteType(), root, world);
            }
            if (rank() != root) buf.writeBack();
        }, buf);
    }

    @Override public Work allGatherAsync(NDArray out, NDArray input) {
        checkUsable("allGather");
        checkStacked("allGather", out, "out", input, "input");
        String what = describe("allGather", null, input);
        long bytes = input.numel() * input.dtype().byteSize();
        checkCount("allGather", bytes, "bytes per rank");
        Staged in = Staged.asIs(input);
        NDArray o = out.share().keep();
        return submit(what, () -> {
            try (o) {
                Mpi.allgather(in.work.dataAddress(), (int) bytes, h.byteType(), o.dataAddress(), (int) bytes, h.byteType(), world);
            }
        }, in);
    }

    @Override public Work reduceScatterAsync(NDArray out, NDArray input, ReduceOp op) {
        checkUsable("reduceScatter");
        checkStacked("reduceScatter", input, "input", out, "out");
        checkReduce("reduceScatter", input, op);
        checkCount("reduceScatter", out.numel(), "elements per rank");
        String what = describe("reduceScatter", op.name(), out);
        Staged in = Staged.forReduction(input);
        Staged res = Staged.forReduction(out);
        return submit(what, () -> {
            Mpi.reduceScatterBlock(in.work.dataAddress(), res.work.dataAddress(), (int) res.work.numel(),
                    reductionType(res.work.dtype()), mpiOp(op), world);
            if (op == ReduceOp.AVERAGE) res.work.mulInPlace(1.0 / size());
            res.writeBack();
        }, in, res);
    }

    @Override public void barrier() {
        checkUsable("barrier");
        submit(describe("barrier"), () -> Mpi.barrier(world)).await(timeout);
    }

    private static void checkCount(String op, long count, String what) {
        if (count > MAX_COUNT) {
            throw new IllegalArgumentException(op + ": MPI counts are ints: " + count + " " + what + " exceed " + MAX_COUNT + " (split the array)");
        }
    }

    private long reductionType(DType t) {
        return switch (t) {
            case F32 -> h.floatType();
            case F64 -> h.doubleType();
            case I32 -> h.int32Type();
            case I64 -> h.int64Type();
            case U8, BOOL -> h.uint8Type();
            // F16/BF16 never get here: Staged.forReduction widens them to F32.
            default -> throw new IllegalArgumentException("mpi: no MPI reduction type for " + t);
        };
    }

    private long mpiOp(ReduceOp op) {
        return switch (op) {
            case SUM, AVERAGE -> h.opSum();
            case MAX -> h.opMax();
            case MIN -> h.opMin();
        };
    }

    /** Queues an MPI action on the communication thread; staging buffers are released whatever happens. */
    private Work submit(String what, Runnable action, Staged... staged) {
        PendingWork w = new PendingWork(what);
        try {
            comm.execute(() -> {
                try {
                    RuntimeException f = failure();
                    if (f != null) throw new IllegalStateException("the group failed before it ran: " + f.getMessage(), f);
                    inside = what;
                    insideSince = System.nanoTime();
                    action.run();
                    w.complete();
                } catch (RuntimeException e) {
                    w.failWith(e);
                } finally {
                    inside = null;
                    for (Staged s : staged) s.close();
                }
            });
        } catch (RejectedExecutionException e) {
            for (Staged s : staged) s.close();
            throw new IllegalStateException(what + ": the process group (" + who() + ") is closed", e);
        }
        return w;
    }

    @Override String stateForTimeout() {
        String in = inside;
        if (in == null) return null;
        return "the communication thread is inside " + in + " since " + seconds(Duration.ofNanos(System.nanoTime() - insideSince)) + " ago";
    }

    // ------------------------------------------------------------------ failure and shutdown

    @Override void abortCommunicator(DistributedTimeoutException cause) {
        // MPI_Abort would end this process before the caller sees the error: it runs at close() (see the class doc).
    }

    /**
     * Finalizes MPI (bounded by the timeout), or, after a failure, aborts the whole job with MPI_Abort: the only
     * way MPI offers to release ranks that wait in a collective this rank will never join. MPI_Abort ends this
     * process; it does not return.
     */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        if (hasFailed()) abortJob();
        PendingWork fin = new PendingWork("MPI_Finalize");
        try {
            comm.execute(() -> {
                try {
                    Mpi.finalizeMpi();
                    fin.complete();
                } catch (RuntimeException e) {
                    fin.failWith(e);
                }
            });
            comm.shutdown();
            fin.await(timeout);
        } catch (DistributedTimeoutException e) {
            abortJob();
        }
    }

    private void abortJob() {
        System.err.println("jtensor.distributed: " + who() + ": aborting the MPI job (MPI_Abort)");
        System.err.flush();
        Mpi.abort(world, 1);
    }
}
