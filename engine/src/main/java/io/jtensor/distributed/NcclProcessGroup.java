package io.jtensor.distributed;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.backend.cuda.CudaEvent;
import io.jtensor.backend.cuda.CudaInterop;
import io.jtensor.bindings.mpi.Mpi;
import io.jtensor.bindings.mpi.MpiHandles;
import io.jtensor.bindings.nccl.Nccl;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code nccl} backend: CUDA arrays, one process per GPU ({@code cuda:localRank()}).
 *
 * <p>Streams: a collective is queued on the calling thread's current stream of the array's device, after the
 * work already queued there (which includes the kernel that produced a gradient on that stream); later work on the
 * stream sees its result. The host never waits: {@link Work#isCompleted()} is true once the collective is queued.
 * A non-contiguous array is copied into a contiguous buffer and back on the same stream.
 *
 * <p>Timeout: each collective records an event after itself; a watchdog thread queries the events (and
 * {@code ncclCommGetAsyncError}) and, when one has not completed within the timeout, calls {@code ncclCommAbort}
 * (which releases the kernels waiting for a peer) and fails the group, so that the next call, or a wait, throws
 * the timeout error that names the collective, the rank and the wait.
 *
 * <p>Unique id: under {@code mpirun}, rank 0's {@code ncclGetUniqueId} is broadcast over MPI; else NCCL's own
 * bootstrap listens at {@code NCCL_COMM_ID=MASTER_ADDR:MASTER_PORT} (set into the process environment with
 * {@code setenv} when the launcher did not set it), so no store of our own is needed.
 */
final class NcclProcessGroup extends AbstractProcessGroup {
    private static final long WATCH_PERIOD_NANOS = 50_000_000L;

    private final Device device;
    private final long comm;
    private final int version;
    private final boolean mpiBootstrap;
    private final ConcurrentLinkedQueue<InFlight> inFlight = new ConcurrentLinkedQueue<>();
    private final Thread watchdog;
    private volatile boolean aborted;

    private record InFlight(String collective, CudaEvent done, long queuedNanos) {}

    private NcclProcessGroup(Rendezvous rv, Duration timeout, Device device, long comm, int version, boolean mpiBootstrap) {
        super(rv, timeout);
        this.device = device;
        this.comm = comm;
        this.version = version;
        this.mpiBootstrap = mpiBootstrap;
        this.watchdog = new Thread(this::watch, "jtensor-nccl-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    static NcclProcessGroup create(Rendezvous rv, Duration timeout) {
        Nccl.load();
        int version = Nccl.version();
        if (!Backends.cudaAvailable()) {
            throw new IllegalStateException("ProcessGroup.init(\"nccl\"): CUDA is not available: " + Backends.cudaUnavailableReason());
        }
        Device d = Device.cuda(rv.localRank());
        boolean viaMpi = rv.underMpirun() && rv.size() > 1;
        byte[] id = uniqueId(rv, viaMpi, timeout);
        FutureTask<Long> init = new FutureTask<>(() -> {
            CudaInterop.makeCurrent(d);
            return Nccl.commInitRank(rv.size(), id, rv.rank());
        });
        Thread t = new Thread(init, "jtensor-nccl-init");
        t.setDaemon(true);
        t.start();
        long comm;
        try {
            comm = init.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("ProcessGroup.init(\"nccl\"): ncclCommInitRank on rank " + rv.rank() + " of " + rv.size()
                    + " did not return within " + seconds(timeout) + " (-D" + TIMEOUT_PROPERTY + "): not every rank joined");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new IllegalStateException("ProcessGroup.init(\"nccl\"): " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("ProcessGroup.init(\"nccl\"): interrupted", e);
        }
        return new NcclProcessGroup(rv, timeout, d, comm, version, viaMpi);
    }

    private static byte[] uniqueId(Rendezvous rv, boolean viaMpi, Duration timeout) {
        if (rv.size() == 1) return Nccl.getUniqueId();
        if (viaMpi) {
            // MPI carries rank 0's id; MPI stays initialised until close() (it may be initialised once per process).
            Mpi.load();
            Mpi.initThread(Mpi.THREAD_SERIALIZED);
            MpiHandles h = Mpi.handles();
            Mpi.commSetErrhandler(h.commWorld(), h.errorsReturn());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(Nccl.UNIQUE_ID_BYTES);
                if (rv.rank() == 0) MemorySegment.copy(Nccl.getUniqueId(), 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, Nccl.UNIQUE_ID_BYTES);
                Mpi.bcast(buf.address(), Nccl.UNIQUE_ID_BYTES, h.byteType(), 0, h.commWorld());
                return buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            }
        }
        if (System.getenv("NCCL_COMM_ID") == null) setenv("NCCL_COMM_ID", rv.masterAddr() + ":" + rv.masterPort());
        // With NCCL_COMM_ID set, every rank derives the same id from it, and rank 0's ncclCommInitRank opens the root.
        return Nccl.getUniqueId();
    }

    /** libc setenv: NCCL reads its variables with getenv, which does not see Java's copy of the environment. */
    private static void setenv(String name, String value) {
        Linker linker = Linker.nativeLinker();
        MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            int r = (int) setenv.invokeExact(a.allocateFrom(name), a.allocateFrom(value), 1);
            if (r != 0) throw new IllegalStateException("setenv(" + name + ") failed");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(" + name + "): " + t, t);
        }
    }

    @Override public String backend() { return "nccl"; }

    /** The device this rank works on, {@code cuda:localRank()}. */
    Device device() { return device; }

    @Override public String toString() {
        return "ProcessGroup(" + who() + ", " + device + ", NCCL " + Nccl.versionString(version) + ", timeout " + seconds(timeout) + ")";
    }

    @Override void checkDevice(String op, NDArray a, String name) {
        if (!a.device().equals(device)) {
            throw new IllegalArgumentException(op + ": this rank's nccl group works on " + device + ", got " + name + " on " + a.device()
                    + (a.device().isCpu() ? " (use the mpi backend for CPU arrays)" : ""));
        }
    }

    // ------------------------------------------------------------------ collectives

    @Override public synchronized Work allReduceAsync(NDArray array, ReduceOp op) {
        checkUsable("allReduce");
        checkReduce("allReduce", array, op);
        String what = describe("allReduce", op.name(), array);
        long stream = CudaInterop.currentStream(device);
        try (Staged staged = Staged.asIs(array)) {
            NDArray buf = staged.work;
            boolean avgByHand = op == ReduceOp.AVERAGE && version < 21000;
            Nccl.allReduce(buf.dataAddress(), buf.dataAddress(), buf.numel(), ncclType(buf.dtype()),
                    avgByHand ? Nccl.SUM : ncclOp(op), comm, stream);
            if (avgByHand) buf.mulInPlace(1.0 / size());
            staged.writeBack();
        }
        return queued(what);
    }

    @Override public synchronized Work broadcastAsync(NDArray array, int root) {
        checkUsable("broadcast");
        if (array == null) throw new IllegalArgumentException("broadcast: expected an array, got null");
        checkDevice("broadcast", array, "array");
        checkRoot("broadcast", root);
        String what = describe("broadcast", "root " + root, array);
        long stream = CudaInterop.currentStream(device);
        try (Staged staged = Staged.asIs(array)) {
            NDArray buf = staged.work;
            // As bytes: every dtype, BOOL included, moves unchanged.
            long bytes = buf.numel() * buf.dtype().byteSize();
            Nccl.broadcast(buf.dataAddress(), buf.dataAddress(), bytes, Nccl.UINT8, root, comm, stream);
            staged.writeBack();
        }
        return queued(what);
    }

    @Override public synchronized Work allGatherAsync(NDArray out, NDArray input) {
        checkUsable("allGather");
        checkStacked("allGather", out, "out", input, "input");
        String what = describe("allGather", null, input);
        long stream = CudaInterop.currentStream(device);
        try (NDArray in = input.contiguous()) {
            Nccl.allGather(in.dataAddress(), out.dataAddress(), in.numel() * in.dtype().byteSize(), Nccl.UINT8, comm, stream);
        }
        return queued(what);
    }

    @Override public synchronized Work reduceScatterAsync(NDArray out, NDArray input, ReduceOp op) {
        checkUsable("reduceScatter");
        checkStacked("reduceScatter", input, "input", out, "out");
        checkReduce("reduceScatter", input, op);
        String what = describe("reduceScatter", op.name(), out);
        long stream = CudaInterop.currentStream(device);
        try (Staged staged = Staged.asIs(out)) {
            NDArray res = staged.work;
            boolean avgByHand = op == ReduceOp.AVERAGE && version < 21000;
            Nccl.reduceScatter(input.dataAddress(), res.dataAddress(), res.numel(), ncclType(res.dtype()),
                    avgByHand ? Nccl.SUM : ncclOp(op), comm, stream);
            if (avgByHand) res.mulInPlace(1.0 / size());
            staged.writeBack();
        }
        return queued(what);
    }

    /** Returns once every rank has called it: an all-reduce of one element, waited for on the host. */
    @Override public void barrier() {
        checkUsable("barrier");
        try (NDArray one = NDArray.zeros(DType.F32, device, 1)) {
            allReduceAsync(one, ReduceOp.SUM);
            long deadline = System.nanoTime() + timeout.toNanos();
            // An event of its own: the watchdog closes the in-flight ones as they complete.
            CudaInterop.currentStream(device);
            try (CudaEvent done = CudaEvent.create(device, false)) {
                done.record();
                while (!done.query()) {
                    checkUsable("barrier");
                    if (System.nanoTime() > deadline) throw timedOut("barrier", timeout, null);
                    LockSupport.parkNanos(1_000_000L);
                }
            }
        }
    }

    private static int ncclType(DType t) {
        return switch (t) {
            case F32 -> Nccl.FLOAT32;
            case F64 -> Nccl.FLOAT64;
            case F16 -> Nccl.FLOAT16;
            case BF16 -> Nccl.BFLOAT16;
            case I32 -> Nccl.INT32;
            case I64 -> Nccl.INT64;
            case U8, BOOL -> Nccl.UINT8;
        };
    }

    private static int ncclOp(ReduceOp op) {
        return switch (op) {
            case SUM -> Nccl.SUM;
            case AVERAGE -> Nccl.AVG;
            case MAX -> Nccl.MAX;
            case MIN -> Nccl.MIN;
        };
    }

    /**
     * Records the completion event the watchdog checks; the work counts as done once queued. Collectives hold the
     * group's lock while they enqueue, as {@link #abortCommunicator} does, so a communicator is never used after
     * the watchdog freed it.
     */
    private Work queued(String what) {
        CudaEvent e = CudaEvent.create(device, false);
        e.record();
        inFlight.add(new InFlight(what, e, System.nanoTime()));
        return new Work() {
            @Override public boolean isCompleted() { return true; }

            @Override public void await(Duration limit) {
                RuntimeException f = failure();
                if (f != null) throw new IllegalStateException(what + " on " + who() + ": the group has failed: " + f.getMessage(), f);
            }

            @Override public String toString() { return what + " (queued)"; }
        };
    }

    // ------------------------------------------------------------------ watchdog, failure, shutdown

    private void watch() {
        while (!closed && !aborted) {
            try {
                InFlight head;
                while ((head = inFlight.peek()) != null && head.done().query()) {
                    inFlight.poll();
                    head.done().close();
                }
                if (head != null) {
                    long waited = System.nanoTime() - head.queuedNanos();
                    if (waited > timeout.toNanos()) timedOut(head.collective(), Duration.ofNanos(waited), null);
                }
                int async = Nccl.commGetAsyncError(comm);
                if (async != Nccl.SUCCESS && async != Nccl.IN_PROGRESS) {
                    RuntimeException e = new IllegalStateException("NCCL reported " + Nccl.resultName(async) + " on " + who() + ": "
                            + Nccl.lastError(comm));
                    if (fail(e) == e) abortCommunicator(null);
                }
            } catch (RuntimeException e) {
                if (fail(e) == e) abortCommunicator(null);
            }
            LockSupport.parkNanos(WATCH_PERIOD_NANOS);
        }
    }

    @Override synchronized void abortCommunicator(DistributedTimeoutException cause) {
        if (aborted) return;
        aborted = true;
        try {
            Nccl.commAbort(comm);
        } catch (RuntimeException e) {
            System.err.println("jtensor.distributed: ncclCommAbort on " + who() + " failed: " + e.getMessage());
        }
    }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            watchdog.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!aborted) {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (InFlight f : inFlight) {
                while (!f.done().query()) {
                    if (System.nanoTime() > deadline) {
                        timedOut(f.collective(), timeout, "while closing");
                        break;
                    }
                    LockSupport.parkNanos(1_000_000L);
                }
                if (aborted) break;
            }
            if (!aborted) Nccl.commDestroy(comm);
        }
        for (InFlight f : inFlight) f.done().close();
        inFlight.clear();
        if (mpiBootstrap && !Mpi.finalized()) {
            if (aborted) Mpi.abort(Mpi.handles().commWorld(), 1);
            Mpi.finalizeMpi();
        }
    }
}
