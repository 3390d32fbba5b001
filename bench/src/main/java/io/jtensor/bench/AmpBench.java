package io.jtensor.bench;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import io.jtensor.nn.Module;
import io.jtensor.nn.amp.Amp;
import io.jtensor.nn.amp.OptLevel;
import io.jtensor.nn.models.BertClassifier;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.ResNet;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.SGD;
import java.util.Arrays;
import java.util.Locale;

/**
 * Training-step time and peak memory at AMP levels O0, O1, O2 (F16 and BF16) for the BERT-style encoder (8 layers,
 * 8 heads, hidden 256, sequence 128, Adam) and ResNet-20 (32x32x3, SGD momentum 0.9). Peak memory is the device's
 * peak allocation during the timed steps minus what was allocated before them (parameters, masters, optimizer
 * state): the activations and temporaries of a step. Prints one line per configuration: the median step time.
 *
 * <pre>java ... io.jtensor.bench.AmpBench bert|resnet20 [device cpu|cuda:0] [batch] [timed steps] [levels, e.g. O0,O1,O2,O2bf16]</pre>
 */
public final class AmpBench {
    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "resnet20";
        Device device = args.length > 1 ? Device.parse(args[1]) : Device.cpu();
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : model.equals("bert") ? 8 : 64;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        String[] levels = (args.length > 4 ? args[4] : "O0,O1,O1bf16,O2,O2bf16").split(",");
        for (String l : levels) run(model, device, batch, steps, l);
    }

    private static void run(String name, Device device, int batch, int steps, String levelName) {
        boolean bf16 = levelName.endsWith("bf16");
        OptLevel level = OptLevel.parse(levelName.substring(0, 2));
        DType half = bf16 ? DType.BF16 : DType.F16;
        Generator g = new Generator(1);
        Module model;
        NDArray x, y;
        if (name.equals("bert")) {
            BertConfig cfg = BertConfig.smallForTokens(1000, 129, 2).withDropout(0);
            model = new BertClassifier(cfg, g);
            x = NDArray.randint(g, 0, 1000, device, batch, 128).keep();
        } else {
            model = new ResNet(3, 10, new int[] {16, 32, 64}, 3);
            x = NDArray.randn(g, DType.F32, device, batch, 3, 32, 32).keep();
        }
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % 2;
        y = NDArray.of(labels, batch).to(device).keep();
        model.to(device);
        Optimizer opt = name.equals("bert") ? new Adam(model.parameters(), 1e-4) : new SGD(model.parameters(), 0.05, 0.9);
        Amp amp = Amp.initialize(model, opt, level, half);
        MemoryStats stats = Backends.of(device).allocator().stats(device);
        step(model, amp, x, y);   // warm-up: optimizer state, JIT, kernel loads
        step(model, amp, x, y);
        long base = stats.allocated();
        stats.resetPeak();
        double[] ms = new double[steps];
        for (int s = 0; s < steps; s++) {
            long t0 = System.nanoTime();
            step(model, amp, x, y);
            ms[s] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.println(String.format(Locale.ROOT, "%-8s %-7s %s batch %d: step %.1f ms (median of %d, best %.1f), step peak %.1f MiB",
                name, levelName, device, batch, ms[steps / 2], steps, ms[0], (stats.peak() - base) / 1048576.0));
        x.close();
        y.close();
    }

    private static void step(Module model, Amp amp, NDArray x, NDArray y) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor loss;
            try (AutoCloseable f = amp.forwardScope()) {
                loss = amp.castOutput(model.forward(amp.castInput(Tensor.wrap(x.share())))).crossEntropy(Tensor.wrap(y.share()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            amp.optimizer().zeroGrad();
            amp.scaler().scale(loss).backward();
            amp.scaler().step(amp.optimizer());
            if (amp.scaler().isEnabled()) amp.scaler().update();
            loss.item();
        }
    }
}
