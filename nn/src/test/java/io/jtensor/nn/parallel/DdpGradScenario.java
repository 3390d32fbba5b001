package io.jtensor.nn.parallel;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.memory.MemoryScope;
import java.util.Map;

/**
 * One backward (or two) whose averaged gradients a test JVM can compute alone: the process-level twins of the
 * unused-parameter, findUnusedParameters and noSync tests in {@link DistributedDataParallelTest}, on 2 ranks.
 */
enum DdpGradScenario {
    /** A layer no rank uses, without findUnusedParameters: backward fails naming it. */
    UNUSED_ERROR,
    /** Rank 0 uses "extra", rank 1 does not, "never" nobody: findUnusedParameters. */
    FIND_UNUSED,
    /** Each rank: a micro-batch under noSync, then one synchronised. */
    NO_SYNC;

    static final int RANKS = 2;

    DistributedDataParallelTest.Optional optional() {
        Generator.manualSeed(41);
        return new DistributedDataParallelTest.Optional();
    }

    DistributedDataParallelTest.Branches branches() {
        Generator.manualSeed(42);
        return new DistributedDataParallelTest.Branches();
    }

    /** What one rank of the job computes. */
    Map<String, double[]> rankGrads(ProcessGroup group) {
        int rank = group.rank();
        Device dev = Device.cpu();
        try (NDArray x = DdpTesting.input(51, 8, this == NO_SYNC ? 6 : 5); NDArray y = DdpTesting.labels(52, 8, 3)) {
            if (this == NO_SYNC) {
                var m = branches();
                var ddp = DistributedDataParallel.builder(m, group).firstBucketBytes(256).bucketCapMb(1.0 / 1024).build();
                try (var s = ddp.noSync(); MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(DdpTesting.rows(x, rank * 4L, 2, dev)).crossEntropy(DdpTesting.rows(y, rank * 4L, 2, dev)).backward();
                }
                try (MemoryScope scope = MemoryScope.open()) {
                    ddp.forward(DdpTesting.rows(x, rank * 4L + 2, 2, dev)).crossEntropy(DdpTesting.rows(y, rank * 4L + 2, 2, dev)).backward();
                }
                return DdpTesting.grads(m);
            }
            var m = optional();
            m.useExtra = this == FIND_UNUSED && rank == 0;
            var ddp = DistributedDataParallel.builder(m, group).findUnusedParameters(this == FIND_UNUSED).build();
            try (MemoryScope scope = MemoryScope.open()) {
                ddp.forward(DdpTesting.rows(x, rank * 2L, 2, dev)).sum().backward();
            }
            return DdpTesting.grads(m);
        }
    }

    /** The same in one process: the mean over ranks of each rank's loss. */
    Map<String, double[]> expectedGrads() {
        Device dev = Device.cpu();
        try (NDArray x = DdpTesting.input(51, 8, this == NO_SYNC ? 6 : 5); NDArray y = DdpTesting.labels(52, 8, 3)) {
            if (this == NO_SYNC) {
                var m = branches();
                for (int r = 0; r < RANKS; r++) {
                    for (int k = 0; k < 2; k++) {
                        try (MemoryScope scope = MemoryScope.open()) {
                            long start = r * 4L + k * 2L;
                            m.forward(DdpTesting.rows(x, start, 2, dev)).crossEntropy(DdpTesting.rows(y, start, 2, dev)).mul(1.0 / RANKS).backward();
                        }
                    }
                }
                return DdpTesting.grads(m);
            }
            var m = optional();
            for (int r = 0; r < RANKS; r++) {
                m.useExtra = r == 0;
                try (MemoryScope scope = MemoryScope.open()) {
                    m.forward(DdpTesting.rows(x, r * 2L, 2, dev)).sum().mul(1.0 / RANKS).backward();
                }
            }
            return DdpTesting.grads(m);
        }
    }
}
