package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.io.SafeTensors;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.StepLR;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint that restore rejects leaves the run exactly as it was (weights, optimizer state, scheduler, default
 * generator, loader epoch), and the error names the file, the key, what was expected and what came. Each case
 * damages one part of a good checkpoint, metadata or arrays, so that a restore that applies anything before checking
 * everything is caught.
 */
class CheckpointRestoreValidationTest {
    @TempDir static Path dir;
    private static Path good;

    @BeforeAll static void writeAGoodCheckpoint() throws Exception {
        try (TensorDataset data = Blobs.dataset(64, 1); DataLoader loader = Blobs.loader(data, 32, true)) {
            Module model = Blobs.mlp(5);
            try (Adam opt = new Adam(model.parameters(), 0.02)) {
                Trainer t = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(loader).epochs(2)
                        .scheduler(new StepLR(opt, 1, 0.5)).callback(new Checkpoint(dir.resolve("good"))).build();
                t.fit();
            }
        }
        good = dir.resolve("good").resolve(CheckpointIO.FILE_NAME);
    }

    /** A copy of the good checkpoint with its metadata and arrays changed by the two editors. */
    private static Path damaged(String name, Consumer<Map<String, String>> meta, Consumer<Map<String, NDArray>> arrays) throws IOException {
        Map<String, NDArray> all = SafeTensors.load(good);
        try {
            Map<String, String> m = new LinkedHashMap<>(SafeTensors.readHeader(good).metadata());
            meta.accept(m);
            Map<String, NDArray> a = new LinkedHashMap<>(all);
            arrays.accept(a);
            Path f = dir.resolve(name + ".safetensors");
            SafeTensors.save(f, a, m);
            return f;
        } finally {
            all.values().forEach(NDArray::close);
        }
    }

    /** Restores file into a fresh run and checks that it fails naming the parts, and that nothing changed. */
    private static void rejectedWithoutChange(Path file, String... parts) throws Exception {
        try (TensorDataset data = Blobs.dataset(64, 1); DataLoader loader = Blobs.loader(data, 32, true)) {
            Module model = Blobs.mlp(5);
            try (Adam opt = new Adam(model.parameters(), 0.02)) {
                StepLR sched = new StepLR(opt, 1, 0.5);
                Trainer t = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(loader).epochs(2).scheduler(sched).build();
                t.fit(); // some optimizer state and a scheduler position of its own
                Generator.defaultGenerator().setSeed(4242);
                Generator.defaultGenerator().setOffset(17);
                Map<String, NDArray> weights = model.stateDict(), optState = opt.stateDict();
                Map<String, Double> schedState = sched.stateDict();
                long nextEpoch = loader.nextEpoch();
                try {
                    IOException e = assertThrows(IOException.class, () -> t.restore(file));
                    for (String p : parts) assertTrue(e.getMessage().contains(p), "\"" + e.getMessage() + "\" lacks \"" + p + "\"");
                    assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
                    Map<String, NDArray> after = model.stateDict(), optAfter = opt.stateDict();
                    try {
                        for (String k : weights.keySet()) assertArrayEquals(weights.get(k).toFloatArray(), after.get(k).toFloatArray(), 0f, k);
                        assertEquals(optState.keySet(), optAfter.keySet());
                        for (String k : optState.keySet()) assertArrayEquals(optState.get(k).toDoubleArray(), optAfter.get(k).toDoubleArray(), 0, k);
                    } finally {
                        after.values().forEach(NDArray::close);
                        optAfter.values().forEach(NDArray::close);
                    }
                    assertEquals(schedState, sched.stateDict());
                    assertEquals(4242, Generator.defaultGenerator().seed());
                    assertEquals(17, Generator.defaultGenerator().offset());
                    assertEquals(nextEpoch, loader.nextEpoch());
                } finally {
                    weights.values().forEach(NDArray::close);
                    optState.values().forEach(NDArray::close);
                }
            }
        }
    }

    private static Consumer<Map<String, String>> set(String key, String value) { return m -> m.put(key, value); }
    private static final Consumer<Map<String, NDArray>> SAME = a -> {};

    @Test void badMetadataNamesFileKeyExpectedAndGotAndChangesNothing() throws Exception {
        rejectedWithoutChange(damaged("epoch", set("epoch", "three"), SAME), "'epoch'", "integer", "\"three\"");
        rejectedWithoutChange(damaged("negative-epoch", set("epoch", "-2"), SAME), "'epoch'", "[0, ", "got -2");
        rejectedWithoutChange(damaged("seed", set("generator.seed", "0x2A"), SAME), "'generator.seed'", "integer", "\"0x2A\"");
        rejectedWithoutChange(damaged("offset", set("generator.offset", "1e3"), SAME), "'generator.offset'", "\"1e3\"");
        rejectedWithoutChange(damaged("big-offset", set("generator.offset", "99999999999999999999"), SAME), "'generator.offset'");
        rejectedWithoutChange(damaged("sched", set("scheduler.last_epoch", "two"), SAME), "'scheduler.last_epoch'", "number", "\"two\"");
        rejectedWithoutChange(damaged("loader", set("loader.next_epoch", ""), SAME), "'loader.next_epoch'", "integer");
        rejectedWithoutChange(damaged("no-seed", m -> m.remove("generator.seed"), SAME), "'generator.seed'", "missing");
    }

    @Test void aRejectedOptimizerStateLeavesTheAlreadyCheckedModelAsItWas() throws Exception {
        // the model part is valid and would load; the optimizer's saved group count is wrong
        Path f = damaged("optimizer", m -> {}, a -> a.put("optimizer.param_groups.0.count", NDArray.scalar(99, io.jtensor.DType.F64, io.jtensor.Device.cpu())));
        try (TensorDataset data = Blobs.dataset(64, 1); DataLoader loader = Blobs.loader(data, 32, true)) {
            Module model = Blobs.mlp(5);
            try (Adam opt = new Adam(model.parameters(), 0.02)) {
                Trainer t = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(loader).epochs(1).build();
                Map<String, NDArray> before = model.stateDict();
                try {
                    assertThrows(IllegalArgumentException.class, () -> t.restore(f));
                    Map<String, NDArray> after = model.stateDict();
                    for (String k : before.keySet()) assertArrayEquals(before.get(k).toFloatArray(), after.get(k).toFloatArray(), 0f, k);
                    after.values().forEach(NDArray::close);
                } finally {
                    before.values().forEach(NDArray::close);
                }
            }
        }
    }
}
