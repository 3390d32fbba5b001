package io.jtensor.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a JVM started for jtensor code needs, taken from this one: the JDK's tools (java, jshell), jtensor's class
 * path, the flags the engine cannot run without (native access for off-heap memory and CUDA, the Vector API for the
 * CPU backend) and every {@code -Djtensor.*} setting this JVM was given. {@code jtensor shell} and {@code jtensor run}
 * start their child with these, so a setting given to {@code ./jtensor} (JTENSOR_JAVA_OPTS) reaches the user's code.
 */
final class JavaTools {
    /** The flags every JVM running jtensor needs. */
    static final List<String> REQUIRED_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector");

    private JavaTools() {}

    /** A tool of the running JDK ({@code java}, {@code jshell}); fails naming what is missing. */
    static Path tool(String name) {
        Path p = Path.of(System.getProperty("java.home"), "bin", name);
        if (!Files.isExecutable(p)) {
            throw new CommandException(name + " not found at " + p + ": jtensor needs a full JDK 25 (not a JRE) for this command");
        }
        return p;
    }

    static String classPath() { return System.getProperty("java.class.path"); }

    /** REQUIRED_FLAGS followed by this JVM's {@code -Djtensor.*} properties. */
    static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(REQUIRED_FLAGS);
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("jtensor.")) flags.add("-D" + key + "=" + System.getProperty(key));
        }
        return flags;
    }

    /**
     * Runs cmd with this process's terminal (stdin, stdout, stderr inherited) and returns its exit code. While it
     * runs, Ctrl-C is left to the child: an interactive tool (jshell) treats it as "cancel this line", and this JVM
     * dying under it would hand the terminal back to the shell while the child still reads from it.
     */
    static int runInForeground(List<String> cmd) {
        Process p;
        try {
            p = new ProcessBuilder(cmd).inheritIO().start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + cmd.get(0), e);
        }
        sun.misc.Signal interrupt = new sun.misc.Signal("INT");
        sun.misc.SignalHandler previous = sun.misc.Signal.handle(interrupt, sun.misc.SignalHandler.SIG_IGN);
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return 130;
        } finally {
            sun.misc.Signal.handle(interrupt, previous);
        }
    }
}
