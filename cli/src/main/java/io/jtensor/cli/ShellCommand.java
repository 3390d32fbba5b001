package io.jtensor.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code jtensor shell}: jshell with jtensor on the class path, the JVM flags it needs and the common imports made,
 * so that {@code Tensor.randn(2, 3).matmul(Tensor.randn(3, 2))} works at the first prompt. Arguments after
 * {@code shell} go to jshell unchanged (e.g. a script file to run, or {@code --feedback concise}).
 */
final class ShellCommand {
    /**
     * Made before the user's first line, after jshell's DEFAULT imports (java.util.* and friends). Module is
     * imported by name: java.lang.Module would otherwise make the simple name ambiguous.
     */
    static final String IMPORTS = """
            import io.jtensor.DType;
            import io.jtensor.Device;
            import io.jtensor.Generator;
            import io.jtensor.NDArray;
            import io.jtensor.TensorPrinter;
            import io.jtensor.autograd.GradMode;
            import io.jtensor.autograd.Tensor;
            import io.jtensor.memory.MemoryScope;
            import io.jtensor.nn.*;
            import io.jtensor.nn.Module;
            import io.jtensor.nn.data.*;
            import io.jtensor.nn.models.*;
            import io.jtensor.nn.optim.*;
            """;

    private ShellCommand() {}

    /** The jshell command line: startup is a file holding {@link #IMPORTS}. */
    static List<String> command(Path startup, List<String> userArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(JavaTools.tool("jshell").toString());
        cmd.addAll(List.of("--class-path", JavaTools.classPath()));
        // jshell compiles snippets in its own JVM and runs them in a second one: -C for the compiler, -R for the runner.
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "-C-Xlint:-incubating"));
        for (String f : JavaTools.jvmFlags()) cmd.add("-R" + f);
        cmd.addAll(List.of("--startup", "DEFAULT", "--startup", startup.toString()));
        cmd.addAll(userArgs);
        return cmd;
    }

    /** Writes the imports to a temporary file that is deleted when this JVM exits. */
    static Path writeStartup() {
        try {
            Path f = Files.createTempFile("jtensor-shell-", ".jsh");
            f.toFile().deleteOnExit();
            Files.writeString(f, IMPORTS);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("jtensor shell: could not write the startup imports", e);
        }
    }

    static int run(String[] args) {
        return JavaTools.runInForeground(command(writeStartup(), List.of(args)));
    }
}
