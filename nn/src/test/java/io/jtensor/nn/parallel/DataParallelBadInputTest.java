package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.ParallelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.Device;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Reduction;
import io.jtensor.nn.Sequential;
import io.jtensor.nn.ReLU;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every misuse fails at once, naming the class, what it expected and what came. */
class DataParallelBadInputTest {
    private static final Device D0 = Device.cpu(0), D1 = Device.cpu(1), D2 = Device.cpu(2);

    private static void assertRejects(Executable e, String... parts) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String p : parts) assertTrue(ex.getMessage().contains(p), "message '" + ex.getMessage() + "' should contain '" + p + "'");
    }

    @Test void deviceListsMustBeNonEmptyDistinctAndOfOneKind() {
        Linear m = new Linear(3, 2);
        assertRejects(() -> new DataParallel(m, List.of()), "DataParallel", "at least one device", "empty list");
        assertRejects(() -> new DataParallel(m, null), "DataParallel", "at least one device");
        assertRejects(() -> new DataParallel(m, List.of(D0, D1, D0)), "DataParallel", "distinct", "cpu:0 twice");
        assertRejects(() -> new DataParallelModel(m, List.of(D0, new Device(Device.Type.CUDA, 1))), "DataParallelModel", "one kind", "cuda:1");
        assertRejects(() -> new DataParallelCriterion(new CrossEntropyLoss(), List.of()), "DataParallelCriterion", "at least one device");
        assertRejects(() -> new DataParallel(null, List.of(D0)), "DataParallel", "module is null");
    }

    @Test void theModuleMustLiveOnTheFirstDevice() {
        Sequential m = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2));
        m.to(D1);
        assertRejects(() -> new DataParallel(m, List.of(D0, D1)), "DataParallel", "on cpu:0 (the first device)", "parameter '0.weight' is on cpu:1");
        DataParallel dp = new DataParallel(m, List.of(D1, D0));
        m.to(D2);
        assertRejects(() -> dp.forward(floats(1, D1, 4, 3)), "DataParallel", "on cpu:1 (the first device)", "is on cpu:2");
    }

    @Test void aBatchSmallerThanTheDeviceCountUsesFewerDevicesAsPyTorchDoes() {
        Linear m = new Linear(3, 2);
        DataParallelModel dp = new DataParallelModel(m, cpus(0, 4));
        Tensor x = floats(2, D0, 2, 3);
        List<Tensor> outs = dp.forwardAll(x);
        assertEquals(2, outs.size(), "two items: two replicas");
        assertEquals(List.of(D0, D1), List.of(outs.get(0).device(), outs.get(1).device()));
        Tensor one = new DataParallel(m, cpus(0, 4)).forward(floats(3, D0, 1, 3));
        assertArrayEquals(new long[] {1, 2}, one.shape(), "one item: the module itself");
        assertRejects(() -> new DataParallel(m, cpus(0, 2)).forward(Tensor.scalar(1)), "DataParallel.forward", "batched along dim 0", "scalar");
    }

    @Test void theCriterionChecksOutputsAgainstItsDevicesAndTheTargets() {
        DataParallelCriterion crit = new DataParallelCriterion(new CrossEntropyLoss(), List.of(D0, D1));
        Tensor a = floats(4, D0, 3, 5), b = floats(5, D1, 2, 5), misplaced = floats(6, D2, 2, 5);
        Tensor y = ints(7, 5, D0, 5);
        assertRejects(() -> crit.forward(List.of(a, misplaced), y), "DataParallelCriterion", "output 1 on cpu:1", "got one on cpu:2");
        assertRejects(() -> crit.forward(List.of(b, a), y), "output 0 on cpu:0", "on cpu:1");
        assertRejects(() -> crit.forward(List.of(a, b, a), y), "at most 2 outputs", "got 3");
        assertRejects(() -> crit.forward(List.of(), y), "at least one output");
        assertRejects(() -> crit.forward(List.of(a, b), ints(8, 5, D0, 6)), "targets with 5 items", "[3, 2]", "[6]");
        Tensor ok = crit.forward(List.of(a, b), y);
        assertEquals(D0, ok.device(), "the combined loss is on the first output's device");
    }

    @Test void theCriterionNeedsAReducedLoss() {
        assertRejects(() -> new DataParallelCriterion(new CrossEntropyLoss(Reduction.NONE, -100, 0), List.of(D0, D1)),
                "DataParallelCriterion", "mean or sum", "reduction none");
    }

    @Test void nestedDataParallelFailsClearly() {
        Linear inner = new Linear(3, 2);
        DataParallel outer = new DataParallel(new DataParallel(inner, List.of(D0, D1)), List.of(D0, D2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> outer.forward(floats(10, D0, 4, 3)));
        assertTrue(e.getMessage().contains("nested data parallelism is not supported"), e.getMessage());
    }
}
