package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.nn.data.FashionMnist;
import io.jtensor.nn.train.search.SearchSpace;
import java.nio.file.Files;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code jtensor search}: the range syntax, and a tiny real search whose winner is the trial with the best
 * validation accuracy (not the test set's), scored on the test set once at the end. Catches a winner picked by
 * anything but the validation score, trials that never ran, and a malformed range accepted.
 */
class SearchCommandTest {
    @Test
    void rangesParse() {
        SearchSpace.Builder b = SearchSpace.builder();
        SearchCommand.addDim(b, "lr", "log:1e-4..1e-1");
        SearchCommand.addDim(b, "weight-decay", "0..0.01");
        SearchCommand.addDim(b, "batch-size", "32,64,128");
        var dims = b.build().dims();
        assertEquals(new SearchSpace.LogUniform(1e-4, 1e-1), dims.get("lr"));
        assertEquals(new SearchSpace.Uniform(0, 0.01), dims.get("weight-decay"));
        assertInstanceOf(SearchSpace.Choice.class, dims.get("batch-size"));
        assertEquals(List.of("32", "64", "128"), ((SearchSpace.Choice) dims.get("batch-size")).values());
        var e = assertThrows(UsageException.class, () -> SearchCommand.addDim(SearchSpace.builder(), "lr", "log:1e-4..x"));
        assertTrue(e.getMessage().startsWith("--lr: expected log:LO..HI, LO..HI or A,B,C"), e.getMessage());
    }

    private static final Pattern TRIAL = Pattern.compile("trial (\\d+): .* -> validation accuracy (0\\.\\d{4})");
    private static final Pattern BEST = Pattern.compile("best: trial (\\d+) .*, validation accuracy (0\\.\\d{4}); test accuracy 0\\.\\d{4} \\(mlp, 1 epoch\\)");

    @Test
    void theWinnerIsTheBestValidationScore() {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        MainTest.Result r = MainTest.run("search", "--model", "mlp", "--trials", "1", "--coarse-to-fine", "2", "--epochs", "1", "--limit", "300",
                "--lr", "log:1e-3..1e-1", "--batch-size", "32,64", "--device", "cpu", "--workers", "1");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        String bestTrial = null;
        double bestScore = -1;
        int trials = 0;
        for (String l : lines) {
            Matcher m = TRIAL.matcher(l);
            if (!m.matches()) continue;
            trials++;
            double s = Double.parseDouble(m.group(2));
            if (s > bestScore) {
                bestScore = s;
                bestTrial = m.group(1);
            }
        }
        assertEquals(2, trials, r.out());
        Matcher m = BEST.matcher(lines.get(lines.size() - 1));
        assertTrue(m.matches(), lines.get(lines.size() - 1));
        assertEquals(bestScore, Double.parseDouble(m.group(2)), "the winner has the best validation accuracy:\n" + r.out());
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("test accuracy")), "trials do not print test accuracies:\n" + r.out());
        assertTrue(bestTrial != null);
    }
}
