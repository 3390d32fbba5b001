package io.jtensor.distributed;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup.ReduceOp;
import io.jtensor.distributed.ProcessGroup.Work;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Runs on every rank under mpirun (MpiProcessGroupTest starts it): each collective of the mpi backend against its
 * definition, computed locally from the values every rank is known to hold, for every float dtype, odd sizes,
 * non-contiguous views (whose untouched neighbours must stay as they were) and async completion. Prints one
 * line per rank, "rank R: N checks passed", or the failures, and exits non-zero when any check failed.
 */
public final class MpiCollectivesCheck {
    static final DType[] FLOATS = {DType.F32, DType.F64, DType.F16, DType.BF16};
    static final DType[] INTS = {DType.I32, DType.I64};
    static final int N = 1001;

    private final ProcessGroup pg;
    private final int rank, size;
    private final List<String> failures = new ArrayList<>();
    private int checks;

    private MpiCollectivesCheck(ProcessGroup pg) {
        this.pg = pg;
        this.rank = pg.rank();
        this.size = pg.size();
    }

    /** The value rank r holds at flat index i: quarters (exact in every float dtype) for floats, integers for ints. */
    static double value(int r, long i, DType t) {
        double base = ((r * 5 + i * 3) % 17) - 8;
        return t.isFloating() ? base * 0.25 + r : base + 100.0 * r;
    }

    static NDArray filled(int r, DType t, long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        double[] v = new double[(int) n];
        for (int i = 0; i < n; i++) v[i] = value(r, i, t);
        try (NDArray d = NDArray.of(v, shape)) {
            return d.to(t);
        }
    }

    private double reduce(ReduceOp op, long i, DType t) {
        double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : op == ReduceOp.MIN ? Double.POSITIVE_INFINITY : 0;
        for (int r = 0; r < size; r++) {
            double x = value(r, i, t);
            acc = switch (op) {
                case SUM, AVERAGE -> acc + x;
                case MAX -> Math.max(acc, x);
                case MIN -> Math.min(acc, x);
            };
        }
        return op == ReduceOp.AVERAGE ? acc / size : acc;
    }

    /** Tolerance: exact for sums of exact values; AVERAGE may differ by the last bit of the dtype (x * (1/n) vs x / n). */
    private static double tolerance(DType t, double expected) {
        double rel = switch (t) {
            case F64 -> 1e-14;
            case F32 -> 1e-6;
            case F16 -> 1e-3;
            case BF16 -> 8e-3;
            default -> 0;
        };
        return rel * Math.max(1, Math.abs(expected));
    }

