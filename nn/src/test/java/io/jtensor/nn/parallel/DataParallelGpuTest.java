package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.ParallelTesting.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.backend.cuda.CudaBackend;
import io.jtensor.backend.cuda.CudaStream;
import io.jtensor.backend.cuda.CudaStreams;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.MLP;
import io.jtensor.nn.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DataParallel on logical CUDA devices of one GPU: run in a JVM started with -Djtensor.cuda.logicalDevices=4;
 * skipped, saying why, elsewhere. The same equivalence as on CPU devices (F32 here, so a looser tolerance), and
 * every replica queuing its kernels on its own device's stream, the one the caller uses for that device.
 */
class DataParallelGpuTest {
    private static List<Device> cudaDevices(int n) {
        assumeTrue(Backends.cudaAvailable(), () -> "CUDA is not available: " + Backends.cudaUnavailableReason());
        assumeTrue(Backends.cuda().deviceCount() >= n, () -> "needs " + n + " CUDA devices (-D" + CudaBackend.LOGICAL_DEVICES_PROPERTY + "="
                + n + " maps them onto one GPU); this JVM has " + Backends.cuda().deviceCount());
        List<Device> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(Device.cuda(i));
        return out;
    }

    private static List<Double> train(Module m, List<Device> devices, boolean parallelCriterion, int steps) {
        DataParallel dp = devices == null ? null : parallelCriterion ? new DataParallelModel(m, devices) : new DataParallel(m, devices);
        DataParallelCriterion crit = devices == null ? null : new DataParallelCriterion(new CrossEntropyLoss(), devices);
        CrossEntropyLoss ce = new CrossEntropyLoss();
        SGD opt = new SGD(m.parameters(), 0.1, 0.9);
        Device home = m.device();
        List<Double> losses = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            try (MemoryScope scope = MemoryScope.open()) {
                long n = s == steps - 1 ? 33 : 32;
                Tensor x = floats(s, home, n, 20), y = ints(10 + s, 6, home, n);
                Tensor l = dp == null ? ce.forward(m.forward(x), y)
                        : parallelCriterion ? crit.forward(((DataParallelModel) dp).forwardAll(x), y) : ce.forward(dp.forward(x), y);
                opt.zeroGrad();
                l.backward();
                opt.step();
                losses.add(l.item());
            }
        }
        return losses;
    }

    @ParameterizedTest(name = "{0} logical CUDA devices")
    @ValueSource(ints = {2, 4})
    void dataParallelAndTheParallelCriterionMatchThePlainModule(int n) {
        List<Device> devices = cudaDevices(n);
        for (boolean pc : new boolean[] {false, true}) {
            Generator.manualSeed(3);
            Module plain = new MLP(20, 32, 6).to(devices.get(0));
            Module wrapped = copyOf(plain, new MLP(20, 32, 6)).to(devices.get(0));
            List<Double> ref = train(plain, null, false, 4), got = train(wrapped, devices, pc, 4);
            for (int s = 0; s < ref.size(); s++) assertEquals(ref.get(s), got.get(s), 1e-4, "loss at step " + s + (pc ? " (parallel criterion)" : ""));
            assertAllClose(parameterValues(plain), parameterValues(wrapped), 1e-4, "parameter after 4 steps" + (pc ? " (parallel criterion)" : ""));
        }
    }

    /** Records the stream each replica's thread would queue on. */
    static final class StreamProbe extends Module {
        final Map<Device, CudaStream> seen = new ConcurrentHashMap<>();
        final Map<Device, String> threads = new ConcurrentHashMap<>();

        @Override public Tensor forward(Tensor x) {
            seen.put(x.device(), CudaStreams.current(x.device()));
            threads.put(x.device(), Thread.currentThread().getName());
            return x.mul(2);
        }
    }

    @ParameterizedTest(name = "{0} logical CUDA devices")
    @ValueSource(ints = {4})
    void replicasQueueOnTheirOwnDevicesStreams(int n) {
        List<Device> devices = cudaDevices(n);
        StreamProbe probe = new StreamProbe();
        DataParallel dp = new DataParallel(probe, devices);
        try (MemoryScope s = MemoryScope.open()) {
            Tensor y = dp.forward(floats(1, devices.get(0), 8, 4));
            assertEquals(devices.get(0), y.device());
        }
        assertEquals(n, probe.seen.size(), "every device ran a replica");
        assertEquals(n, probe.seen.values().stream().distinct().count(), "a stream per device: " + probe.seen);
        assertEquals(n, probe.threads.values().stream().distinct().count(), "a thread per device: " + probe.threads);
        for (Device d : devices) assertSame(CudaStreams.current(d), probe.seen.get(d), "the replica on " + d + " used the caller's stream for it");
    }
}
