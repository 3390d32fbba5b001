package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.CrossEntropyLoss;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.ReLU;
import io.jtensor.nn.Sequential;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.SGD;
import io.jtensor.nn.parallel.DataParallel;
import io.jtensor.nn.parallel.DataParallelCriterion;
import io.jtensor.nn.parallel.DataParallelModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Trainer drives a DataParallel model, and a DataParallelModel with a DataParallelCriterion, to the same epoch
 * losses, accuracies and final weights as the plain module (the last batch of each epoch splits unevenly), and
 * their checkpoints hold the wrapped module's state, loadable into the bare module.
 */
class DataParallelTrainerTest {
    private static final List<Device> FOUR = List.of(Device.cpu(0), Device.cpu(1), Device.cpu(2), Device.cpu(3));

    private static Module mlp() {
        Generator.manualSeed(21);
        return new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
    }

    private static History fit(Module model, Trainer.Builder b, TensorDataset data) {
        try (DataLoader loader = DataLoader.builder(data).batchSize(30).build()) {
            return b.trainData(loader).validationData(loader).epochs(2).build().fit();
        }
    }

    private static void assertSeriesClose(History expected, History actual, String key) {
        assertArrayEquals(expected.series(key), actual.series(key), 1e-5, key);
    }

    @Test void dataParallelAndTheParallelCriterionTrainLikeThePlainModule() {
        try (TensorDataset data = Blobs.dataset(100, 3)) { // batches of 30, 30, 30, 10: the last over 4 devices is 3, 3, 3, 1
            CrossEntropyLoss ce = new CrossEntropyLoss();
            Module plain = mlp(), a = mlp(), b = mlp();
            History ref = fit(plain, Trainer.builder(plain, new SGD(plain.parameters(), 0.1, 0.9), ce::forward), data);

            DataParallel dp = new DataParallel(a, FOUR);
            History gathered = fit(dp, Trainer.builder(dp, new SGD(dp.parameters(), 0.1, 0.9), ce::forward), data);

            DataParallelModel dpm = new DataParallelModel(b, FOUR);
            History parallel = fit(dpm, Trainer.builder(dpm, new SGD(dpm.parameters(), 0.1, 0.9), new DataParallelCriterion(ce, FOUR)), data);

            for (History h : List.of(gathered, parallel)) {
                for (String k : List.of(Logs.LOSS, Logs.ACCURACY, Logs.VAL_LOSS, Logs.VAL_ACCURACY)) assertSeriesClose(ref, h, k);
            }
            for (Module m : List.of(a, b)) {
                var want = plain.namedParameters();
                m.namedParameters().forEach((k, v) -> assertArrayEquals(want.get(k).toDoubleArray(), v.toDoubleArray(), 1e-5, k));
            }
        }
    }

    @Test void theCheckpointIsTheWrappedModulesAndLoadsWithoutTheWrapper(@TempDir Path dir) throws Exception {
        try (TensorDataset data = Blobs.dataset(60, 4)) {
            Module inner = mlp();
            DataParallel dp = new DataParallel(inner, FOUR);
            CrossEntropyLoss ce = new CrossEntropyLoss();
            fit(dp, Trainer.builder(dp, new SGD(dp.parameters(), 0.1), ce::forward).callback(new Checkpoint(dir)), data);
            Map<String, NDArray> state = CheckpointIO.modelState(dir);
            try {
                assertEquals(inner.namedParameters().keySet(), state.keySet(), "keys of the bare module, no 'module.' prefix");
                Module bare = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
                bare.loadStateDict(state);
                for (var e : inner.namedParameters().entrySet()) {
                    assertArrayEquals(e.getValue().toDoubleArray(), bare.namedParameters().get(e.getKey()).toDoubleArray(), e.getKey());
                }
            } finally {
                state.values().forEach(NDArray::close);
            }
            // And a trainer over the wrapper restores from it.
            Module other = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
            DataParallel dp2 = new DataParallel(other, FOUR);
            try (DataLoader loader = DataLoader.builder(data).batchSize(30).build()) {
                Trainer t = Trainer.builder(dp2, new SGD(dp2.parameters(), 0.1), ce::forward).trainData(loader).epochs(2).build();
                t.restore(dir);
                assertEquals(2, t.startEpoch());
            }
            Tensor w = other.parameters().get(0);
            assertArrayEquals(inner.parameters().get(0).toDoubleArray(), w.toDoubleArray(), "restored through the wrapper");
        }
    }
}
