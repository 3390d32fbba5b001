package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.ParallelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Loss;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.models.MLP;
import io.jtensor.nn.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DataParallel (gathered output, loss on device 0) and DataParallelModel + DataParallelCriterion (loss on every
 * device) on 2 and 4 logical CPU devices against the plain module on one device: the same loss, the same
 * gradients at every step, and after SGD steps the same parameters (and batch-norm buffers), over batches whose
 * last one does not split evenly, in F64 so that the tolerance leaves only rounding. The reference is the whole batch on one device; with batch norm in training mode
 * it is the module on each chunk in turn with only the first chunk's running-statistics update kept, which is what
 * PyTorch's DataParallel computes (each replica normalises its own chunk).
 */
class DataParallelEquivalenceTest {
    private static final Device HOME = Device.cpu(0);

    enum Mode { GATHER, PARALLEL_CRITERION }

    /** One training run: the loss and gradients of every step, and the parameters and buffers at the end. */
    record Run(List<Double> losses, List<Map<String, double[]>> grads, Map<String, double[]> params, Map<String, double[]> buffers) {}

    private static Run reference(Module m, Loss loss, List<Tensor[]> batches, int perChunkDevices) {
        SGD opt = new SGD(m.parameters(), 0.1, 0.9);
        List<Double> losses = new ArrayList<>();
        List<Map<String, double[]>> grads = new ArrayList<>();
        for (Tensor[] b : batches) {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor out = perChunkDevices > 0 ? perChunkOutputs(m, b[0], perChunkDevices) : m.forward(b[0]);
                Tensor l = loss.forward(out, b[1]);
                opt.zeroGrad();
                l.backward();
                losses.add(l.item());
                grads.add(gradients(m));
                opt.step();
            }
        }
        return new Run(losses, grads, parameterValues(m), bufferValues(m));
    }

    private static Run parallel(Module m, Loss loss, List<Tensor[]> batches, List<Device> devices, Mode mode) {
        DataParallel dp = mode == Mode.GATHER ? new DataParallel(m, devices) : new DataParallelModel(m, devices);
        DataParallelCriterion crit = new DataParallelCriterion(loss, devices);
        SGD opt = new SGD(dp.parameters(), 0.1, 0.9);
        List<Double> losses = new ArrayList<>();
        List<Map<String, double[]>> grads = new ArrayList<>();
        for (Tensor[] b : batches) {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor l;
                if (mode == Mode.GATHER) {
                    Tensor out = dp.forward(b[0]);
                    assertEquals(HOME, out.device(), "gathered on the first device");
                    l = loss.forward(out, b[1]);
                } else {
                    List<Tensor> outs = ((DataParallelModel) dp).forwardAll(b[0]);
                    int expected = Comm.chunkSizes(b[0].size(0), devices.size()).length;
                    assertEquals(expected, outs.size(), "one output per chunk");
                    for (int i = 0; i < outs.size(); i++) assertEquals(devices.get(i), outs.get(i).device(), "output " + i + " stays on its device");
                    l = crit.forward(outs, b[1]);
                }
                assertEquals(HOME, l.device());
                opt.zeroGrad();
                l.backward();
                losses.add(l.item());
                grads.add(gradients(m));
                for (Tensor p : m.parameters()) assertEquals(HOME, p.grad().device(), "gradients land on the wrapped module's device");
                opt.step();
            }
        }
        return new Run(losses, grads, parameterValues(m), bufferValues(m));
    }

    private static void compare(Supplier<Module> make, Supplier<Loss> loss, List<Tensor[]> batches, int devices, Mode mode,
                                boolean perChunk, double tol) {
        // F64, so that a real difference stands out of the rounding (a chunk of 2 under batch norm amplifies F32's).
        Module plain = make.get().to(HOME).to(DType.F64);
        Module wrapped = copyOf(plain, make.get().to(DType.F64)).to(HOME);
        Run ref = reference(plain, loss.get(), batches, perChunk ? devices : 0);
        Run got = parallel(wrapped, loss.get(), batches, cpus(0, devices), mode);
        for (int step = 0; step < batches.size(); step++) {
            assertEquals(ref.losses().get(step), got.losses().get(step), tol * Math.max(1, Math.abs(ref.losses().get(step))), "loss at step " + step);
            assertAllClose(ref.grads().get(step), got.grads().get(step), tol, "gradient at step " + step);
        }
        assertAllClose(ref.params(), got.params(), tol, "parameter after " + batches.size() + " steps");
        assertAllClose(ref.buffers(), got.buffers(), tol, "buffer after " + batches.size() + " steps");
    }

    /** Batches of the given sizes: inputs from {@code input}, class targets in [0, classes). */
    private static List<Tensor[]> batches(long[] sizes, java.util.function.BiFunction<Long, Long, Tensor> input, long classes, long... targetTail) {
        List<Tensor[]> out = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            long[] tshape = new long[targetTail.length + 1];
            tshape[0] = sizes[i];
            System.arraycopy(targetTail, 0, tshape, 1, targetTail.length);
            Tensor x0 = input.apply(100L + i, sizes[i]);
            Tensor x = x0.dtype() == DType.F32 ? Tensor.wrap(x0.data().to(DType.F64)) : x0;
            Tensor y = ints(200L + i, classes, HOME, tshape);
            MemoryScope.untrack(x.data());
            MemoryScope.untrack(y.data());
            out.add(new Tensor[] {x, y});
        }
        return out;
    }

    @ParameterizedTest(name = "{0} devices, {1}")
    @CsvSource({"2, GATHER", "2, PARALLEL_CRITERION", "4, GATHER", "4, PARALLEL_CRITERION"})
    void mlpMatchesThePlainModuleOnTheWholeBatch(int devices, Mode mode) {
        // 16, 16, then 10 (over 4 devices: 3, 3, 3, 1).
        List<Tensor[]> data = batches(new long[] {16, 16, 10}, (seed, n) -> floats(seed, HOME, n, 12), 5);
        Generator.manualSeed(1);
        compare(() -> new MLP(12, 16, 5), CrossEntropyLoss::new, data, devices, mode, false, 1e-10);
    }

    @ParameterizedTest(name = "{0} devices, {1}")
    @CsvSource({"2, GATHER", "2, PARALLEL_CRITERION", "4, GATHER", "4, PARALLEL_CRITERION"})
    void lenet5WithBatchNormMatchesPerReplicaStatisticsAndKeepsReplicaZerosRunningStats(int devices, Mode mode) {
        // 16, then 14 (over 4 devices: 4, 4, 4, 2; over 2: 7, 7).
        List<Tensor[]> data = batches(new long[] {16, 14}, (seed, n) -> floats(seed, HOME, n, 1, 28, 28), 10);
        Generator.manualSeed(2);
        compare(LeNet5::withBatchNorm, CrossEntropyLoss::new, data, devices, mode, true, 1e-10);
    }

    @ParameterizedTest(name = "{0} devices, {1}")
    @CsvSource({"2, GATHER", "2, PARALLEL_CRITERION", "4, GATHER", "4, PARALLEL_CRITERION"})
    void bertStyleEncoderWithMaskedLmHeadMatchesThePlainModule(int devices, Mode mode) {
        // 8, then 7 (over 4 devices: 2, 2, 2, 1).
        List<Tensor[]> data = batches(new long[] {8, 7}, (seed, n) -> ints(seed, 40, HOME, n, 6), 40, 6);
        Generator g = new Generator(3);
        compare(() -> tinyMaskedLm(40, 6, g), TokenCrossEntropy::new, data, devices, mode, false, 1e-10);
    }

    @ParameterizedTest(name = "{0} devices, {1}")
    @CsvSource({"3, GATHER", "3, PARALLEL_CRITERION"})
    void gruRowReaderWhoseWeightsSitInArraysMatchesThePlainModule(int devices, Mode mode) {
        // RecurrentBase keeps its weights in Tensor[][] fields: the replicas must see theirs there too.
        List<Tensor[]> data = batches(new long[] {9, 7}, (seed, n) -> floats(seed, HOME, n, 5, 6), 4);
        Generator.manualSeed(4);
        compare(() -> new io.jtensor.nn.models.RowReader(io.jtensor.nn.models.RowReader.CellType.GRU, 6, 8, 2, true, 4),
                CrossEntropyLoss::new, data, devices, mode, false, 1e-10);
    }
}
