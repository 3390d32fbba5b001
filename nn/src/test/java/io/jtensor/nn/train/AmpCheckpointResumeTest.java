package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.io.SafeTensors;
import io.jtensor.nn.Module;
import io.jtensor.nn.amp.Amp;
import io.jtensor.nn.amp.OptLevel;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.Adam;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An O2 run interrupted after epoch 2 and resumed from its checkpoint ends with exactly the masters, half weights and
 * loss scale of the same run done in one go; the checkpoint's model arrays are the F32 masters.
 */
class AmpCheckpointResumeTest {
    private static final int EPOCHS = 4;

    private record End(List<float[]> masters, List<float[]> halves, double scale) {}

    private static End run(Path dir, int stopAfter, boolean resume) throws Exception {
        try (TensorDataset data = Blobs.dataset(128, 1); DataLoader loader = Blobs.loader(data, 32, true)) {
            Module model = Blobs.mlp(5);
            try (Adam opt = new Adam(model.parameters(), 0.02)) {
                Amp amp = Amp.initialize(model, opt, OptLevel.O2);
                Trainer.Builder b = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(loader).epochs(EPOCHS).amp(amp);
                if (dir != null) b.callback(new Checkpoint(dir));
                if (stopAfter > 0) {
                    b.callback(new Callback() {
                        Trainer t;
                        @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) { t = trainer; }
                        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) { if (epoch + 1 == stopAfter) t.stopTraining(); }
                    });
                }
                Trainer trainer = b.build();
                if (resume) trainer.resume(dir);
                else trainer.fit();
                return new End(amp.masterParameters().stream().map(Tensor::toFloatArray).toList(),
                        amp.halfParameters().stream().map(Tensor::toFloatArray).toList(), amp.scaler().getScale());
            }
        }
    }

    @Test void resumedO2RunEndsWhereTheUninterruptedOneDoes(@TempDir Path dir) throws Exception {
        End straight = run(null, 0, false);
        run(dir, 2, false);
        Map<String, NDArray> saved = SafeTensors.load(dir.resolve(CheckpointIO.FILE_NAME));
        try {
            assertTrue(saved.containsKey(CheckpointIO.AMP_PREFIX + "scaler.scale"), saved.keySet().toString());
            saved.forEach((k, v) -> {
                if (k.startsWith(CheckpointIO.MODEL_PREFIX)) assertEquals(DType.F32, v.dtype(), k + " holds the fp32 master");
            });
        } finally {
            saved.values().forEach(NDArray::close);
        }
        End resumed = run(dir, 0, true);
        assertEquals(straight.scale(), resumed.scale());
        for (int k = 0; k < straight.masters().size(); k++) {
            assertArrayEquals(straight.masters().get(k), resumed.masters().get(k), 0f, "master " + k);
            assertArrayEquals(straight.halves().get(k), resumed.halves().get(k), 0f, "half weight " + k);
        }
    }
}
