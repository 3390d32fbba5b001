package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Seeded CPU training gives bit-identical weights whatever the JIT does (for one thread count: with another, sums
 * split differently over the threads). Run-to-run differences were real
 * (engine/.../backend/cpu/NOTES.md): {@code reduceLanes(ADD)} summed vector lanes in one order in the Java fallback
 * and in another once C2 intrinsified it, so results depended on when methods got compiled. A JVM limited to C1
 * never runs the intrinsics, and this JVM, warmed up, runs them everywhere: equal digests mean no result depends on
 * the compiler.
 */
class ReproducibilityTest {
    @Test void seededTrainingIsBitIdenticalAcrossJvmsAndJitTiers() throws Exception {
        String c1Only = runInFreshJvm("-XX:TieredStopAtLevel=1");
        String fresh = runInFreshJvm();
        for (int warm = 0; warm < 2; warm++) SeededTraining.digest();
        String warmed = SeededTraining.digest();
        assertTrue(c1Only.matches("[0-9a-f]{64}"), "expected a SHA-256 from the child JVM, got: " + c1Only);
        assertEquals(c1Only, fresh, "a fresh JVM with C2 trained to other weights than a C1-only JVM");
        assertEquals(c1Only, warmed, "this JVM, warmed up, trained to other weights than a C1-only JVM");
    }

    /** Runs {@link SeededTraining} in a new JVM with this one's class path and returns the digest it prints. */
    private static String runInFreshJvm(String... jvmFlags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        cmd.addAll(List.of(jvmFlags));
        // The same jtensor settings as this JVM: results may differ with the thread count (each thread sums its own
        // share, and the shares are added in a fixed order), which is outside what this test is about.
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("jtensor.")) cmd.add("-D" + key + "=" + System.getProperty(key));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SeededTraining.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.MINUTES)) p.destroyForcibly();
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM " + cmd + " failed:\n" + text);
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1].strip();
    }
}
