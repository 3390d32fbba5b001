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
 * {@code jtensor train --devices cpu:0,cpu:1} (DataParallel) and with {@code --parallel-criterion} on the real
 * Fashion-MNIST: both train (accuracy far above chance), name the devices, and write a checkpoint of the bare
 * module that {@code eval} (which knows nothing of the wrapper) loads and scores the same.
 */
class TrainDataParallelEndToEndTest {
    private static final Pattern LAST = Pattern.compile("test accuracy: (0\\.\\d{4}) \\(mlp, 1 epoch, cpu:0,cpu:1\\)");
    private static final Pattern EVAL = Pattern.compile("test accuracy: (0\\.\\d{4}) \\(mlp, checkpoint after 1 epoch, cpu\\)");

    private static void trainAndEval(Path dir, boolean parallelCriterion) throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", "mlp", "--limit", "512", "--epochs", "1",
                "--devices", "cpu:0,cpu:1", "--workers", "1", "--checkpoint-dir", dir.toString()));
        if (parallelCriterion) args.add("--parallel-criterion");
        MainTest.Result r = MainTest.run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(0).endsWith("on cpu:0,cpu:1 " + (parallelCriterion ? "(DataParallelModel + DataParallelCriterion)" : "(DataParallel)")), lines.get(0));
        Matcher m = LAST.matcher(lines.get(lines.size() - 1));
        assertTrue(m.matches(), "last line: " + lines.get(lines.size() - 1));
        assertTrue(Double.parseDouble(m.group(1)) > 0.3, "test accuracy " + m.group(1));

        MainTest.Result e = MainTest.run("eval", "--checkpoint", dir.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        List<String> el = e.out().lines().toList();
        Matcher em = EVAL.matcher(el.get(el.size() - 1));
        assertTrue(em.matches(), el.get(el.size() - 1));
        assertEquals(m.group(1), em.group(1), "the checkpoint is the wrapped module's: eval loads it bare and agrees");
    }

    @Test void dataParallelOnTwoLogicalCpuDevices(@TempDir Path dir) throws Exception { trainAndEval(dir, false); }

    @Test void parallelCriterionOnTwoLogicalCpuDevices(@TempDir Path dir) throws Exception { trainAndEval(dir, true); }
}
