package io.jtensor.nn.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.badinput.BadInput;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.BatchNorm;
import io.jtensor.nn.Module;
import io.jtensor.nn.models.BertClassifier;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.SGD;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * O1 and O2 training of LeNet-5 with batch norm and of a small BERT-style encoder against fp32 training of the same
 * initial weights on the same batches. Tolerance: the mean loss over each window of 25 steps stays within 10% of
 * fp32's plus 5% of fp32's first window, over 150 steps, and training must actually learn (the last window below 80%
 * of the first). F16 keeps 11 significant bits and BF16 8, so the trajectories drift apart step by step; late windows,
 * where the loss is small, differ by a few hundredths, while a bug (a gradient unscaled by 4x too little, stale
 * masters, a cast that blocks the gradient) moves the early curve by tenths, far outside it. The default generator is
 * seeded, so the initial weights do not depend on which tests ran before.
 */
class AmpTrainingTest {
    private static final int STEPS = 150, WINDOW = 25, BATCH = 16;

    /** A fixed labelled set: inputs from a seeded normal, labels from a random linear teacher (learnable). */
    private record Data(NDArray x, NDArray y) {}

    private static Data data(long seed, long n, long[] shape, int classes) {
        Generator g = new Generator(seed);
        NDArray x = NDArray.randn(g, DType.F32, Device.cpu(), concat(n, shape)).keep();
        long features = x.numel() / n;
        try (NDArray teacher = NDArray.randn(g, DType.F32, Device.cpu(), features, classes); NDArray flat = x.reshape(n, features);
             NDArray scores = flat.matmul(teacher)) {
            return new Data(x, scores.argmax(1, false).keep());
        }
    }

