package io.jtensor.nn.parallel;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A process group whose ranks are threads of one JVM, for testing what sits above {@link ProcessGroup} (the DDP
 * Reducer, SyncBatchNorm) quickly and deterministically. It keeps the contract as a real backend does: each rank's
 * collectives run in the order that rank issued them, on a communication thread of its own (so async work really
 * overlaps the caller); the n-th collective of every rank meets the n-th of the others; a rank whose partners do not
 * arrive fails after the world's timeout with an error naming the collective, the rank, the wait and the missing
 * ranks; mismatched collectives fail on every rank. Reductions run in double precision in rank order, so every rank
 * gets bit-identical results. Every collective a rank issues is logged ({@link #issued()}) for order checks.
 */
final class ThreadProcessGroup implements ProcessGroup {
    /** The ranks of one test job. */
    static final class World implements AutoCloseable {
        final int size;
        final Duration timeout;
        private final Map<Long, Round> rounds = new ConcurrentHashMap<>();
        private final List<ThreadProcessGroup> groups = new ArrayList<>();

        World(int size, Duration timeout) {
            this.size = size;
            this.timeout = timeout;
            for (int r = 0; r < size; r++) groups.add(new ThreadProcessGroup(this, r));
        }

        ThreadProcessGroup group(int rank) { return groups.get(rank); }

        private Round round(long seq) { return rounds.computeIfAbsent(seq, s -> new Round(size)); }

        @Override public void close() { groups.forEach(ThreadProcessGroup::close); }
    }

    /** One collective as every rank sees it. */
    private static final class Round {
        final String[] signatures;
        final double[][] inputs;
        final CountDownLatch arrived;
        final CountDownLatch departed;

        Round(int size) {
            signatures = new String[size];
            inputs = new double[size][];
            arrived = new CountDownLatch(size);
            departed = new CountDownLatch(size);
        }
    }

    /** Computes a rank's result from every rank's input (indexed by rank). */
    @FunctionalInterface
    private interface Combine {
        double[] apply(double[][] inputs);
    }

    private final World world;
    private final int rank;
    private final ExecutorService comm;
    private long nextSeq;
    private final List<String> issued = Collections.synchronizedList(new ArrayList<>());

    private ThreadProcessGroup(World world, int rank) {
        this.world = world;
        this.rank = rank;
        this.comm = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "comm-rank-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    @Override public int rank() { return rank; }
    @Override public int size() { return world.size; }
    @Override public int localRank() { return rank; }
    @Override public String backend() { return "threads"; }
    @Override public Duration timeout() { return world.timeout; }

    /** "allReduce SUM F32 [3, 4]" for each collective this rank issued, in order. */
    List<String> issued() { return List.copyOf(issued); }

    @Override public Work allReduceAsync(NDArray array, ReduceOp op) {
        if (op == ReduceOp.AVERAGE && !array.dtype().isFloating()) {
            throw new IllegalArgumentException("allReduce: AVERAGE needs a floating dtype, got " + array.dtype());
        }
        return submit("allReduce " + op, array, array, in -> reduce(in, op));
    }

    @Override public Work broadcastAsync(NDArray array, int root) {
        checkRank("broadcast", root);
        return submit("broadcast root " + root, array, array, in -> in[root]);
    }

    @Override public Work allGatherAsync(NDArray out, NDArray input) {
        requireLeading("allGather", out, input);
        return submit("allGather", input, out, in -> {
            int n = in[0].length;
            double[] all = new double[n * in.length];
            for (int r = 0; r < in.length; r++) System.arraycopy(in[r], 0, all, r * n, n);
            return all;
        });
    }

    @Override public Work reduceScatterAsync(NDArray out, NDArray input, ReduceOp op) {
        requireLeading("reduceScatter", input, out);
        return submit("reduceScatter " + op, input, out, in -> {
            double[] all = reduce(in, op);
            return Arrays.copyOfRange(all, rank * all.length / world.size, (rank + 1) * all.length / world.size);
        });
    }

    @Override public void barrier() {
        try (NDArray token = NDArray.zeros(DType.F32, io.jtensor.Device.cpu(), 1)) {
            submit("barrier", token, null, in -> null).await(world.timeout);
        }
    }

    @Override public void close() { comm.shutdownNow(); }

    private void checkRank(String op, int root) {
        if (root < 0 || root >= world.size) throw new IllegalArgumentException(op + ": root " + root + " outside [0, " + world.size + ")");
    }

    private void requireLeading(String op, NDArray big, NDArray small) {
        long[] expected = new long[small.dim() + 1];
        expected[0] = world.size;
        System.arraycopy(small.shape(), 0, expected, 1, small.dim());
        if (!Arrays.equals(big.shape(), expected)) {
            throw new IllegalArgumentException(op + ": expected " + Arrays.toString(expected) + ", got " + Arrays.toString(big.shape()));
        }
    }

    private double[] reduce(double[][] in, ReduceOp op) {
        double[] acc = in[0].clone();
        for (int r = 1; r < in.length; r++) {
            for (int i = 0; i < acc.length; i++) {
                acc[i] = switch (op) {
                    case SUM, AVERAGE -> acc[i] + in[r][i];
                    case MAX -> Math.max(acc[i], in[r][i]);
                    case MIN -> Math.min(acc[i], in[r][i]);
                };
            }
        }
        if (op == ReduceOp.AVERAGE) for (int i = 0; i < acc.length; i++) acc[i] /= in.length;
        return acc;
    }

    private Work submit(String what, NDArray input, NDArray output, Combine combine) {
        String signature = what + " " + input.dtype() + " " + Arrays.toString(input.shape());
        long seq = nextSeq++;
        issued.add(signature);
        Future<?> f = comm.submit(() -> {
            double[] mine = input.toDoubleArray();
            Round round = world.round(seq);
            round.signatures[rank] = signature;
            round.inputs[rank] = mine;
            round.arrived.countDown();
            try {
                if (!round.arrived.await(world.timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    List<Integer> missing = new ArrayList<>();
                    for (int r = 0; r < world.size; r++) if (round.signatures[r] == null) missing.add(r);
                    throw new IllegalStateException(what + " (collective #" + seq + ") on rank " + rank + " timed out after "
                            + world.timeout.toMillis() + " ms waiting for ranks " + missing);
                }
                for (int r = 0; r < world.size; r++) {
                    if (!round.signatures[r].equals(round.signatures[0])) {
                        throw new IllegalStateException("collective #" + seq + " differs between ranks: rank 0 called " + round.signatures[0]
                                + ", rank " + r + " called " + round.signatures[r]);
                    }
                }
                double[] result = combine.apply(round.inputs);
                if (output != null) write(result, output);
            } finally {
                round.departed.countDown();
                if (round.departed.getCount() == 0) world.rounds.remove(seq);
            }
            return null;
        });
        return new FutureWork(f, signature, rank);
    }

    private static void write(double[] values, NDArray out) {
        try (NDArray host = NDArray.of(values, out.shape()); NDArray typed = host.to(out.dtype()); NDArray moved = typed.to(out.device())) {
            out.copyFrom(moved);
        }
    }

    private record FutureWork(Future<?> future, String what, int rank) implements Work {
        @Override public boolean isCompleted() { return future.isDone(); }

        @Override public void await(Duration timeout) {
            try {
                future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new IllegalStateException(what + " on rank " + rank + " timed out after " + timeout.toMillis() + " ms (not completed)");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) throw re;
                throw new IllegalStateException(what + " on rank " + rank + " failed: " + c, c);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(what + " on rank " + rank + " was interrupted");
            }
        }
    }
}
