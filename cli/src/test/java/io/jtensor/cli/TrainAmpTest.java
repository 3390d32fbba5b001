package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.nn.amp.OptLevel;
import io.jtensor.nn.data.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --amp O1|O2|O3 [--amp-dtype f16|bf16]}: the options, their errors, and a short O2 run with eval of its checkpoint. */
class TrainAmpTest {
    private static TrainCommand.Options parse(String... args) {
        return TrainCommand.parse(ParsedArgs.parse("train", TrainCommand.FLAGS, args));
    }

    @Test void ampLevelAndHalfTypeAreParsedAndNamedInTheRecipe() {
        assertNull(parse().amp(), "fp32 unless asked");
        TrainCommand.Options o = parse("--amp", "O2", "--amp-dtype", "bf16");
        assertEquals(OptLevel.O2, o.amp());
        assertEquals(DType.BF16, o.ampDtype());
        assertEquals(DType.F16, parse("--amp", "O1").ampDtype());
        assertTrue(TrainCommand.recipe(o, 100).contains("amp O2 BF16"), TrainCommand.recipe(o, 100));
    }

    @Test void badAmpValuesNameWhatWasExpected() {
        UsageException e = assertThrows(UsageException.class, () -> parse("--amp", "O7"));
        assertTrue(e.getMessage().contains("--amp") && e.getMessage().contains("O0, O1, O2 or O3") && e.getMessage().contains("O7"), e.getMessage());
        UsageException d = assertThrows(UsageException.class, () -> parse("--amp", "O1", "--amp-dtype", "f32"));
        assertTrue(d.getMessage().contains("amp-dtype") && d.getMessage().contains("f32"), d.getMessage());
    }

    private static final Pattern LAST_LINE = Pattern.compile("test accuracy: (0\\.\\d{4}) \\(lenet5-bn, (1 epoch|checkpoint after 1 epoch), cpu\\)");

    @Test void o2RunTrainsAndItsCheckpointEvaluatesInFp32(@TempDir Path dir) {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.SYSTEM_DIR), "Fashion-MNIST is not installed in " + FashionMnist.SYSTEM_DIR);
        MainTest.Result r = MainTest.run("train", "--model", "lenet5-bn", "--limit", "512", "--epochs", "1", "--device", "cpu",
                "--workers", "1", "--amp", "O2", "--checkpoint-dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        Matcher m = LAST_LINE.matcher(lines.get(lines.size() - 1));
        assertTrue(m.matches(), "last line: " + lines.get(lines.size() - 1));
        assertTrue(Double.parseDouble(m.group(1)) > 0.3, "test accuracy " + m.group(1));
        MainTest.Result e = MainTest.run("eval", "--checkpoint", dir.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        List<String> el = e.out().lines().toList();
        Matcher em = LAST_LINE.matcher(el.get(el.size() - 1));
        assertTrue(em.matches(), el.get(el.size() - 1));
        // eval runs the fp32 masters, train evaluated their half copies: close, not necessarily equal
        assertEquals(Double.parseDouble(m.group(1)), Double.parseDouble(em.group(1)), 0.03);
    }
}
