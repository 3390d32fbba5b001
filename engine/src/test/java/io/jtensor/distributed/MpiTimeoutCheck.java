package io.jtensor.distributed;

import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup.ReduceOp;

/**
 * Under mpirun with a short {@code -Djtensor.distributed.timeout}: rank 1 skips the all-reduce that rank 0 calls
 * (and sleeps far longer than the test allows). Rank 0 must fail with the timeout error, print it, and its close()
 * must end the whole job, rank 1 included.
 */
public final class MpiTimeoutCheck {
    public static void main(String[] args) throws InterruptedException {
        ProcessGroup pg = ProcessGroup.init("mpi");
        pg.barrier();
        if (pg.rank() == 1) {
            System.out.println("rank 1: skipping the allReduce");
            System.out.flush();
            Thread.sleep(120_000);
            System.out.println("rank 1: still alive after 120 s (the abort did not reach it)");
            System.exit(0);
        }
        try (NDArray a = NDArray.ones(8)) {
            pg.allReduce(a, ReduceOp.SUM);
            System.out.println("rank " + pg.rank() + ": the allReduce completed without rank 1 (wrong)");
        } catch (DistributedTimeoutException e) {
            System.out.println("rank " + pg.rank() + " caught: " + e.getMessage());
            System.out.flush();
        }
        try (NDArray b = NDArray.ones(8)) {
            pg.allReduce(b, ReduceOp.SUM);
            System.out.println("rank " + pg.rank() + ": a collective after the timeout ran (wrong)");
        } catch (IllegalStateException e) {
            System.out.println("rank " + pg.rank() + " later call: " + e.getMessage());
            System.out.flush();
        }
        pg.close(); // MPI_Abort: ends every rank
        System.out.println("rank " + pg.rank() + ": close() returned after a timeout (wrong)");
        System.exit(0);
    }
}
