package io.jtensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a main class in a new JVM with this one's class path and jtensor settings (the reproducibility tests). */
public final class ChildJvm {
    private ChildJvm() {}

    /** The last line the main class printed; fails the test when the JVM fails. */
    public static String lastLine(Class<?> main, String... jvmFlags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        cmd.addAll(List.of(jvmFlags));
        // The same jtensor settings as this JVM: results may differ with the thread count (each thread sums its own
        // share, and the shares are added in a fixed order), which is outside what these tests are about.
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("jtensor.")) cmd.add("-D" + key + "=" + System.getProperty(key));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.MINUTES)) p.destroyForcibly();
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM " + cmd + " failed:\n" + text);
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1].strip();
    }
}
