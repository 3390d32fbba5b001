package io.jtensor.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.Generator;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Module;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelsTest {
    private static Tensor images(int n, int c, int h, int w) { return Tensor.rand(new Generator(1), io.jtensor.DType.F32, io.jtensor.Device.cpu(), n, c, h, w); }

    @Test void everyRegisteredModelMapsImagesToLogits() {
        assertEquals(List.of("mlp", "lenet5", "lenet5-bn", "resnet", "gru", "lstm", "bert-small"), Models.names());
        Tensor x = images(2, 1, 28, 28);
        for (String name : Models.names()) {
            Module m = Models.create(name);
            assertArrayEquals(new long[] {2, 10}, m.forward(x).shape(), name + " in training");
            m.eval();
            try (GradMode.Guard g = GradMode.noGrad()) {
                assertArrayEquals(new long[] {2, 10}, m.forward(x).shape(), name + " in eval");
            }
        }
    }

    @Test void parameterCountsComputedByHand() {
        // conv1 6*1*5*5+6 = 156, conv2 16*6*5*5+16 = 2416, fc1 400*120+120 = 48120, fc2 120*84+84 = 10164, fc3 84*10+10 = 850
        assertEquals(61706, new LeNet5().parameterCount());
        // + BatchNorm weight and bias: 2*(6 + 16 + 120 + 84) = 452
        assertEquals(61706 + 452, LeNet5.withBatchNorm().parameterCount());
        // 784*256+256 + 256*128+128 + 128*10+10
        assertEquals(200960 + 32896 + 1290, Models.create("mlp").parameterCount());
        // GRU: 3*128*28 + 3*128*128 + 2*3*128 = 60672; fc 1290
        assertEquals(60672 + 1290, Models.create("gru").parameterCount());
        // LSTM: 4*128*28 + 4*128*128 + 2*4*128 = 80896; fc 1290
        assertEquals(80896 + 1290, Models.create("lstm").parameterCount());
        // ResNet-20: stem 144 + 32; stage 1: 3 * (2*2304 + 64) = 14016; stage 2: 14528 + 2*18560 = 51648;
        // stage 3: 57728 + 2*73984 = 205696; fc 650
        assertEquals(144 + 32 + 14016 + 51648 + 205696 + 650, new ResNet().parameterCount());
        // bert-small on 28 rows of 28: projection 7424, [CLS] 256, positions 29*256 = 7424, LayerNorm 512,
        // 8 layers of (197376 + 65792 + 263168 + 262400 + 1024), pooler 65792, classifier 2570
        assertEquals(7424 + 256 + 7424 + 512 + 8 * 789760 + 65792 + 2570, Models.create("bert-small").parameterCount());
    }

    @Test void optionsAndInputSpecs() {
        ModelSpec cifar = new ModelSpec(3, 32, 32, 100, Map.of("hidden", "64"));
        Tensor x = images(2, 3, 32, 32);
        for (String name : List.of("mlp", "lenet5", "resnet", "gru")) {
            assertArrayEquals(new long[] {2, 100}, Models.create(name, cifar).forward(x).shape(), name);
        }
        Module small = Models.create("bert-small", cifar.withOptions(Map.of("layers", "1", "heads", "2", "hidden", "16")));
        assertArrayEquals(new long[] {2, 100}, small.forward(x).shape());
        Module bi = Models.create("lstm", ModelSpec.mnist().withOptions(Map.of("hidden", "8", "layers", "2", "bidirectional", "true")));
        assertArrayEquals(new long[] {2, 10}, bi.forward(images(2, 1, 28, 28)).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> Models.create("vgg"));
        assertTrue(e.getMessage().contains("'vgg'") && e.getMessage().contains("lenet5-bn"), e.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> Models.create("resnet", ModelSpec.mnist().withOptions(Map.of("blocks", "x"))));
        assertTrue(o.getMessage().contains("blocks"), o.getMessage());
    }

    @Test void bertEncoderOverTokenIdsWithPadding() {
        BertConfig c = new BertConfig(50, 0, 16, 2, 4, 32, 8, 0.0, 3);
        BertClassifier m = new BertClassifier(c, new Generator(3));
        Tensor ids = Tensor.of(new long[] {1, 5, 7, 0, 2, 9, 4, 4}, 2, 4);
        Tensor pad = Tensor.of(new boolean[] {false, false, false, true, false, false, false, false}, 2, 4);
        assertArrayEquals(new long[] {2, 3}, m.forward(ids, pad).shape());
        assertArrayEquals(new long[] {2, 4, 16}, m.encoder().forward(ids, pad).shape());
        // A padded position cannot change the other positions' results.
        Tensor ids2 = Tensor.of(new long[] {1, 5, 7, 33, 2, 9, 4, 4}, 2, 4);
        m.eval();
        double[] a = m.forward(ids, pad).toDoubleArray(), b = m.forward(ids2, pad).toDoubleArray();
        for (int i = 0; i < 3; i++) assertEquals(a[i], b[i], 1e-5);
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.of(new long[9], 1, 9)));
    }

    @Test void aFewGradientStepsLowerTheLossOfEveryConvModel() {
        // Two fixed images per class of a 3-class toy problem; plain gradient descent on the parameters.
        // Small images keep it fast: LeNet-5 needs 12x12 at least.
        Tensor x = images(6, 1, 12, 12);
        Tensor y = Tensor.of(new long[] {0, 1, 2, 0, 1, 2}, 6);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        for (Module m : List.of(new LeNet5(1, 12, 12, 3, true), new ResNet(1, 3, new int[] {4, 8}, 1))) {
            double first = 0, last = 0;
            for (int step = 0; step < 6; step++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    m.zeroGrad();
                    Tensor l = loss.forward(m.forward(x), y);
                    if (step == 0) first = l.item();
                    last = l.item();
                    l.backward();
                    for (Tensor p : m.parameters()) p.data().addInPlace(p.grad().data(), -0.05);
                }
            }
            assertTrue(last < first, m.getClass().getSimpleName() + ": loss " + first + " -> " + last);
        }
    }
}
