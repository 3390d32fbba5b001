package io.jtensor.nn.train;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.memory.MemoryScope;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Dropout;
import io.jtensor.nn.Sequential;
import io.jtensor.nn.models.LeNet5;
import io.jtensor.nn.optim.SGD;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * A few seeded training steps of LeNet-5 with batch norm and dropout on random data; {@link #main} prints a digest of
 * every parameter's bytes. {@link ReproducibilityTest} runs it in fresh JVMs with different JIT settings: the
 * digest must not depend on when (or whether) C2 compiles the CPU kernels.
 */
public final class SeededTraining {
    static final int STEPS = 12;

    private SeededTraining() {}

    public static void main(String[] args) {
        System.out.println(digest());
    }

    static String digest() {
        Generator.manualSeed(2024);
        Sequential model = new Sequential(LeNet5.withBatchNorm(), new Dropout(0.2));
        SGD sgd = new SGD(model.parameters(), 0.05, 0.9);
        CrossEntropyLoss loss = new CrossEntropyLoss();
        Generator data = new Generator(77);
        for (int step = 0; step < STEPS; step++) {
            try (MemoryScope scope = MemoryScope.open()) {
                Tensor x = Tensor.randn(data, DType.F32, Device.cpu(), 32, 1, 28, 28);
                Tensor y = Tensor.wrap(NDArray.randint(data, 0, 10, Device.cpu(), 32));
                sgd.zeroGrad();
                loss.forward(model.forward(x), y).backward();
                sgd.step();
            }
        }
        return sha256(model.stateDict());
    }

    private static String sha256(Map<String, NDArray> state) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (var e : state.entrySet()) {
                md.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(e.getValue().toBytes());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
