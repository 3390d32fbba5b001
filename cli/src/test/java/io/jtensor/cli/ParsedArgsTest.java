package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class ParsedArgsTest {
    private static final List<Flag> FLAGS = List.of(
            Flag.value("epochs", "N", "10", "epochs"),
            Flag.value("lr", "X", null, "rate"),
            Flag.value("optimizer", "NAME", "sgd", "optimizer"),
            Flag.toggle("augment", "augment"));

    private static ParsedArgs parse(String... args) { return ParsedArgs.parse("train", FLAGS, args); }

    private static String usageError(String... args) {
        return assertThrows(UsageException.class, () -> {
            ParsedArgs a = parse(args);
            a.integer("epochs", 1);
            if (a.has("lr")) a.number("lr", Double.MIN_VALUE, 10);
            a.choice("optimizer", List.of("sgd", "adam"));
        }).getMessage();
    }

    @Test void valuesComeSpacedOrWithEqualsAndDefaultsFillTheRest() {
        ParsedArgs a = parse("--epochs", "3", "--lr=0.5", "--augment");
        assertEquals(3, a.integer("epochs", 1));
        assertEquals(0.5, a.number("lr", 0, 10));
        assertTrue(a.toggle("augment"));
        assertEquals("sgd", a.choice("optimizer", List.of("sgd", "adam")));
        ParsedArgs d = parse();
        assertEquals(10, d.integer("epochs", 1));
        assertFalse(d.toggle("augment"));
        assertFalse(d.has("lr"));
        assertEquals("adam", parse("--optimizer", "ADAM").choice("optimizer", List.of("sgd", "adam")));
    }

    @Test void unknownFlagsAreNamedWithASuggestion() {
        String m = usageError("--epoch", "3");
        assertTrue(m.contains("unknown flag --epoch") && m.contains("did you mean --epochs?"), m);
        m = usageError("--frobnicate");
        assertTrue(m.contains("--frobnicate") && !m.contains("did you mean"), m);
    }

    @Test void badValuesNameTheFlagAndTheValue() {
        String m = usageError("--epochs", "ten");
        assertTrue(m.contains("--epochs") && m.contains("'ten'"), m);
        m = usageError("--epochs", "0");
        assertTrue(m.contains("--epochs") && m.contains(">= 1"), m);
        m = usageError("--lr", "-1");
        assertTrue(m.contains("--lr") && m.contains("-1"), m);
        m = usageError("--lr", "NaN");
        assertTrue(m.contains("--lr"), m);
        m = usageError("--optimizer", "lion");
        assertTrue(m.contains("--optimizer") && m.contains("sgd, adam") && m.contains("'lion'"), m);
    }

    @Test void malformedCommandLines() {
        assertTrue(usageError("--epochs").contains("--epochs needs a value"));
        assertTrue(usageError("--epochs", "--augment").contains("--epochs needs a value"));
        assertTrue(usageError("--augment=yes").contains("--augment takes no value"));
        assertTrue(usageError("--epochs", "1", "--epochs", "2").contains("given twice"));
        assertTrue(usageError("lenet5").contains("unexpected argument 'lenet5'"));
    }

    @Test void deviceSpellingIsCheckedBeforeAnythingRuns() {
        assertEquals("cuda:1", DeviceOption.check("CUDA:1"));
        assertEquals("auto", DeviceOption.check("auto"));
        assertEquals("cpu", DeviceOption.check("cpu"));
        var e = assertThrows(UsageException.class, () -> DeviceOption.check("gpu"));
        assertTrue(e.getMessage().contains("--device") && e.getMessage().contains("'gpu'"));
        assertThrows(UsageException.class, () -> DeviceOption.check("cuda:x"));
    }

    @Test void autoMeansTheCpuWithoutCudaAndCudaWithoutADriverSaysWhy() {
        if (io.jtensor.backend.Backends.cudaAvailable()) {
            assertTrue(DeviceOption.resolve("auto").isCuda());
        } else {
            assertTrue(DeviceOption.resolve("auto").isCpu());
            var e = assertThrows(CommandException.class, () -> DeviceOption.resolve("cuda:0"));
            assertTrue(e.getMessage().contains("CUDA is not available"), e.getMessage());
        }
    }
}
