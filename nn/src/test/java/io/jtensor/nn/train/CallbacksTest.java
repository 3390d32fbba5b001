package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.NDArray;
import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.SGD;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EarlyStopping, MetricsLog and ProgressBar on short runs. */
class CallbacksTest {
    private TensorDataset trainSet;
    private DataLoader train;

    @BeforeEach void setUp() {
        trainSet = Blobs.dataset(256, 1);
        train = Blobs.loader(trainSet, 32, true);
    }

    @AfterEach void tearDown() {
        train.close();
        trainSet.close();
    }

    /** Overwrites val_loss with a scripted sequence, so that the early-stopping decisions are known in advance. */
    static final class ScriptedMetric implements Callback {
        final double[] values;
        ScriptedMetric(double... values) { this.values = values; }
        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) { logs.put("val_loss", values[epoch]); }
    }

    /** Copies the model's weights at the end of one epoch. */
    static final class Snapshot implements Callback {
        final int atEpoch;
        Trainer trainer;
        Map<String, NDArray> weights;
        Snapshot(int atEpoch) { this.atEpoch = atEpoch; }
        @Override public void onTrainBegin(Trainer t, Map<String, Double> logs) { trainer = t; }
        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) {
            if (epoch == atEpoch) {
                weights = trainer.model().stateDict();
                weights.values().forEach(NDArray::keep);
            }
        }
    }

    @Test void earlyStoppingStopsAfterPatienceAndRestoresTheBestEpoch() {
        Module model = Blobs.mlp(3);
        // Best at epoch 1; epochs 2 and 3 are no better (by minDelta 0.05: 0.47 does not count), patience 2 stops after epoch 3.
        ScriptedMetric script = new ScriptedMetric(1.0, 0.5, 0.47, 0.9, 0.1, 0.1);
        Snapshot snap = new Snapshot(1);
        EarlyStopping es = new EarlyStopping("val_loss", 2, 0.05, null, true);
        try (SGD opt = new SGD(model.parameters(), 0.2)) {
            History h = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(6)
                    .callbacks(script, snap, es).build().fit();
            assertEquals(4, h.size());
        }
        assertEquals(1, es.bestEpoch());
        assertEquals(3, es.stoppedEpoch());
        assertEquals(0.5, es.best());
        Map<String, NDArray> now = model.stateDict();
        for (String k : snap.weights.keySet()) {
            assertArrayEquals(snap.weights.get(k).toFloatArray(), now.get(k).toFloatArray(), 0f, "restored " + k);
        }
        now.values().forEach(NDArray::close);
        snap.weights.values().forEach(NDArray::close);
    }

    @Test void earlyStoppingInfersMaxModeForAccuracyAndNeedsItsMetric() {
        Module model = Blobs.mlp(3);
        EarlyStopping es = new EarlyStopping("val_accuracy", 1, 0, null, false);
        try (SGD opt = new SGD(model.parameters(), 0.2)) {
            var e = assertThrows(IllegalStateException.class,
                    () -> Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(2).callbacks(es).build().fit());
            assertTrue(e.getMessage().contains("val_accuracy"), e.getMessage());
        }
        EarlyStopping acc = new EarlyStopping("accuracy", 0, 0, null, false);
        try (SGD opt = new SGD(model.parameters(), 0.2)) {
            // patience 0: stops at the first epoch that does not beat the best; accuracy is maximised.
            Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(3)
                    .callbacks(new Callback() {
                        @Override public void onEpochEnd(int epoch, Map<String, Double> logs) { logs.put("accuracy", new double[] {0.5, 0.9, 0.8}[epoch]); }
                    }, acc).build().fit();
        }
        assertEquals(1, acc.bestEpoch());
        assertEquals(2, acc.stoppedEpoch());
    }

    @Test void metricsLogWritesCsvWithAHeaderAndOneRowPerEpoch(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("m.csv");
        Module model = Blobs.mlp(3);
        History h;
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            h = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(2)
                    .callbacks(MetricsLog.forFile(csv)).build().fit();
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals(3, lines.size(), lines.toString());
        List<String> header = List.of(lines.get(0).split(","));
        assertEquals("epoch", header.get(0));
        assertTrue(header.containsAll(List.of("loss", "accuracy", "lr")), header.toString());
        for (int e = 0; e < 2; e++) {
            String[] cells = lines.get(e + 1).split(",");
            assertEquals(String.valueOf(e + 1), cells[0]);
            assertEquals(h.entries().get(e).logs().get("loss"), Double.parseDouble(cells[header.indexOf("loss")]), 0);
        }
    }

    @Test void metricsLogWritesJsonLines(@TempDir Path dir) throws Exception {
        Path jsonl = dir.resolve("m.jsonl");
        Module model = Blobs.mlp(3);
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).epochs(2)
                    .callbacks(MetricsLog.forFile(jsonl)).build().fit();
        }
        List<String> lines = Files.readAllLines(jsonl);
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).matches("\\{\"epoch\":1,\"loss\":[0-9.eE-]+,\"accuracy\":[0-9.eE-]+,\"lr\":0\\.1,.*\\}"), lines.get(0));
        assertTrue(lines.get(1).startsWith("{\"epoch\":2,"));
    }

    private static String runWithBar(ProgressBar bar, DataLoader data, int epochs) {
        Module model = Blobs.mlp(3);
        try (SGD opt = new SGD(model.parameters(), 0.1)) {
            Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(data).epochs(epochs).callbacks(bar).build().fit();
        }
        return "";
    }

    @Test void progressBarInALogPrintsALineEveryQuarterAndAnEpochSummary() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        runWithBar(new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 25), train, 2);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), "no carriage returns in a log");
        List<String> lines = out.lines().toList();
        // 8 batches: progress lines at 2/8, 4/8, 6/8, then the summary; twice.
        assertEquals(8, lines.size(), out);
        assertTrue(lines.get(0).startsWith("epoch 1/2 [") && lines.get(0).contains("2/8"), lines.get(0));
        assertTrue(lines.get(2).contains("6/8"), lines.get(2));
        for (String k : List.of("loss ", "acc ", "samples/s", "ETA ")) assertTrue(lines.get(1).contains(k), lines.get(1));
        for (int i : new int[] {0, 1, 2}) assertEquals(79, lines.get(i).length(), "the bar fills the line to 79 columns: " + lines.get(i));
        assertTrue(lines.get(3).startsWith("epoch 1/2 0:0") && lines.get(3).contains("loss") && lines.get(3).contains("lr 0.1"), lines.get(3));
        assertTrue(lines.get(7).startsWith("epoch 2/2"), lines.get(7));
    }

    @Test void progressBarOnATerminalRedrawsInPlace() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        runWithBar(new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), true, 10), train, 1);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("\repoch 1/1 ["), out);
        assertTrue(out.contains("8/8"), "the last batch is always drawn: " + out);
        assertEquals(1, out.chars().filter(c -> c == '\n').count(), "one newline, after the epoch summary");
        assertTrue(out.endsWith("\n"));
    }

    @Test void durationsFormatAsMinutesAndHours() {
        assertEquals("0:07", ProgressBar.formatDuration(6.6));
        assertEquals("2:05", ProgressBar.formatDuration(125));
        assertEquals("1:00:01", ProgressBar.formatDuration(3601));
    }

}
