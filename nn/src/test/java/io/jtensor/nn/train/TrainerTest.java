package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.Device;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryStats;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.SGD;
import io.jtensor.nn.optim.StepLR;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TrainerTest {
    private TensorDataset trainSet, valSet;
    private DataLoader train, val;

    @BeforeEach void setUp() {
        trainSet = Blobs.dataset(256, 1);
        valSet = Blobs.dataset(128, 2);
        train = Blobs.loader(trainSet, 32, true);
        val = Blobs.loader(valSet, 64, false);
    }

    @AfterEach void tearDown() {
        train.close();
        val.close();
        trainSet.close();
        valSet.close();
    }

    @Test void fitLearnsTheBlobsAndReportsEpochMetrics() {
        Module model = Blobs.mlp(3);
        try (Adam opt = new Adam(model.parameters(), 0.05)) {
            Trainer t = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).validationData(val).epochs(5).build();
            History h = t.fit();
            assertEquals(5, h.size());
            Map<String, Double> last = h.last();
            for (String k : List.of(Logs.LOSS, Logs.ACCURACY, Logs.VAL_LOSS, Logs.VAL_ACCURACY, Logs.LR, Logs.SAMPLES_PER_SEC)) {
                assertTrue(last.containsKey(k), "missing " + k + " in " + last);
            }
            assertTrue(last.get(Logs.VAL_ACCURACY) > 0.95, "val accuracy " + last.get(Logs.VAL_ACCURACY));
            double[] loss = h.series(Logs.LOSS);
            assertTrue(loss[4] < loss[0] * 0.5, "training loss should fall: " + java.util.Arrays.toString(loss));
            assertTrue(model.isTraining(), "fit leaves the model in training mode");
            Map<String, Double> ev = t.evaluate(val);
            assertEquals(last.get(Logs.VAL_LOSS), ev.get(Logs.LOSS), 1e-6, "evaluate() is the validation pass");
            assertEquals(last.get(Logs.VAL_ACCURACY), ev.get(Logs.ACCURACY), 0);
        }
    }

    /** Records the hooks it sees. */
    static final class Recorder implements Callback {
        final List<String> events = new ArrayList<>();
        final List<Double> batchSamples = new ArrayList<>();

        @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) { events.add("trainBegin"); }
        @Override public void onEpochBegin(int epoch, Map<String, Double> logs) { events.add("epochBegin" + epoch); }
        @Override public void onBatchEnd(int batch, Map<String, Double> logs) {
            events.add("batch" + batch);
            batchSamples.add(logs.get(Logs.SAMPLES));
            assertTrue(logs.containsKey(Logs.LOSS) && logs.containsKey(Logs.ACCURACY));
        }
        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) { events.add("epochEnd" + epoch); }
        @Override public void onTrainEnd(Map<String, Double> logs) { events.add("trainEnd"); }
    }

    @Test void callbacksSeeEveryHookInOrder() {
        Module model = Blobs.mlp(3);
        Recorder rec = new Recorder();
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(2).callbacks(rec).build().fit();
        }
        List<String> expected = new ArrayList<>(List.of("trainBegin"));
        for (int e = 0; e < 2; e++) {
            expected.add("epochBegin" + e);
            for (int b = 0; b < 8; b++) expected.add("batch" + b);
            expected.add("epochEnd" + e);
        }
        expected.add("trainEnd");
        assertEquals(expected, rec.events);
        assertEquals(32.0, rec.batchSamples.get(0));
        assertEquals(256.0, rec.batchSamples.get(7));
    }

    @Test void stopTrainingEndsAfterTheCurrentEpoch() {
        Module model = Blobs.mlp(3);
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            Trainer t = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(10).callbacks(new Callback() {
                Trainer tr;
                @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) { tr = trainer; }
                @Override public void onEpochEnd(int epoch, Map<String, Double> logs) { if (epoch == 2) tr.stopTraining(); }
            }).build();
            assertEquals(3, t.fit().size());
        }
    }

    @Test void memoryStaysFlatAcrossEpochs() {
        // A logical device of its own, so that the collector freeing other tests' garbage on cpu:0 can't move the figures.
        Device own = Device.cpu(3);
        Module model = Blobs.mlp(3);
        model.to(own);
        MemoryStats stats = Backends.cpu().allocator().stats(own);
        List<Long> held = new ArrayList<>(), counts = new ArrayList<>();
        try (Adam opt = new Adam(model.parameters(), 0.01)) {
            Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).validationData(val).epochs(4)
                    .scheduler(new StepLR(opt, 1, 0.9))
                    .callbacks(new Callback() {
                        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) {
                            held.add(stats.allocated());
                            counts.add(stats.count());
                        }
                    }).build().fit();
        }
        // The first epoch creates the optimizer's state; from then on every step frees what it made.
        assertEquals(held.get(1), held.get(3), "bytes held after epoch 2 vs 4: " + held);
        assertEquals(counts.get(1), counts.get(3), "live allocations after epoch 2 vs 4: " + counts);
    }

    @Test void schedulerStepsOncePerEpochAndLogsTheRateUsed() {
        Module model = Blobs.mlp(3);
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            History h = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(3)
                    .scheduler(new StepLR(opt, 1, 0.5)).build().fit();
            assertArrayEquals(new double[] {0.1, 0.05, 0.025}, h.series(Logs.LR), 1e-15);
            assertEquals(0.0125, opt.paramGroups().get(0).lr(), 1e-15);
        }
    }

    @Test void aPerBatchScheduleStepsAfterEveryBatch() {
        Module model = Blobs.mlp(3);
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            // 8 batches per epoch, halving every 4 steps: epoch 1 starts after 2 halvings.
            History h = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(2)
                    .schedulerPerBatch(new StepLR(opt, 4, 0.5)).build().fit();
            assertArrayEquals(new double[] {0.1, 0.025}, h.series(Logs.LR), 1e-15);
            assertEquals(0.1 / 16, opt.paramGroups().get(0).lr(), 1e-15);
        }
    }

    @Test void gradientClippingBoundsEachStep() {
        Module model = Blobs.mlp(3);
        Map<String, io.jtensor.NDArray> before = model.stateDict();
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(1).clipGradNorm(1e-3).build().fit();
        }
        Map<String, io.jtensor.NDArray> after = model.stateDict();
        double sq = 0;
        for (String k : before.keySet()) {
            float[] a = before.get(k).toFloatArray(), b = after.get(k).toFloatArray();
            for (int i = 0; i < a.length; i++) sq += (double) (a[i] - b[i]) * (a[i] - b[i]);
        }
        // 8 plain SGD steps of lr * (a gradient of norm <= 1e-3): the weights move by at most 8e-4 in all.
        double moved = Math.sqrt(sq);
        assertTrue(moved > 0 && moved <= 8 * 0.1 * 1e-3 * (1 + 1e-4), "moved " + moved);
        before.values().forEach(io.jtensor.NDArray::close);
        after.values().forEach(io.jtensor.NDArray::close);
    }

    @Test void badConfigurationIsRejected() {
        Module model = Blobs.mlp(3);
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            assertThrows(IllegalArgumentException.class, () -> Trainer.builder(model, opt, Blobs.crossEntropy()).epochs(0));
            assertThrows(NullPointerException.class, () -> Trainer.builder(model, opt, Blobs.crossEntropy()).build());
        }
    }
}
