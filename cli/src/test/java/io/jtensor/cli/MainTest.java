package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line without training: help, usage errors (exit 2), failures (exit 1), devices. */
class MainTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test void helpListsTheCommands() {
        for (String[] args : new String[][] {{"--help"}, {"help"}, {"-h"}}) {
            Result r = run(args);
            assertEquals(0, r.code());
            for (String c : new String[] {"train", "eval", "devices"}) assertTrue(r.out().contains("  " + c + " "), r.out());
        }
    }

    @Test void commandHelpListsItsFlagsWithDefaults() {
        Result r = run("train", "--help");
        assertEquals(0, r.code());
        for (String f : new String[] {"--model NAME", "--epochs N", "--device DEV", "--batch-size N", "--lr X", "--optimizer NAME",
                "--momentum X", "--weight-decay X", "--augment", "--seed N", "--checkpoint-dir DIR", "--data-dir DIR", "--limit N", "--log FILE"}) {
            assertTrue(r.out().contains(f), "missing " + f + " in\n" + r.out());
        }
        assertTrue(r.out().contains("(default lenet5)"));
        assertEquals(r.out(), run("help", "train").out());
    }

    @Test void noCommandOrAnUnknownOneIsAUsageError() {
        Result r = run();
        assertEquals(2, r.code());
        assertTrue(r.err().contains("usage: jtensor"));
        r = run("fit");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'fit'"), r.err());
    }

    @Test void badFlagsExitWithTwoNamingTheFlagThenTheUsage() {
        Result r = run("train", "--epochs", "3", "--bogus");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("jtensor train: unknown flag --bogus"), r.err());
        assertTrue(r.err().contains("usage: jtensor train"), r.err());
        assertEquals("", r.out());

        r = run("train", "--epochs", "abc");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--epochs: expected an integer, got 'abc'"), r.err());

        r = run("train", "--device", "tpu");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--device"), r.err());

        r = run("train", "--model", "vgg");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--model") && r.err().contains("lenet5"), r.err());

        r = run("train", "--resume");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--resume") && r.err().contains("--checkpoint-dir"), r.err());

        r = run("eval");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--checkpoint"), r.err());
    }

    @Test void missingDataSaysHowToGetIt(@TempDir Path empty) {
        Result r = run("train", "--model", "mlp", "--device", "cpu", "--data-dir", empty.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("apt-get install dataset-fashion-mnist"), r.err());
        assertTrue(r.err().contains(empty.toString()), r.err());
    }

    @Test void evalOfAMissingCheckpointFailsNamingIt(@TempDir Path empty) {
        Result r = run("eval", "--checkpoint", empty.toString(), "--device", "cpu");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(empty.toString()) && r.err().contains("checkpoint"), r.err());
    }

    @Test void devicesPrintsATableAndALineAboutCuda() {
        Result r = run("devices");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].startsWith("+--") && lines[lines.length - 2].startsWith("+--"), r.out());
        assertTrue(r.out().contains("| cpu:0"), r.out());
        assertTrue(r.out().contains(String.valueOf(Runtime.getRuntime().availableProcessors())));
        assertTrue(lines[lines.length - 1].startsWith("cuda: "), lines[lines.length - 1]);
        if (!io.jtensor.backend.Backends.cudaAvailable()) assertTrue(lines[lines.length - 1].startsWith("cuda: not available: "));
        // Every table line has the same width.
        for (int i = 0; i < lines.length - 1; i++) assertEquals(lines[0].length(), lines[i].length(), lines[i]);
    }

    @Test void byteSizesAreHumanReadable() {
        assertEquals("512 B", DevicesCommand.bytes(512));
        assertEquals("1.5 KiB", DevicesCommand.bytes(1536));
        assertEquals("2.0 GiB", DevicesCommand.bytes(2L << 30));
    }
}
