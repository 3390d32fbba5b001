package io.jtensor.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code jtensor run File.java [args]}: runs a single-file Java program with Java's source launcher, jtensor on its
 * class path and the JVM flags it needs; the program's arguments follow the file unchanged. Exit code: the
 * program's.
 */
final class RunCommand {
    private RunCommand() {}

    /** The java command line for file and its arguments; fails at once when file is not a readable .java file. */
    static List<String> command(String file, List<String> programArgs) {
        Path p = Path.of(file);
        if (!file.endsWith(".java")) throw new UsageException("run: expected a .java source file, got '" + file + "'");
        if (!Files.isReadable(p)) throw new UsageException("run: cannot read " + p.toAbsolutePath());
        List<String> cmd = new ArrayList<>();
        cmd.add(JavaTools.tool("java").toString());
        cmd.addAll(JavaTools.jvmFlags());
        cmd.addAll(List.of("-cp", JavaTools.classPath(), file));
        cmd.addAll(programArgs);
        return cmd;
    }

    static int run(String[] args) {
        if (args.length == 0) throw new UsageException("run: expected a .java file to run (jtensor run File.java [args])");
        return JavaTools.runInForeground(command(args[0], Arrays.asList(args).subList(1, args.length)));
    }
}
