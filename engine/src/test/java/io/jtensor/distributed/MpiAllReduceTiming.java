package io.jtensor.distributed;

import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup.ReduceOp;
import io.jtensor.distributed.ProcessGroup.Work;
import java.util.Locale;

/**
 * Not a test: times the mpi backend's all-reduce of one DDP-sized bucket (25 MB of F32 by default), synchronous
 * and as 4 async buckets in flight, for bench/RESULTS.md. Run under mpirun (see RESULTS.md for the command).
 */
public final class MpiAllReduceTiming {
    public static void main(String[] args) {
        long bytes = args.length > 0 ? Long.parseLong(args[0]) : 25L << 20;
        int iters = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        try (ProcessGroup pg = ProcessGroup.init("mpi"); NDArray a = NDArray.ones(bytes / 4)) {
            for (int i = 0; i < 3; i++) pg.allReduce(a, ReduceOp.SUM);
            pg.barrier();
            long t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) pg.allReduce(a, ReduceOp.SUM);
            double sync = (System.nanoTime() - t0) / 1e6 / iters;
            NDArray[] parts = new NDArray[4];
            for (int k = 0; k < 4; k++) parts[k] = NDArray.ones(bytes / 16);
            pg.barrier();
            t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) {
                Work[] w = new Work[4];
                for (int k = 0; k < 4; k++) w[k] = pg.allReduceAsync(parts[k], ReduceOp.SUM);
                for (Work x : w) x.await(pg.timeout());
            }
            double async = (System.nanoTime() - t0) / 1e6 / iters;
            for (NDArray p : parts) p.close();
            if (pg.rank() == 0) {
                System.out.printf(Locale.ROOT, "mpi allReduce SUM F32 %.1f MB over %d ranks: %.2f ms (%.2f GB/s algorithm bandwidth); as 4 async quarter buckets: %.2f ms%n",
                        bytes / 1e6, pg.size(), sync, bytes / sync / 1e6, async);
            }
        }
        System.exit(0);
    }
}
