package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.NDArray;
import io.jtensor.io.SafeTensors;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.StepLR;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run interrupted after epoch k and resumed from its checkpoint ends with exactly the weights of the same run done
 * in one go: model, Adam state, step schedule, dropout's random stream and the loader's shuffling all carry over.
 */
class CheckpointResumeTest {
    private static final int EPOCHS = 4;

    /** The same run built from scratch (model, optimizer, scheduler, loader); stopped after stopAfter epochs when > 0. */
    private static Map<String, NDArray> run(Path checkpointDir, int stopAfter, boolean resume) throws Exception {
        try (TensorDataset data = Blobs.dataset(256, 1); DataLoader loader = Blobs.loader(data, 32, true)) {
            Module model = Blobs.mlp(5);
            try (Adam opt = new Adam(model.parameters(), 0.02)) {
                Trainer.Builder b = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(loader).epochs(EPOCHS)
                        .scheduler(new StepLR(opt, 2, 0.5))
                        .checkpointMetadata("model", "blobs-mlp");
                if (checkpointDir != null) b.callback(new Checkpoint(checkpointDir));
                if (stopAfter > 0) {
                    b.callback(new Callback() {
                        Trainer t;
                        @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) { t = trainer; }
                        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) { if (epoch + 1 == stopAfter) t.stopTraining(); }
                    });
                }
                Trainer trainer = b.build();
                History h = resume ? trainer.resume(checkpointDir) : trainer.fit();
                if (resume) assertEquals(EPOCHS - stopAfter, h.size(), "the resumed run trains only the remaining epochs");
                return model.stateDict();
            }
        }
    }

    @Test void resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Map<String, NDArray> straight = run(null, 0, false);
        Map<String, NDArray> firstHalf = run(dir, 2, false);
        assertEquals("2", CheckpointIO.metadata(dir).get("epoch"));
        // Something else uses the default generator between the two halves, as a new process would (model init).
        io.jtensor.Generator.manualSeed(999);
        Map<String, NDArray> resumed = run(dir, 2, true);
        try {
            assertEquals(straight.keySet(), resumed.keySet());
            boolean differsFromHalf = false;
            for (String k : straight.keySet()) {
                assertArrayEquals(straight.get(k).toFloatArray(), resumed.get(k).toFloatArray(), 0f, k);
                differsFromHalf |= !java.util.Arrays.equals(straight.get(k).toFloatArray(), firstHalf.get(k).toFloatArray());
            }
            assertTrue(differsFromHalf, "the second half must have changed the weights");
        } finally {
            Stream.of(straight, firstHalf, resumed).forEach(m -> m.values().forEach(NDArray::close));
        }
    }

    @Test void checkpointHoldsModelOptimizerAndRunStateAndNoTemporaryFiles(@TempDir Path dir) throws Exception {
        run(dir, 0, false).values().forEach(NDArray::close);
        Path file = dir.resolve(CheckpointIO.FILE_NAME);
        assertTrue(Files.isRegularFile(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "atomic writes leave only the checkpoint behind");
        }
        var header = SafeTensors.readHeader(file);
        Map<String, String> meta = header.metadata();
        assertEquals(CheckpointIO.FORMAT, meta.get("format"));
        assertEquals(String.valueOf(EPOCHS), meta.get("epoch"));
        assertEquals("blobs-mlp", meta.get("model"));
        assertEquals("4.0", meta.get("scheduler.last_epoch"));
        assertTrue(meta.containsKey("generator.seed") && meta.containsKey("generator.offset"));
        assertTrue(header.tensors().containsKey("model.0.weight"), header.tensors().keySet().toString());
        assertTrue(header.tensors().containsKey("optimizer.state.0.exp_avg"), header.tensors().keySet().toString());
        assertTrue(header.tensors().containsKey("optimizer.param_groups.0.lr"));
    }

    @Test void resumeFromAMissingCheckpointSaysWhere(@TempDir Path dir) {
        var e = assertThrows(java.io.FileNotFoundException.class, () -> run(dir, 0, true));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }
}
