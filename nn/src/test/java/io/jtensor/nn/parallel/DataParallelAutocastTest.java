package io.jtensor.nn.parallel;

import static io.jtensor.nn.parallel.ParallelTesting.*;
import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.ReLU;
import io.jtensor.nn.Sequential;
import io.jtensor.nn.amp.Autocast;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A forward under autocast runs every replica in the precision the caller's scope gives its ops (the replica threads
 * take the caller's Autocast state through ThreadContext): the output is the half type and equals the plain module's
 * output under the same scope on one device, and the gradients reach the fp32 parameters.
 */
class DataParallelAutocastTest {
    @Test void replicasRunUnderTheCallersAutocastScope() {
        Generator.manualSeed(7);
        Module model = new Sequential(new Linear(6, 8), new ReLU(), new Linear(8, 3));
        Tensor x = floats(3, Device.cpu(0), 10, 6);
        Tensor expected;
        try (Autocast scope = Autocast.enable(DType.BF16)) {
            expected = model.forward(x);
        }
        assertEquals(DType.BF16, expected.dtype(), "the reference itself runs in half");

        DataParallel dp = new DataParallel(model, cpus(0, 2));
        Tensor out;
        try (Autocast scope = Autocast.enable(DType.BF16)) {
            out = dp.forward(x);
        }
        assertEquals(DType.BF16, out.dtype(), "the replicas ran their linear layers outside the caller's autocast scope");
        assertArrayEquals(expected.toDoubleArray(), out.toDoubleArray(), 0.0, "each row is computed by the same half ops");

        model.zeroGrad();
        out.to(DType.F32).sum().backward();
        for (Tensor p : model.parameters()) {
            assertEquals(DType.F32, p.grad().dtype(), "gradients land on the fp32 parameters");
        }
        assertFalse(Autocast.isEnabled(), "no scope is left open on the calling thread");
    }

    @Test void withoutAScopeTheReplicasStayInFp32() {
        Generator.manualSeed(7);
        Module model = new Sequential(new Linear(6, 3));
        Tensor out = new DataParallel(model, cpus(0, 2)).forward(floats(3, Device.cpu(0), 4, 6));
        assertEquals(DType.F32, out.dtype());
        assertEquals(List.of(Device.cpu(0)), List.of(out.device()));
    }
}
