package io.jtensor.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code jtensor} command: {@code train}, {@code eval}, {@code devices}, {@code launch}, {@code help}. Exit codes: 0 success,
 * 1 the command failed (message on stderr), 2 a bad command line (the message names the bad flag or value, then
 * the usage).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        // Exit explicitly: loader worker threads and native resources must not keep the JVM alive.
        System.exit(code);
    }

    /** Runs one command line, writing to out and err; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("jtensor: no command given");
            err.print(usage());
            return 2;
        }
        String cmd = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (cmd) {
            case "-h", "--help" -> {
                out.print(usage());
                return 0;
            }
            case "help" -> {
                if (rest.length == 0) {
                    out.print(usage());
                    return 0;
                }
                List<Flag> flags = flagsOf(rest[0]);
                if (flags == null) {
                    err.println("jtensor help: unknown command '" + rest[0] + "'");
                    err.print(usage());
                    return 2;
                }
                out.print(commandUsage(rest[0], flags));
                return 0;
            }
            case "launch" -> {
                // Its own parser: everything after "--" is the workers' command line, flags included.
                return LaunchCommand.run(rest, out, err);
            }
            case "shell", "run" -> {
                return JdkToolCommands.run(cmd, rest, err);
            }
            default -> {
                List<Flag> flags = flagsOf(cmd);
                if (flags == null) {
                    err.println("jtensor: unknown command '" + cmd + "'");
                    err.print(usage());
                    return 2;
                }
                return runCommand(cmd, flags, rest, out, err);
            }
        }
    }

    private static List<Flag> flagsOf(String cmd) {
        return switch (cmd) {
            case "train" -> TrainCommand.FLAGS;
            case "eval" -> EvalCommand.FLAGS;
            case "devices" -> DevicesCommand.FLAGS;
            case "launch" -> LaunchCommand.FLAGS;
            case "search" -> SearchCommand.FLAGS;
            default -> null;
        };
    }

    private static int runCommand(String cmd, List<Flag> flags, String[] rest, PrintStream out, PrintStream err) {
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            out.print(commandUsage(cmd, flags));
            return 0;
        }
        try {
            ParsedArgs a = ParsedArgs.parse(cmd, flags, rest);
            return switch (cmd) {
                case "train" -> TrainCommand.run(a, out, err);
                case "eval" -> EvalCommand.run(a, out, err);
                case "devices" -> DevicesCommand.run(a, out);
                case "search" -> SearchCommand.run(a, out, err);
                default -> throw new IllegalStateException("unreachable: " + cmd);
            };
        } catch (UsageException e) {
            String msg = e.getMessage();
            err.println("jtensor " + cmd + ": " + (msg.startsWith(cmd + ": ") ? msg.substring(cmd.length() + 2) : msg));
            err.print(commandUsage(cmd, flags));
            return 2;
        } catch (CommandException e) {
            err.println("jtensor " + cmd + ": " + e.getMessage());
            return 1;
        } catch (RuntimeException | OutOfMemoryError e) {
            err.println("jtensor " + cmd + ": failed: " + e);
            if (System.getenv("JTENSOR_DEBUG") != null) e.printStackTrace(err);
            else err.println("(set JTENSOR_DEBUG=1 for the stack trace)");
            return 1;
        }
    }

    static String usage() {
        return """
                usage: jtensor <command> [flags]

                commands:
                  train     train a model on Fashion-MNIST and print its test accuracy
                  eval      print the test accuracy of a checkpoint written by train
                  devices   list the devices jtensor can use and the memory it holds on them
                  launch    start one worker process per device for distributed training (-- <command ...>)
                  search    hyper-parameter search over train runs, ranked by validation accuracy
                  shell     jshell with jtensor on the class path and its common classes imported
                  run       run a single-file Java program with jtensor: jtensor run File.java [args]
                  help      show this help, or `jtensor help <command>` for a command's flags

                example:
                  jtensor train --model lenet5 --data fashion-mnist --epochs 10 --device auto
                """;
    }

    static String commandUsage(String cmd, List<Flag> flags) {
        StringBuilder sb = new StringBuilder("usage: jtensor ").append(cmd).append(flags.isEmpty() ? "\n" : " [flags]\n");
        if (!flags.isEmpty()) sb.append("\nflags:\n");
        int width = 0;
        for (Flag f : flags) width = Math.max(width, f.synopsis().length());
        for (Flag f : flags) {
            sb.append(String.format(Locale.ROOT, "  %-" + width + "s  %s", f.synopsis(), f.help()));
            if (f.defaultValue() != null) sb.append(" (default ").append(f.defaultValue()).append(')');
            sb.append('\n');
        }
        return sb.toString();
    }
}
