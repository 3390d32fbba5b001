package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jtensor shell} and {@code jtensor run}, each started as the command builds it, with this test JVM's class
 * path (jtensor's modules). Catches a missing import, flag or class-path entry (the first prompt's line would fail
 * to compile or to run), the program's arguments or exit code getting lost, and a bad file not being refused.
 */
class JdkToolCommandsTest {
    @TempDir Path tmp;

    /** The GPU hosts run the tests on a jlinked runtime that has neither jshell nor a compiler. */
    @BeforeEach
    void needsAFullJdk() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(System.getProperty("java.home"), "bin", "jshell"))
                && ModuleLayer.boot().findModule("jdk.compiler").isPresent(), "this runtime has no jshell or javac (a JRE)");
    }

    record Ran(int code, String output) {}

    private static Ran run(List<String> cmd, String stdin, int seconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            // Read on another thread so that a stalled child cannot block the wait below.
            var out = new ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    p.getInputStream().transferTo(out);
                } catch (java.io.IOException ignored) {
                    // the process was killed: what was read is reported below
                }
            });
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            reader.join(5_000);
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(done, cmd.get(0) + " did not finish in " + seconds + " s; its output so far:\n" + text);
            return new Ran(p.exitValue(), text);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void shellRunsTheReadmeLineAtTheFirstPrompt() throws Exception {
        String input = """
                Tensor.randn(2, 3).matmul(Tensor.randn(3, 2)).shape()
                Module m = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
                m.forward(Tensor.zeros(5, 4)).shape()
                Tensor.of(new float[] {1.5f, -2f}, 2).requiresGrad(true)
                /exit
                """;
        Ran r = run(ShellCommand.command(ShellCommand.writeStartup(), List.of()), input, 120);
        assertEquals(0, r.code(), r.output());
        assertFalse(r.output().contains("Error:"), "a line failed to compile:\n" + r.output());
        assertFalse(r.output().contains("Exception"), "a line threw:\n" + r.output());
        assertTrue(r.output().contains("long[2] { 2, 2 }"), "matmul's shape:\n" + r.output());
        assertTrue(r.output().contains("long[2] { 5, 2 }"), "the module's output shape:\n" + r.output());
        assertTrue(r.output().contains("tensor([ 1.5000, -2.0000], requires_grad=True)"), "the tensor as PyTorch prints it:\n" + r.output());
    }

    @Test
    void runPassesArgumentsAndReturnsTheProgramsExitCode() throws Exception {
        Path file = tmp.resolve("Grad.java");
        Files.writeString(file, """
                import io.jtensor.autograd.Tensor;

                public class Grad {
                    public static void main(String[] args) {
                        Tensor x = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
                        x.mul(x).sum().backward();
                        System.out.println(args[0] + " " + x.grad());
                        System.exit(3);
                    }
                }
                """);
        Ran r = run(RunCommand.command(file.toString(), List.of("d(x*x)/dx")), "", 120);
        assertEquals(3, r.code(), r.output());
        assertTrue(r.output().contains("d(x*x)/dx tensor([2., 4., 6.])"), r.output());
    }

    @Test
    void runRefusesWhatIsNotAJavaFile() {
        var err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"run", tmp.resolve("missing.txt").toString()}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("run: expected a .java source file, got '"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, Main.run(new String[] {"run"}, System.out, new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("run: expected a .java file to run"), err.toString(StandardCharsets.UTF_8));
    }
}
