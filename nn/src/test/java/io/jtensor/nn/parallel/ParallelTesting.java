package io.jtensor.nn.parallel;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Loss;
import io.jtensor.nn.Module;
import io.jtensor.nn.Reduction;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.BertMaskedLm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Models, data and comparisons shared by the data-parallel tests. */
final class ParallelTesting {
    private ParallelTesting() {}

    static List<Device> cpus(int first, int count) {
        List<Device> out = new ArrayList<>();
        for (int i = 0; i < count; i++) out.add(Device.cpu(first + i));
        return out;
    }

    /** A tiny BERT-style encoder with a masked-LM head: token ids [B, T] -> logits [B, T, vocab]. */
    static BertMaskedLm tinyMaskedLm(long vocab, int seqLen, Generator g) {
        return new BertMaskedLm(new BertConfig(vocab, 0, 16, 2, 2, 32, seqLen, 0, 1), g);
    }

    /** Mean cross-entropy of logits [B, T, V] against token ids [B, T], over every position. */
    static final class TokenCrossEntropy extends Loss {
        TokenCrossEntropy() { super(Reduction.MEAN); }

        @Override public Tensor forward(Tensor logits, Tensor targets) {
            return logits.reshape(-1, logits.size(-1)).crossEntropy(targets.reshape(-1));
        }
    }

    /** F32 values in [-1, 1) on the device. */
    static Tensor floats(long seed, Device d, long... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (long s : shape) n *= (int) s;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        try (NDArray a = NDArray.of(v, shape)) {
            return Tensor.wrap(a.to(d));
        }
    }

    /** I64 values in [0, bound) on the device. */
    static Tensor ints(long seed, long bound, Device d, long... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (long s : shape) n *= (int) s;
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = (long) (r.nextDouble() * bound);
        try (NDArray a = NDArray.of(v, shape)) {
            return Tensor.wrap(a.to(d));
        }
    }

    /** Copies of every parameter's values, by name. */
    static Map<String, double[]> parameterValues(Module m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, v.toDoubleArray()));
        return out;
    }

    static Map<String, double[]> gradients(Module m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> out.put(k, v.grad() == null ? null : v.grad().toDoubleArray()));
        return out;
    }

    static Map<String, double[]> bufferValues(Module m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.namedBuffers().forEach((k, v) -> out.put(k, v.toDoubleArray()));
        return out;
    }

    /** Every entry within {@code tol} relative to max(1, |expected|). */
    static void assertAllClose(Map<String, double[]> expected, Map<String, double[]> actual, double tol, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what + ": names");
        for (var e : expected.entrySet()) {
            double[] a = actual.get(e.getKey()), x = e.getValue();
            assertNotNull(a, what + " " + e.getKey() + " is missing");
            assertNotNull(x, what + " " + e.getKey() + " is missing in the reference");
            assertEquals(x.length, a.length, what + " " + e.getKey());
            for (int i = 0; i < x.length; i++) {
                double allowed = tol * Math.max(1, Math.abs(x[i]));
                if (!(Math.abs(x[i] - a[i]) <= allowed)) {
                    fail(what + " " + e.getKey() + "[" + i + "]: expected " + x[i] + " but was " + a[i] + " (tolerance " + allowed + ")");
                }
            }
        }
    }

    /** The batch norm reference: the module on each chunk in turn, buffers updated by the first chunk only. */
    static Tensor perChunkOutputs(Module m, Tensor x, int devices) {
        long[] sizes = Comm.chunkSizes(x.size(0), devices);
        if (sizes.length == 1) return m.forward(x);
        Map<String, NDArray> saved = new LinkedHashMap<>();
        m.namedBuffers().forEach((k, v) -> saved.put(k, v.copy()));
        Tensor[] outs = new Tensor[sizes.length];
        long at = sizes[0];
        for (int i = 1; i < sizes.length; i++) {
            outs[i] = m.forward(x.narrow(0, at, sizes[i]));
            at += sizes[i];
        }
        // As DataParallel leaves them: only the replica on the module's own device keeps its update.
        m.namedBuffers().forEach((k, v) -> v.copyFrom(saved.get(k)));
        saved.values().forEach(NDArray::close);
        outs[0] = m.forward(x.narrow(0, 0, sizes[0]));
        return Tensor.cat(List.of(outs), 0);
    }

    /** The same module twice: the second a copy of the first's state (so both start alike). */
    static Module copyOf(Module original, Module fresh) {
        Map<String, NDArray> state = original.stateDict();
        fresh.loadStateDict(state);
        state.values().forEach(NDArray::close);
        return fresh;
    }

    static DType f32() { return DType.F32; }
}
