package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.nn.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jtensor train --limit 512 --epochs 1} on the real Fashion-MNIST, then {@code eval} of its checkpoint: the
 * last line reports the test accuracy, which beats chance (0.1) by far.
 */
class TrainEndToEndTest {
    private static final Pattern LAST_LINE = Pattern.compile("test accuracy: (0\\.\\d{4}) \\(mlp, (1 epoch|checkpoint after 1 epoch), cpu\\)");

    @Test void tinyTrainRunPrintsTestAccuracyAboveChanceAndEvalAgrees(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        Path log = dir.resolve("metrics.csv");
        MainTest.Result r = MainTest.run("train", "--model", "mlp", "--limit", "512", "--epochs", "1", "--device", "cpu",
                "--workers", "1", "--checkpoint-dir", dir.toString(), "--log", log.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        Matcher m = LAST_LINE.matcher(lines.get(lines.size() - 1));
        assertTrue(m.matches(), "last line: " + lines.get(lines.size() - 1));
        double acc = Double.parseDouble(m.group(1));
        assertTrue(acc > 0.3, "test accuracy " + acc);
        assertTrue(lines.get(0).startsWith("train: mlp on fashion-mnist (512 training images)"), lines.get(0));
        assertEquals(2, Files.readAllLines(log).size(), "a header and one epoch");

        MainTest.Result e = MainTest.run("eval", "--checkpoint", dir.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        List<String> el = e.out().lines().toList();
        Matcher em = LAST_LINE.matcher(el.get(el.size() - 1));
        assertTrue(em.matches(), el.get(el.size() - 1));
        assertEquals(m.group(1), em.group(1), "eval of the checkpoint gives the accuracy train printed");
    }
}
