package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.ParallelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.SGD;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Many training steps through DataParallel, and through DataParallelModel + DataParallelCriterion, one memory scope
 * per step: from the second step on, every device holds the same bytes after each step (replicas, scattered
 * chunks, gathered outputs and the replica threads' arrays are all released). Devices of this class's own, so that
 * the collector freeing other tests' garbage cannot move the counts.
 */
class DataParallelMemoryTest {
    private static long[] allocated(List<Device> ds) {
        long[] out = new long[ds.size()];
        for (int i = 0; i < ds.size(); i++) out[i] = Backends.of(ds.get(i)).allocator().stats(ds.get(i)).allocated();
        return out;
    }

    private static void assertFlat(List<Device> devices, boolean parallelCriterion) {
        Generator.manualSeed(5);
        Module model = LeNet5.withBatchNorm().to(devices.get(0));
        DataParallel dp = parallelCriterion ? new DataParallelModel(model, devices) : new DataParallel(model, devices);
        DataParallelCriterion crit = new DataParallelCriterion(new CrossEntropyLoss(), devices);
        CrossEntropyLoss ce = new CrossEntropyLoss();
        SGD opt = new SGD(dp.parameters(), 0.05, 0.9);
        long[] afterSecond = null;
        for (int step = 0; step < 12; step++) {
            try (MemoryScope s = MemoryScope.open()) {
                long n = step % 3 == 2 ? 14 : 16; // an uneven batch every third step (4, 4, 4, 2)
                Tensor x = floats(step, devices.get(0), n, 1, 28, 28);
                Tensor y = ints(50 + step, 10, devices.get(0), n);
                Tensor l = parallelCriterion ? crit.forward(((DataParallelModel) dp).forwardAll(x), y) : ce.forward(dp.forward(x), y);
                opt.zeroGrad();
                l.backward();
                opt.step();
            }
            long[] now = allocated(devices);
            if (step == 2) afterSecond = now; // momentum buffers and gradients exist from the first step
            if (step > 2) assertArrayEquals(afterSecond, now, "bytes per device " + devices + " after step " + step + " vs after step 2: "
                    + Arrays.toString(now) + " vs " + Arrays.toString(afterSecond));
        }
        long[] end = allocated(devices);
        for (int i = 1; i < devices.size(); i++) assertEquals(0, end[i], devices.get(i) + " holds nothing between steps");
        for (var p : model.parameters()) p.close();
        model.namedBuffers().values().forEach(b -> b.close());
        opt.close();
    }

    @Test void dataParallelStepsStayFlatOnEveryDevice() { assertFlat(cpus(40, 4), false); }

    @Test void parallelCriterionStepsStayFlatOnEveryDevice() { assertFlat(cpus(44, 4), true); }
}
