package io.jtensor.distributed;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup.ReduceOp;

/** One of two ranks of NcclProcessGroupTest.twoRanksOnOneGpu: an all-reduce and a broadcast against their definitions. */
public final class NcclPairCheck {
    public static void main(String[] args) {
        try (ProcessGroup pg = ProcessGroup.init("nccl")) {
            Device d = Device.cuda(pg.localRank());
            int size = pg.size();
            try (NDArray host = MpiCollectivesCheck.filled(pg.rank(), DType.F32, 1001); NDArray a = host.to(d)) {
                pg.allReduce(a, ReduceOp.SUM);
                double[] got = a.toDoubleArray();
                for (int i = 0; i < got.length; i++) {
                    double want = 0;
                    for (int r = 0; r < size; r++) want += MpiCollectivesCheck.value(r, i, DType.F32);
                    if (Math.abs(got[i] - want) > 1e-5) throw new AssertionError("allReduce element " + i + ": " + got[i] + " != " + want);
                }
            }
            try (NDArray host = MpiCollectivesCheck.filled(pg.rank(), DType.BF16, 77); NDArray a = host.to(d)) {
                pg.broadcast(a, 1);
                double[] got = a.toDoubleArray();
                for (int i = 0; i < got.length; i++) {
                    if (got[i] != MpiCollectivesCheck.value(1, i, DType.BF16)) throw new AssertionError("broadcast element " + i);
                }
            }
            pg.barrier();
            System.out.println("nccl pair ok: " + pg);
        }
        System.exit(0);
    }
}
