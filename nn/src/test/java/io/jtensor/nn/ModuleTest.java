package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModuleTest {
    /** Linear 3->4, BatchNorm1d(4), ReLU, Linear 4->2 without bias. */
    private static Sequential small() {
        return new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2, false));
    }

    @Test void parametersAndBuffersHaveDottedNamesInRegistrationOrder() {
        Sequential m = small();
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "3.weight"), new ArrayList<>(m.namedParameters().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"), new ArrayList<>(m.namedBuffers().keySet()));
        assertEquals(List.of("", "0", "1", "2", "3"), new ArrayList<>(m.namedModules().keySet()));
        for (Tensor p : m.parameters()) assertTrue(p.requiresGrad());
        // 3*4 + 4 + 4 + 4 + 4*2
        assertEquals(32, m.parameterCount());
    }

    @Test void stateDictListsParametersThenBuffersPerModule() {
        Sequential m = small();
        LinkedHashMap<String, NDArray> sd = m.stateDict();
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "3.weight"),
                new ArrayList<>(sd.keySet()));
        assertEquals(DType.I64, sd.get("1.num_batches_tracked").dtype());
    }

    @Test void aSharedModuleCountsOnce() {
        Linear shared = new Linear(2, 2);
        Sequential m = new Sequential(shared, new ReLU(), shared);
        assertEquals(2, m.parameters().size());
        assertEquals(List.of("0.weight", "0.bias"), new ArrayList<>(m.namedParameters().keySet()));
        assertEquals(6, m.parameterCount());
        // The state dict names it under both paths, as PyTorch's does.
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), new ArrayList<>(m.stateDict().keySet()));
    }

    @Test void freezingStopsGradients() {
        Linear frozen = new Linear(2, 2), trained = new Linear(2, 1);
        Sequential m = new Sequential(frozen, trained);
        frozen.requiresGrad(false);
        assertEquals(3, m.trainableParameterCount());
        m.forward(NnTesting.f32(1, 3, 2)).sum().backward();
        assertNull(frozen.weight().grad());
        assertNotNull(trained.weight().grad());
    }

    @Test void trainAndEvalReachEveryDescendant() {
        Sequential inner = new Sequential(new Dropout(0.5));
        Sequential m = new Sequential(new Linear(2, 2), inner);
        assertTrue(inner.get(0).isTraining());
        m.eval();
        assertFalse(m.isTraining());
        assertFalse(inner.get(0).isTraining());
        m.train();
        assertTrue(inner.get(0).isTraining());
    }

    @Test void toDTypeKeepsParameterObjectsAndConvertsFloatingBuffersOnly() {
        Sequential m = small();
        List<Tensor> before = m.parameters();
        double[] w0 = before.get(0).toDoubleArray();
        m.to(DType.F64);
        List<Tensor> after = m.parameters();
        for (int i = 0; i < before.size(); i++) {
            assertSame(before.get(i), after.get(i));
            assertEquals(DType.F64, after.get(i).dtype());
            assertTrue(after.get(i).requiresGrad());
        }
        NnTesting.assertClose(w0, after.get(0).toDoubleArray(), 1e-7, "values survive the cast");
        assertEquals(DType.F64, m.namedBuffers().get("1.running_mean").dtype());
        assertEquals(DType.I64, m.namedBuffers().get("1.num_batches_tracked").dtype());
        // The module still runs in its new dtype.
        Tensor y = m.forward(NnTesting.f64(1, 5, 3));
        assertEquals(DType.F64, y.dtype());
    }

    @Test void toSameDeviceIsANoOpThatKeepsIdentity() {
        Linear lin = new Linear(2, 2);
        NDArray data = lin.weight().data();
        lin.to(Device.cpu());
        assertSame(data, lin.weight().data());
    }

    @Test void zeroGradDropsGradients() {
        Linear lin = new Linear(2, 1);
        lin.forward(NnTesting.f32(1, 3, 2)).sum().backward();
        assertNotNull(lin.weight().grad());
        lin.zeroGrad();
        assertNull(lin.weight().grad());
        assertNull(lin.bias().grad());
    }

    @Test void parametersOutliveTheScopeTheModuleWasBuiltIn() {
        Linear lin;
        try (MemoryScope scope = MemoryScope.open()) {
            lin = new Linear(2, 2);
        }
        assertFalse(lin.weight().isClosed());
        assertEquals(4, lin.weight().toDoubleArray().length);
    }

    @Test void stateDictIsASnapshotAndLoadsBackIntoTheSameTensors() {
        Sequential a = small(), b = small();
        LinkedHashMap<String, NDArray> sd = a.stateDict();
        double[] w = a.parameters().get(0).toDoubleArray();
        NnTesting.set(a.parameters().get(0), new double[12]);
        NnTesting.assertClose(w, sd.get("0.weight").toDoubleArray(), 0, "snapshot unaffected by later changes");

        Tensor target = b.parameters().get(0);
        var report = b.loadStateDict(sd, true);
        assertTrue(report.isClean());
        assertSame(target, b.parameters().get(0));
        NnTesting.assertClose(w, target.toDoubleArray(), 0, "loaded");
        NnTesting.assertClose(sd.get("1.running_var").toDoubleArray(), b.namedBuffers().get("1.running_var").toDoubleArray(), 0, "buffer");
    }

    @Test void strictLoadNamesMissingAndUnexpectedKeysAndChangesNothing() {
        Sequential m = small();
        LinkedHashMap<String, NDArray> sd = m.stateDict();
        double[] before = m.parameters().get(0).toDoubleArray();
        sd.remove("3.weight");
        sd.remove("1.running_mean");
        sd.put("4.bias", NDArray.zeros(2));
        try (NDArray z = NDArray.zeros(4, 3)) {
            sd.get("0.weight").copyFrom(z);
        }
        var e = assertThrows(StateDictException.class, () -> m.loadStateDict(sd));
        assertTrue(e.getMessage().contains("missing keys: 1.running_mean, 3.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected keys: 4.bias"), e.getMessage());
        assertEquals(List.of("1.running_mean", "3.weight"), e.report().missingKeys());
        NnTesting.assertClose(before, m.parameters().get(0).toDoubleArray(), 0, "nothing loaded on failure");

        // Non-strict: the rest loads, the report lists what was skipped.
        var report = m.loadStateDict(sd, false);
        assertEquals(List.of("4.bias"), report.unexpectedKeys());
        NnTesting.assertClose(new double[12], m.parameters().get(0).toDoubleArray(), 0, "loaded when not strict");
    }

    @Test void shapeMismatchFailsEvenWhenNotStrict() {
        Sequential m = small();
        LinkedHashMap<String, NDArray> sd = m.stateDict();
        sd.put("0.weight", NDArray.zeros(3, 4));
        var e = assertThrows(StateDictException.class, () -> m.loadStateDict(sd, false));
        assertTrue(e.getMessage().contains("0.weight: checkpoint [3, 4], model [4, 3]"), e.getMessage());
    }

    @Test void loadCastsToTheParameterDType() {
        Linear a = new Linear(2, 2), b = new Linear(2, 2);
        b.to(DType.F64);
        b.loadStateDict(a.stateDict());
        assertEquals(DType.F64, b.weight().dtype());
        NnTesting.assertClose(a.weight().toDoubleArray(), b.weight().toDoubleArray(), 0, "cast copy");
    }

    @Test void saveAndLoadRoundTripThroughSafeTensors(@TempDir Path dir) throws Exception {
        Sequential a = small(), b = small();
        a.forward(NnTesting.f32(3, 6, 3)); // moves the running statistics away from their start
        Path file = dir.resolve("model.safetensors");
        a.save(file);
        assertTrue(Files.size(file) > 0);
        b.load(file);
        Map<String, NDArray> sa = a.stateDict(), sb = b.stateDict();
        for (String k : sa.keySet()) NnTesting.assertClose(sa.get(k).toDoubleArray(), sb.get(k).toDoubleArray(), 0, k);
        assertEquals(1, (long) b.namedBuffers().get("1.num_batches_tracked").item());
    }

    @Test void toStringIsAPyTorchStyleTree() {
        Sequential m = new Sequential(new Linear(3, 4), new Sequential(new ReLU(), new Dropout(0.5)));
        String expected = """
                Sequential(
                  (0): Linear(in_features=3, out_features=4, bias=True)
                  (1): Sequential(
                    (0): ReLU()
                    (1): Dropout(p=0.5)
                  )
                )""";
        assertEquals(expected, m.toString());
        String bn = new BatchNorm2d(6).toString();
        assertEquals("BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", bn);
        assertEquals("Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))", new Conv2d(1, 6, 5, 1, 2).toString());
        assertEquals("LayerNorm((8,), eps=1e-05, elementwise_affine=True)", new LayerNorm(8).toString());
    }

    @Test void badNamesAreRejected() {
        class Bad extends Module {
            Bad(String name) { registerBuffer(name, NDArray.zeros(1)); }
        }
        assertThrows(IllegalArgumentException.class, () -> new Bad("a.b"));
        assertThrows(IllegalArgumentException.class, () -> new Bad(""));
        var e = assertThrows(UnsupportedOperationException.class, () -> new CrossEntropyLoss().forward(NnTesting.f32(1, 2, 2)));
        assertTrue(e.getMessage().contains("CrossEntropyLoss"));
    }

    @Test void forwardThroughSequentialMatchesTheLayersInTurn() {
        Linear l1 = new Linear(3, 4), l2 = new Linear(4, 2);
        Sequential m = new Sequential(l1, new Tanh(), l2);
        Tensor x = NnTesting.f32(7, 5, 3);
        double[] expected = l2.forward(l1.forward(x).tanh()).toDoubleArray();
        NnTesting.assertClose(expected, m.forward(x), 1e-6, "sequential");
        assertArrayEquals(new long[] {5, 2}, m.forward(x).shape());
    }
}
