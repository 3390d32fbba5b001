package io.jtensor.cli;

import java.io.PrintStream;

/**
 * The commands that start another JDK tool with jtensor on its class path ({@code shell}, {@code run}): their
 * arguments belong to that tool or program, so they are not parsed as jtensor flags.
 */
final class JdkToolCommands {
    private JdkToolCommands() {}

    static final String USAGE = """
            usage: jtensor shell [jshell arguments]
                   jtensor run File.java [program arguments]
            """;

    /** Runs shell or run; the exit code is the tool's, or 2 for a bad command line, 1 when it could not start. */
    static int run(String cmd, String[] rest, PrintStream err) {
        try {
            return switch (cmd) {
                case "shell" -> ShellCommand.run(rest);
                case "run" -> RunCommand.run(rest);
                default -> throw new IllegalArgumentException("JdkToolCommands: not a JDK tool command: " + cmd);
            };
        } catch (UsageException e) {
            err.println("jtensor " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (CommandException | java.io.UncheckedIOException e) {
            err.println("jtensor " + cmd + ": " + e.getMessage());
            return 1;
        }
    }
}
