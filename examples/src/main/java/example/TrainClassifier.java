package example;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.ReLU;
import io.jtensor.nn.Sequential;
import io.jtensor.nn.optim.Adam;
import java.util.Random;

/**
 * Trains a small MLP to tell two interleaved spirals apart, on the GPU when one works and on the CPU otherwise, and
 * prints its accuracy. Exits with status 1 if the model did not learn (below 0.95), so that CI notices.
 */
public class TrainClassifier {
    public static void main(String[] args) {
        int n = 1000;
        float[] points = new float[2 * n];
        long[] labels = new long[n];
        Random random = new Random(42);
        for (int i = 0; i < n; i++) {
            int cls = i % 2;
            double r = 0.1 + 0.9 * random.nextDouble(), angle = 3 * Math.PI * r + cls * Math.PI;
            points[2 * i] = (float) (r * Math.cos(angle) + 0.02 * random.nextGaussian());
            points[2 * i + 1] = (float) (r * Math.sin(angle) + 0.02 * random.nextGaussian());
            labels[i] = cls;
        }
        // The first GPU when CUDA works here (a driver, a GPU, and kernels in the engine jar), else the CPU; or as asked.
        Device device = args.length > 0 ? Device.parse(args[0]) : Backends.cudaAvailable() ? Device.cuda(0) : Device.cpu();
        Tensor x = Tensor.of(points, n, 2).to(device), y = Tensor.of(labels, n).to(device);

        Module model = new Sequential(new Linear(2, 64), new ReLU(), new Linear(64, 64), new ReLU(), new Linear(64, 2));
        model.to(device);
        var optimizer = new Adam(model.parameters(), 0.01);
        var lossFn = new CrossEntropyLoss();
        for (int step = 1; step <= 500; step++) {
            try (var scope = MemoryScope.open()) {          // frees every array the step made
                Tensor loss = lossFn.forward(model.forward(x), y);
                model.zeroGrad();
                loss.backward();
                optimizer.step();
                if (step % 100 == 0) System.out.printf("step %d  loss %.4f%n", step, loss.item());
            }
        }
        double accuracy;
        try (var scope = MemoryScope.open()) {
            accuracy = model.forward(x).argmax(1, false).eq(y).to(DType.F32).mean().item();
        }
        System.out.printf("accuracy %.3f on %s%n", accuracy, device);
        if (accuracy < 0.95) System.exit(1);
    }
}