    private static long[] concat(long n, long[] shape) {
        long[] s = new long[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    /** Per-step losses of STEPS steps at {@code level} from the given initial state. */
    private static double[] train(Supplier<Module> make, Map<String, NDArray> init, Function<Module, Optimizer> opt, OptLevel level,
                                  DType half, Data d, java.util.function.Consumer<Amp> check) {
        Module model = make.get();
        model.loadStateDict(init);
        Optimizer optimizer = opt.apply(model);
        Amp amp = Amp.initialize(model, optimizer, level, half);
        if (check != null) check.accept(amp);
        long n = d.x.size(0);
        double[] losses = new double[STEPS];
        for (int s = 0; s < STEPS; s++) {
            try (MemoryScope scope = MemoryScope.open()) {
                long start = (s * BATCH) % n;
                Tensor x = Tensor.wrap(d.x.narrow(0, start, BATCH)), y = Tensor.wrap(d.y.narrow(0, start, BATCH));
                Tensor loss;
                try (AutoCloseable f = amp.forwardScope()) {
                    loss = amp.castOutput(model.forward(amp.castInput(x))).crossEntropy(y);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                optimizer.zeroGrad();
                amp.scaler().scale(loss).backward();
                amp.scaler().step(optimizer);
                if (amp.scaler().isEnabled()) amp.scaler().update();
                losses[s] = loss.item();
            }
        }
        return losses;
    }

    private static void assertTracks(String what, double[] ref, double[] got) {
        double start = 0;
        for (int i = 0; i < WINDOW; i++) start += ref[i] / WINDOW;
        for (int w = 0; w + WINDOW <= STEPS; w += WINDOW) {
            double a = 0, b = 0;
            for (int i = w; i < w + WINDOW; i++) {
                a += ref[i] / WINDOW;
                b += got[i] / WINDOW;
            }
            assertEquals(a, b, 0.05 * start + 0.1 * a, what + ": mean loss of steps " + w + ".." + (w + WINDOW - 1));
        }
        double first = 0, last = 0;
        for (int i = 0; i < WINDOW; i++) {
            first += got[i];
            last += got[STEPS - 1 - i];
        }
        assertTrue(last < 0.8 * first, what + " did not learn: first window " + first / WINDOW + ", last " + last / WINDOW);
    }

    private static void o2Checks(Amp amp) {
        assertEquals(OptLevel.O2, amp.level());
        for (var e : amp.model().namedModules().entrySet()) {
            Module m = e.getValue();
            if (m instanceof BatchNorm) {
                for (Tensor p : m.parameters()) assertEquals(DType.F32, p.dtype(), "batch norm " + e.getKey() + " stays F32");
                for (NDArray b : m.namedBuffers().values()) if (b.dtype().isFloating()) assertEquals(DType.F32, b.dtype(), "batch norm buffer " + e.getKey());
            }
        }
        assertTrue(!amp.masterParameters().isEmpty());
        for (Tensor h : amp.halfParameters()) assertEquals(amp.halfType(), h.dtype());
        for (Tensor m : amp.masterParameters()) assertEquals(DType.F32, m.dtype());
        // the optimizer steps the masters, not the half parameters
        for (Tensor p : amp.optimizer().params()) assertEquals(DType.F32, p.dtype());
    }

    @Test
    void lenetWithBatchNormO1AndO2TrackFp32() {
        Generator.manualSeed(2024);
        Data d = data(11, 128, new long[] {1, 16, 16}, 10);
        Supplier<Module> make = () -> new LeNet5(1, 16, 16, 10, true);
        Module ref = make.get();
        Map<String, NDArray> init = ref.stateDict();
        Function<Module, Optimizer> sgd = m -> new SGD(m.parameters(), 0.05, 0.9);
        double[] fp32 = train(make, init, sgd, OptLevel.O0, DType.F16, d, null);
        assertTracks("LeNet-5 O1 F16", fp32, train(make, init, sgd, OptLevel.O1, DType.F16, d, null));
        assertTracks("LeNet-5 O2 F16", fp32, train(make, init, sgd, OptLevel.O2, DType.F16, d, AmpTrainingTest::o2Checks));
        assertTracks("LeNet-5 O2 BF16", fp32, train(make, init, sgd, OptLevel.O2, DType.BF16, d, AmpTrainingTest::o2Checks));
    }

    @Test
    void smallBertO1AndO2TrackFp32() {
        Generator.manualSeed(2025);
        Data d = data(12, 128, new long[] {6, 8}, 4);
        BertConfig cfg = BertConfig.smallForFeatures(8, 6, 4).withLayers(2, 2, 32, 64).withDropout(0);
        Supplier<Module> make = () -> new BertClassifier(cfg, new Generator(5));
        Map<String, NDArray> init = make.get().stateDict();
        Function<Module, Optimizer> adam = m -> new Adam(m.parameters(), 3e-3);
        double[] fp32 = train(make, init, adam, OptLevel.O0, DType.F16, d, null);
        assertTracks("BERT O1 F16", fp32, train(make, init, adam, OptLevel.O1, DType.F16, d, null));
        assertTracks("BERT O1 BF16", fp32, train(make, init, adam, OptLevel.O1, DType.BF16, d, null));
        assertTracks("BERT O2 F16", fp32, train(make, init, adam, OptLevel.O2, DType.F16, d, AmpTrainingTest::o2Checks));
    }

    @Test
    void o2CheckpointHoldsFp32MastersThatLoadIntoAnFp32Model() {
        LeNet5 model = new LeNet5(1, 16, 16, 10, true);
        Optimizer opt = new SGD(model.parameters(), 0.1, 0.9);
        Amp amp = Amp.initialize(model, opt, OptLevel.O2);
        // one step so that the masters hold values a half copy cannot represent exactly
        Data d = data(3, 16, new long[] {1, 16, 16}, 10);
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor loss = amp.castOutput(model.forward(amp.castInput(Tensor.wrap(d.x.share())))).crossEntropy(Tensor.wrap(d.y.share()));
            amp.scaler().scale(loss).backward();
            assertTrue(amp.scaler().step(opt));
            amp.scaler().update();
        }
        Map<String, NDArray> sd = amp.modelStateDict();
        LeNet5 fp32 = new LeNet5(1, 16, 16, 10, true);
        fp32.loadStateDict(sd);
        var names = model.namedParameters();
        var halves = amp.halfParameters();
        for (int k = 0; k < halves.size(); k++) {
            Tensor master = amp.masterParameters().get(k), half = halves.get(k);
            String name = names.entrySet().stream().filter(e -> e.getValue() == half).findFirst().orElseThrow().getKey();
            assertEquals(DType.F32, sd.get(name).dtype(), name);
            assertArrayEquals(master.toFloatArray(), fp32.namedParameters().get(name).toFloatArray(), name + ": fp32 model gets the masters");
        }
        // and back into a fresh O2 run: masters exactly, half copies rounded from them
        LeNet5 again = new LeNet5(1, 16, 16, 10, true);
        Amp amp2 = Amp.initialize(again, new SGD(again.parameters(), 0.1, 0.9), OptLevel.O2);
        amp2.loadModelStateDict(sd);
        for (int k = 0; k < halves.size(); k++) {
            assertArrayEquals(amp.masterParameters().get(k).toFloatArray(), amp2.masterParameters().get(k).toFloatArray());
            assertArrayEquals(amp.halfParameters().get(k).toFloatArray(), amp2.halfParameters().get(k).toFloatArray());
        }
        Map<String, NDArray> scalerState = amp.stateDict();
        amp2.loadStateDict(scalerState);
        assertEquals(amp.scaler().getScale(), amp2.scaler().getScale());
        sd.values().forEach(NDArray::close);
    }

    @Test
    void o3IsPureHalfWithoutMastersOrScalingAndO0ChangesNothing() {
        Generator.manualSeed(7);
        LeNet5 model = new LeNet5(1, 16, 16, 10, true);
        Optimizer opt = new SGD(model.parameters(), 0.05, 0.9);
        Amp amp = Amp.initialize(model, opt, OptLevel.O3, DType.BF16);
        for (Tensor p : model.parameters()) assertEquals(DType.BF16, p.dtype(), "O3 casts batch norm too");
        assertTrue(amp.masterParameters().isEmpty());
        assertTrue(!amp.scaler().isEnabled());
        assertEquals(1.0, amp.scaler().getScale());
        Data d = data(4, 16, new long[] {1, 16, 16}, 10);
        float[] before = model.parameters().get(0).toFloatArray();
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor out = model.forward(amp.castInput(Tensor.wrap(d.x.share())));
            assertEquals(DType.BF16, out.dtype());
            Tensor loss = amp.castOutput(out).to(DType.F32).crossEntropy(Tensor.wrap(d.y.share()));
            amp.scaler().scale(loss).backward();
            assertTrue(amp.scaler().step(opt));
        }
        assertTrue(!Arrays.equals(before, model.parameters().get(0).toFloatArray()), "the half weights were stepped");
        LeNet5 plain = new LeNet5(1, 16, 16, 10, false);
        Amp o0 = Amp.initialize(plain, new SGD(plain.parameters(), 0.1), OptLevel.O0);
        for (Tensor p : plain.parameters()) assertEquals(DType.F32, p.dtype());
        assertTrue(!o0.scaler().isEnabled());
    }

    @Test
    void badInputsNameWhatWasExpected() {
        BadInput.fails(IllegalArgumentException.class, () -> OptLevel.parse("O4"), "OptLevel", "[O0, O1, O2, O3]", "O4");
        LeNet5 model = new LeNet5(1, 16, 16, 10, false);
        Optimizer opt = new SGD(model.parameters(), 0.1);
        BadInput.fails(IllegalArgumentException.class, () -> Amp.initialize(model, opt, OptLevel.O1, DType.F32), "Amp.initialize", "F16 or BF16", "F32");
        Amp.initialize(model, opt, OptLevel.O1);
        BadInput.fails(IllegalStateException.class, () -> Amp.initialize(model, opt, OptLevel.O1), "Amp.initialize", "twice");
        BadInput.fails(IllegalArgumentException.class, () -> Amp.initialize(new LeNet5(), opt, "O5", DType.F16), "OptLevel", "O5");
        assertEquals(OptLevel.O2, OptLevel.parse("o2"));
        assertTrue(Arrays.asList(OptLevel.values()).contains(OptLevel.O3));
    }
}
