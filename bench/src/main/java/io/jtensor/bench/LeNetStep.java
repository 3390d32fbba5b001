package io.jtensor.bench;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.Conv2d;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Linear;
import io.jtensor.nn.MaxPool2d;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.SGD;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * Times one LeNet-5 training step (batch 64 of random 1x28x28 images, cross-entropy, backward, SGD momentum 0.9) as
 * the {@code train} command runs it, and the step's parts. Reports the best and the median of N rounds, in wall time
 * and in the calling thread's CPU time (the machine is shared, so the best is the steadiest number).
 *
 * <pre>java ... io.jtensor.bench.LeNetStep [steps per round, default 50] [rounds, default 20] [parts|step]</pre>
 */
public final class LeNetStep {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String mode = args.length > 2 ? args[2] : "both";
        Generator g = new Generator(7);
        NDArray x = NDArray.rand(g, DType.F32, Device.cpu(), 64, 1, 28, 28).keep();
        long[] labels = new long[64];
        for (int i = 0; i < 64; i++) labels[i] = i % 10;
        NDArray y = NDArray.of(labels, 64).keep();
        if (mode.equals("warmup")) { warmup(x, y, steps); return; }
        if (!mode.equals("parts")) wholeStep(x, y, steps, rounds);
        if (!mode.equals("step")) parts(x, y, steps, rounds);
    }

    private static void wholeStep(NDArray x, NDArray y, int steps, int rounds) {
        LeNet5 model = new LeNet5();
        SGD opt = new SGD(model.parameters(), 0.05, 0.9);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Runnable step = () -> {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor out = model.forward(Tensor.wrap(x.share()));
                Tensor l = loss.forward(out, Tensor.wrap(y.share()));
                opt.zeroGrad();
                l.backward();
                opt.step();
                l.item();
            }
        };
        report("whole step", step, steps, rounds);
    }

    /** Wall time of the first steps of a fresh JVM, in buckets: how long the JIT takes to reach steady state. */
    private static void warmup(NDArray x, NDArray y, int steps) {
        LeNet5 model = new LeNet5();
        SGD opt = new SGD(model.parameters(), 0.05, 0.9);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        long t0 = System.nanoTime(), last = t0;
        int next = 1;
        for (int i = 1; i <= steps; i++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor l = loss.forward(model.forward(Tensor.wrap(x.share())), Tensor.wrap(y.share()));
                opt.zeroGrad();
                l.backward();
                opt.step();
                l.item();
            }
            if (i == next) {
                long now = System.nanoTime();
                System.out.printf("steps up to %5d: %8.2f ms per step, %7.2f s in all%n", i, (now - last) / 1e6 / (i - next / 2), (now - t0) / 1e9);
                last = now;
                next *= 2;
            }
        }
    }

    /** The same layers as LeNet5, timed one by one. */
    private static void parts(NDArray x, NDArray y, int steps, int rounds) {
        Conv2d conv1 = new Conv2d(1, 6, 5, 1, 2), conv2 = new Conv2d(6, 16, 5);
        MaxPool2d pool = new MaxPool2d(2);
        Linear fc1 = new Linear(400, 120), fc2 = new Linear(120, 84), fc3 = new Linear(84, 10);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Tensor in = Tensor.wrap(x);
        Tensor a1 = conv1.forward(in).detach().requiresGrad(true);
        Tensor r1 = a1.relu().detach().requiresGrad(true);
        Tensor p1 = pool.forward(r1).detach().requiresGrad(true);
        Tensor a2 = conv2.forward(p1).detach().requiresGrad(true);
        Tensor r2 = a2.relu().detach().requiresGrad(true);
        Tensor p2 = pool.forward(r2).detach().requiresGrad(true);
        Tensor f = p2.flatten(1, -1).detach().requiresGrad(true);
        Tensor h1 = fc1.forward(f).relu().detach().requiresGrad(true);
        Tensor h2 = fc2.forward(h1).relu().detach().requiresGrad(true);
        Tensor o = fc3.forward(h2).detach().requiresGrad(true);
        Tensor tgt = Tensor.wrap(y);
        layer("conv1", () -> conv1.forward(in), steps, rounds);
        layer("relu1 [64,6,28,28]", () -> a1.relu(), steps, rounds);
        layer("pool1", () -> pool.forward(r1), steps, rounds);
        layer("conv2", () -> conv2.forward(p1), steps, rounds);
        layer("relu2 [64,16,10,10]", () -> a2.relu(), steps, rounds);
        layer("pool2", () -> pool.forward(r2), steps, rounds);
        layer("fc1+relu", () -> fc1.forward(f).relu(), steps, rounds);
        layer("fc2+relu", () -> fc2.forward(h1).relu(), steps, rounds);
        layer("fc3", () -> fc3.forward(h2), steps, rounds);
        layer("cross-entropy", () -> loss.forward(o, tgt), steps, rounds);
        SGD opt = new SGD(java.util.List.of(conv1.weight(), conv1.bias(), conv2.weight(), conv2.bias(),
                fc1.weight(), fc1.bias(), fc2.weight(), fc2.bias(), fc3.weight(), fc3.bias()), 0.05, 0.9);
        // gradients for the optimizer: one backward pass whose grads are kept across rounds
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor l = loss.forward(fc3.forward(fc2.forward(fc1.forward(pool.forward(conv2.forward(pool.forward(conv1.forward(in).relu())).relu())
                    .flatten(1, -1)).relu()).relu()), tgt);
            l.backward();
            for (Tensor p : opt.params()) scope.keep(p.grad().data());
        }
        report("sgd step (10 params)", opt::step, steps, rounds);
    }

    /** Forward alone and forward + backward of one layer (the difference is its backward). */
    private static void layer(String name, java.util.function.Supplier<Tensor> fwd, int steps, int rounds) {
        report(name + " fwd", () -> {
            try (MemoryScope s = MemoryScope.open()) { fwd.get(); }
        }, steps, rounds);
        report(name + " fwd+bwd", () -> {
            try (MemoryScope s = MemoryScope.open()) {
                Tensor out = fwd.get();
                if (out.numel() == 1) out.backward(); else out.backward(Tensor.onesLike(out));
            }
        }, steps, rounds);
    }

    private static void report(String name, Runnable r, int steps, int rounds) {
        for (int i = 0; i < steps * 2; i++) r.run(); // warm-up
        double[] wall = new double[rounds], cpu = new double[rounds];
        for (int k = 0; k < rounds; k++) {
            long c0 = MX.getCurrentThreadCpuTime(), t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) r.run();
            wall[k] = (System.nanoTime() - t0) / 1e3 / steps;
            cpu[k] = (MX.getCurrentThreadCpuTime() - c0) / 1e3 / steps;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        System.out.printf("%-32s wall best %8.1f us  median %8.1f | caller cpu best %8.1f  median %8.1f%n",
                name, wall[0], wall[rounds / 2], cpu[0], cpu[rounds / 2]);
    }
}
