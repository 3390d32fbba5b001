package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.ParallelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Module;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The replicas run at the same time, one thread per device, under the caller's grad mode and memory scope. The
 * proof of concurrency is a latch every replica counts down and then waits on: replicas run one after another
 * would leave the first waiting for the others, and its bounded wait fails naming its device.
 */
class DataParallelConcurrencyTest {
    /** Scales its input by a parameter, after every replica has arrived (or fails after the timeout). */
    static final class Rendezvous extends Module {
        private final Tensor scale;
        private final CountDownLatch arrived;
        private final long timeoutMillis;
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        final Set<Boolean> gradModes = ConcurrentHashMap.newKeySet();

        Rendezvous(int replicas, long timeoutMillis) {
            this.scale = registerParameter("scale", NDArray.full(2, DType.F32, Device.cpu(), 1));
            this.arrived = new CountDownLatch(replicas);
            this.timeoutMillis = timeoutMillis;
        }

        @Override public Tensor forward(Tensor x) {
            threads.add(Thread.currentThread().getName());
            gradModes.add(GradMode.isEnabled());
            arrived.countDown();
            try {
                if (!arrived.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("the replica on " + x.device() + " waited " + timeoutMillis + " ms for the other replicas ("
                            + arrived.getCount() + " never arrived): the replicas did not run concurrently");
                }
            } catch (InterruptedException e) {
                throw new AssertionError("the replica on " + x.device() + " was interrupted", e);
            }
            return x.mul(scale);
        }
    }

    @Test void replicasRunConcurrentlyOneThreadPerDevice() {
        List<Device> devices = cpus(0, 4);
        Rendezvous m = new Rendezvous(4, 10_000);
        DataParallel dp = new DataParallel(m, devices);
        Tensor x = floats(1, Device.cpu(0), 8, 3);
        Tensor y = dp.forward(x);
        assertEquals(4, m.threads.size(), "one thread per device: " + m.threads);
        double[] xv = x.toDoubleArray(), yv = y.toDoubleArray();
        double sum = 0;
        for (int i = 0; i < xv.length; i++) {
            assertEquals(2 * xv[i], yv[i], 1e-6);
            sum += xv[i];
        }
        y.sum().backward();
        assertEquals(sum, m.scale.grad().item(), 1e-5, "d(sum(2x))/d(scale) summed over the replicas: sum of x");
    }

    @Test void theLatchCatchesReplicasRunOneAfterAnother() {
        // The same module run sequentially, as a DataParallel without threads would: the first replica times out.
        Rendezvous m = new Rendezvous(2, 200);
        Tensor x = floats(2, Device.cpu(1), 2, 3);
        AssertionError e = assertThrows(AssertionError.class, () -> m.forward(x));
        assertTrue(e.getMessage().contains("cpu:1"), "the failure names the stalled replica's device: " + e.getMessage());
    }

    @Test void aStalledReplicaFailsTheForwardNamingItsDevice() {
        // Three of four replicas ever arrive: the latch needs a fifth, so every replica times out.
        Rendezvous m = new Rendezvous(5, 200);
        DataParallel dp = new DataParallel(m, cpus(0, 4));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> dp.forward(floats(3, Device.cpu(0), 4, 2)));
        assertTrue(e.getMessage().contains("the replica on cpu:0 failed"), e.getMessage());
        assertTrue(e.getMessage().contains("did not run concurrently"), e.getMessage());
    }

    @Test void replicasSeeTheCallersGradModeAndTheirArraysJoinTheCallersScope() {
        Rendezvous m = new Rendezvous(2, 10_000);
        m.to(Device.cpu(30));
        DataParallel dp = new DataParallel(m, cpus(30, 2));
        Device other = Device.cpu(31);
        long before = stats(other);
        try (var g = GradMode.noGrad(); MemoryScope s = MemoryScope.open()) {
            Tensor y = dp.forward(floats(4, Device.cpu(30), 4, 2));
            assertFalse(y.requiresGrad(), "no graph under noGrad");
            assertEquals(Set.of(false), m.gradModes, "every replica ran with grad mode off");
        }
        assertEquals(before, stats(other), "what the replica on cpu:31 made was closed with the caller's scope");
    }

    private static long stats(Device d) { return io.jtensor.backend.Backends.of(d).allocator().stats(d).allocated(); }
}