    private void expect(String what, double[] got, double[] want, DType t) {
        checks++;
        if (got.length != want.length) {
            failures.add(what + ": " + got.length + " elements, expected " + want.length);
            return;
        }
        for (int i = 0; i < got.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= tolerance(t, want[i]))) {
                failures.add(String.format(Locale.ROOT, "%s: element %d is %s, expected %s", what, i, got[i], want[i]));
                return;
            }
        }
    }

    private void allReduceContiguous(DType t, ReduceOp op) {
        try (NDArray a = filled(rank, t, N)) {
            pg.allReduce(a, op);
            double[] want = new double[N];
            for (int i = 0; i < N; i++) want[i] = reduce(op, i, t);
            expect("allReduce " + op + " " + t + " [" + N + "]", a.toDoubleArray(), want, t);
        }
    }

    /** A step-2 view: its elements are reduced, the ones between them must not move. */
    private void allReduceStrided(DType t) {
        try (NDArray base = filled(rank, t, 2 * N); NDArray view = base.slice(0, 0, 2 * N, 2)) {
            pg.allReduce(view, ReduceOp.SUM);
            double[] want = new double[2 * N];
            for (int j = 0; j < 2 * N; j++) want[j] = j % 2 == 0 ? reduce(ReduceOp.SUM, j, t) : value(rank, j, t);
            expect("allReduce SUM " + t + " of a step-2 view", base.toDoubleArray(), want, t);
        }
    }

    /** A transposed view ([13, 7] over a [7, 13] array). */
    private void allReduceTransposed(DType t) {
        try (NDArray base = filled(rank, t, 7, 13); NDArray view = base.t()) {
            pg.allReduce(view, ReduceOp.MAX);
            double[] want = new double[7 * 13];
            for (int j = 0; j < want.length; j++) want[j] = reduce(ReduceOp.MAX, j, t);
            expect("allReduce MAX " + t + " of a transposed view", base.toDoubleArray(), want, t);
        }
    }

    private void broadcastStrided(DType t) {
        int root = size - 1;
        try (NDArray base = filled(rank, t, 2 * 37 + 1); NDArray view = base.slice(0, 1, 2 * 37 + 1, 2)) {
            pg.broadcast(view, root);
            double[] want = new double[2 * 37 + 1];
            for (int j = 0; j < want.length; j++) want[j] = value(j % 2 == 1 ? root : rank, j, t);
            expect("broadcast " + t + " from rank " + root + " into a step-2 view", base.toDoubleArray(), want, t);
        }
    }

    private void allGather(DType t) {
        // input: the transpose of a [5, 3] array, so a non-contiguous [3, 5]
        try (NDArray src = filled(rank, t, 5, 3); NDArray input = src.t(); NDArray out = NDArray.zeros(t, input.device(), size, 3, 5)) {
            pg.allGather(out, input);
            double[] want = new double[size * 15];
            for (int r = 0; r < size; r++) {
                for (int i = 0; i < 3; i++) for (int j = 0; j < 5; j++) want[r * 15 + i * 5 + j] = value(r, j * 3 + i, t);
            }
            expect("allGather " + t + " of a transposed [3, 5]", out.toDoubleArray(), want, t);
        }
    }

    private void reduceScatter(DType t, ReduceOp op) {
        int m = 37;
        try (NDArray input = filled(rank, t, size, m); NDArray out = NDArray.zeros(t, input.device(), m)) {
            pg.reduceScatter(out, input, op);
            double[] want = new double[m];
            for (int i = 0; i < m; i++) want[i] = reduce(op, (long) rank * m + i, t);
            expect("reduceScatter " + op + " " + t + " [" + size + ", " + m + "]", out.toDoubleArray(), want, t);
        }
    }

    /** Several async all-reduces in flight at once, awaited after: all complete, each with its own result. */
    private void asyncInFlight() {
        NDArray[] arrays = new NDArray[3];
        Work[] works = new Work[3];
        for (int k = 0; k < 3; k++) {
            arrays[k] = filled(rank, DType.F32, 100 + k);
            arrays[k].mulInPlace(k + 1);
            works[k] = pg.allReduceAsync(arrays[k], ReduceOp.SUM);
        }
        for (int k = 0; k < 3; k++) {
            works[k].await(Duration.ofSeconds(60));
            checks++;
            if (!works[k].isCompleted()) failures.add("async allReduce " + k + ": await returned but isCompleted() is false");
            double[] want = new double[100 + k];
            for (int i = 0; i < want.length; i++) want[i] = (k + 1) * reduce(ReduceOp.SUM, i, DType.F32);
            expect("async allReduce " + k, arrays[k].toDoubleArray(), want, DType.F32);
            arrays[k].close();
        }
    }

    /**
     * Overlap: rank 0 enters late; on the others allReduceAsync returns at once with the work pending (the caller
     * could compute meanwhile), and await then completes it.
     */
    private void asyncReturnsBeforeCompletion() throws InterruptedException {
        pg.barrier();
        try (NDArray a = filled(rank, DType.F32, N)) {
            if (rank == 0) Thread.sleep(800);
            long t0 = System.nanoTime();
            Work w = pg.allReduceAsync(a, ReduceOp.SUM);
            long callMillis = (System.nanoTime() - t0) / 1_000_000;
            boolean pendingAfterCall = !w.isCompleted();
            w.await(Duration.ofSeconds(60));
            if (rank != 0) {
                checks++;
                if (callMillis > 400 || !pendingAfterCall) {
                    failures.add("allReduceAsync blocked: the call took " + callMillis + " ms and the work was "
                            + (pendingAfterCall ? "pending" : "already complete") + " while rank 0 had not joined yet");
                }
            }
            checks++;
            if (!w.isCompleted()) failures.add("allReduceAsync: not completed after await");
            double[] want = new double[N];
            for (int i = 0; i < N; i++) want[i] = reduce(ReduceOp.SUM, i, DType.F32);
            expect("async allReduce with a late rank 0", a.toDoubleArray(), want, DType.F32);
        }
    }

    /**
     * The binding's non-blocking path as it is, on the main thread while the group's communication thread is idle
     * (MPI_THREAD_MULTIPLE): MPI_Iallreduce, MPI_Test until done (bounded), MPI_Wait on a second request; and
     * MPI_Error_string's text for MPI_ERR_ROOT.
     */
    private void rawNonBlockingBinding() throws InterruptedException {
        pg.barrier();
        io.jtensor.bindings.mpi.MpiHandles h = io.jtensor.bindings.mpi.Mpi.handles();
        try (NDArray a = filled(rank, DType.F64, 33); NDArray b = filled(rank, DType.F64, 33)) {
            var req = io.jtensor.bindings.mpi.Mpi.iallreduce(h.inPlace(), a.dataAddress(), 33, h.doubleType(), h.opSum(), h.commWorld());
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!io.jtensor.bindings.mpi.Mpi.test(req)) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("MPI_Test: the Iallreduce did not complete in 30 s");
                Thread.sleep(1);
            }
            var req2 = io.jtensor.bindings.mpi.Mpi.iallreduce(h.inPlace(), b.dataAddress(), 33, h.doubleType(), h.opMax(), h.commWorld());
            io.jtensor.bindings.mpi.Mpi.waitFor(req2);
            double[] sum = new double[33], max = new double[33];
            for (int i = 0; i < 33; i++) {
                sum[i] = reduce(ReduceOp.SUM, i, DType.F64);
                max[i] = reduce(ReduceOp.MAX, i, DType.F64);
            }
            expect("MPI_Iallreduce + MPI_Test", a.toDoubleArray(), sum, DType.F64);
            expect("MPI_Iallreduce + MPI_Wait", b.toDoubleArray(), max, DType.F64);
        }
        checks++;
        String text = io.jtensor.bindings.mpi.Mpi.errorString(8);
        if (text == null || !text.contains("MPI_ERR_ROOT")) failures.add("MPI_Error_string(8) = " + text + ", expected MPI_ERR_ROOT's text");
    }

    private void badInputFailsLocally() {
        try (NDArray ints = NDArray.zeros(DType.I32, io.jtensor.Device.cpu(), 4); NDArray f = NDArray.zeros(4)) {
            expectThrows("AVERAGE on I32", () -> pg.allReduce(ints, ReduceOp.AVERAGE), "allReduce: AVERAGE needs a floating dtype");
            expectThrows("root out of range", () -> pg.broadcast(f, size), "broadcast: root must be in 0.." + (size - 1));
            try (NDArray wrong = NDArray.zeros(DType.F32, io.jtensor.Device.cpu(), size + 1, 4)) {
                expectThrows("allGather out shape", () -> pg.allGather(wrong, f), "allGather: expected out of shape [" + size + ", 4]");
            }
        }
    }

    private void expectThrows(String what, Runnable r, String messageStart) {
        checks++;
        try {
            r.run();
            failures.add(what + ": no exception");
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().startsWith(messageStart)) failures.add(what + ": message '" + e.getMessage() + "' does not start with '" + messageStart + "'");
        }
    }

    private void runAll() throws InterruptedException {
        for (DType t : FLOATS) {
            for (ReduceOp op : ReduceOp.values()) allReduceContiguous(t, op);
            allReduceStrided(t);
            allReduceTransposed(t);
            broadcastStrided(t);
            allGather(t);
            reduceScatter(t, ReduceOp.SUM);
            reduceScatter(t, ReduceOp.AVERAGE);
        }
        for (DType t : INTS) {
            for (ReduceOp op : List.of(ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN)) allReduceContiguous(t, op);
            reduceScatter(t, ReduceOp.MAX);
            allGather(t);
        }
        asyncInFlight();
        asyncReturnsBeforeCompletion();
        rawNonBlockingBinding();
        badInputFailsLocally();
        pg.barrier();
    }

    public static void main(String[] args) throws InterruptedException {
        ProcessGroup pg = ProcessGroup.init("mpi");
        MpiCollectivesCheck c = new MpiCollectivesCheck(pg);
        try {
            c.runAll();
        } catch (RuntimeException e) {
            c.failures.add("unexpected " + e + " at " + Arrays.toString(Arrays.copyOf(e.getStackTrace(), 6)));
        }
        String level = pg instanceof MpiProcessGroup m ? io.jtensor.bindings.mpi.Mpi.threadLevelName(m.threadLevel()) : "?";
        if (c.failures.isEmpty()) {
            System.out.println("rank " + c.rank + ": " + c.checks + " checks passed (" + level + ", size " + c.size + ")");
        } else {
            for (String f : c.failures) System.out.println("rank " + c.rank + " FAILED: " + f);
        }
        System.out.flush();
        pg.close();
        System.exit(c.failures.isEmpty() ? 0 : 1);
    }
}
