package io.jtensor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/cuda.sh, which decides for ./jtensor and the Maven build whether the CUDA kernels are compiled: with a
 * fake nvcc on PATH and a fake driver on LD_LIBRARY_PATH, so that it does not depend on this machine's CUDA. Catches
 * auto mode compiling without a driver (the 2.5 minutes ./jtensor spent for nothing on a machine without a GPU),
 * the toolkit's stub library counting as a driver, and always/never being ignored.
 */
class KernelPlanScriptTest {
    /** From the module directory (Maven) or the repository root (the GPU hosts' runner). */
    private static final Path SCRIPT = java.util.stream.Stream.of(Path.of("..", "scripts", "cuda.sh"), Path.of("scripts", "cuda.sh"))
            .filter(Files::isRegularFile).findFirst().orElse(Path.of("..", "scripts", "cuda.sh")).toAbsolutePath().normalize();

    @org.junit.jupiter.api.BeforeEach
    void needsTheScript() {
        assumeTrue(Files.isRegularFile(SCRIPT), "scripts/cuda.sh is not next to this test run (" + SCRIPT + ")");
    }

    record Result(int code, String line) {}

    @TempDir Path tmp;

    private Path fakeNvcc() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path nvcc = bin.resolve("nvcc");
        Files.writeString(nvcc, "#!/bin/sh\necho fake nvcc\n");
        Files.setPosixFilePermissions(nvcc, PosixFilePermissions.fromString("rwxr-xr-x"));
        return nvcc;
    }

    private Result run(String function, String arg, String ldLibraryPath) throws Exception {
        var pb = new ProcessBuilder("bash", "-c", "source \"$0\"; " + function + " " + arg, SCRIPT.toString());
        Map<String, String> env = pb.environment();
        env.put("PATH", tmp.resolve("bin") + ":/usr/bin:/bin");
        env.put("LD_LIBRARY_PATH", ldLibraryPath);
        env.remove("CUDA_HOME");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "bash " + SCRIPT + " " + function + " did not finish in 20 s");
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void autoBuildsWhereADriverIsInstalled() throws Exception {
        Path nvcc = fakeNvcc();
        Path driverDir = Files.createDirectories(tmp.resolve("driver"));
        Files.writeString(driverDir.resolve("libcuda.so.1"), "");
        Result r = run("jtensor_kernel_plan", "auto", driverDir.toString());
        assertEquals(0, r.code(), r.line());
        assertTrue(r.line().startsWith("CUDA kernels: building with " + nvcc + " (CUDA driver at "), r.line());
    }

    @Test
    void autoSkipsWithoutADriverAndTheStubDoesNotCount() throws Exception {
        fakeNvcc();
        Path stubs = Files.createDirectories(tmp.resolve("stubs"));
        Files.writeString(stubs.resolve("libcuda.so"), "");
        assumeTrue(run("jtensor_find_cuda_driver", "", stubs.toString()).code() != 0,
                "this machine has a CUDA driver installed, so the no-driver case cannot be seen here");
        Result r = run("jtensor_kernel_plan", "auto", stubs.toString());
        assertEquals(1, r.code(), r.line());
        assertTrue(r.line().startsWith("CUDA kernels: not built (no CUDA driver"), r.line());
        assertTrue(r.line().contains("JTENSOR_CUDA_KERNELS=always"), "the line says how to build them anyway: " + r.line());
    }

    @Test
    void alwaysAndNeverOverrideTheDriverCheck() throws Exception {
        Path nvcc = fakeNvcc();
        Result always = run("jtensor_kernel_plan", "always", "");
        assertEquals(0, always.code(), always.line());
        assertEquals("CUDA kernels: building with " + nvcc + " (JTENSOR_CUDA_KERNELS=always)", always.line());
        Path driverDir = Files.createDirectories(tmp.resolve("driver"));
        Files.writeString(driverDir.resolve("libcuda.so.1"), "");
        Result never = run("jtensor_kernel_plan", "never", driverDir.toString());
        assertEquals(1, never.code(), never.line());
        assertEquals("CUDA kernels: not built (JTENSOR_CUDA_KERNELS=never)", never.line());
    }

    @Test
    void anUnknownModeIsRefusedNamingTheChoices() throws Exception {
        fakeNvcc();
        Result r = run("jtensor_kernel_plan", "sometimes", "");
        assertEquals(2, r.code(), r.line());
        assertEquals("JTENSOR_CUDA_KERNELS=sometimes: expected always, auto or never", r.line());
    }
}
