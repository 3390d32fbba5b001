package io.jtensor.nn.parallel;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.BertClassifier;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.SGD;
import java.util.Map;

/**
 * A fixed training problem that a test JVM (the whole batch, one process) and the ranks of an mpirun job (each its
 * shard) can both build from nothing but its name: the model from a seed, the batch from a seed, three SGD steps.
 */
enum DdpScenario {
    /** LeNet-5 with batch norm, converted to SyncBatchNorm on the ranks. */
    LENET_SYNC_BN,
    /** A two-layer BERT-style encoder over 6 steps of 8 features. */
    BERT;

    static final int BATCH = 8;
    static final int STEPS = 3;

    Module model() {
        Generator.manualSeed(17);
        return switch (this) {
            case LENET_SYNC_BN -> new LeNet5(1, 16, 16, 10, true);
            case BERT -> new BertClassifier(BertConfig.smallForFeatures(8, 6, 4).withLayers(2, 2, 16, 32).withDropout(0), new Generator(7));
        };
    }

    NDArray inputs() {
        return switch (this) {
            case LENET_SYNC_BN -> DdpTesting.input(21, BATCH, 1, 16, 16);
            case BERT -> DdpTesting.input(22, BATCH, 6, 8);
        };
    }

    NDArray labels() { return DdpTesting.labels(23, BATCH, this == BERT ? 4 : 10); }

    /** Rank {@code rank} of {@code group} (or the whole batch when group is null) trains the model; returns its state. */
    Map<String, double[]> train(Module m, ProcessGroup group, DistributedDataParallel[] ddpOut) {
        Device dev = m.device();
        Module trained = m;
        long n = BATCH, start = 0;
        if (group != null) {
            if (this == LENET_SYNC_BN) SyncBatchNorm.convert(m, group);
            DistributedDataParallel ddp = DistributedDataParallel.builder(m, group).firstBucketBytes(4096).bucketCapMb(16.0 / 1024).build();
            if (ddpOut != null) ddpOut[0] = ddp;
            trained = ddp;
            n = BATCH / group.size();
            start = group.rank() * n;
        }
        SGD opt = new SGD(trained.parameters(), 0.1, 0.9);
        try (NDArray x = inputs(); NDArray y = labels()) {
            for (int s = 0; s < STEPS; s++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor out = trained.forward(DdpTesting.rows(x, start, n, dev));
                    opt.zeroGrad();
                    out.crossEntropy(DdpTesting.rows(y, start, n, dev)).backward();
                    opt.step();
                }
            }
        }
        return DdpTesting.snapshot(m);
    }
}
