package io.jtensor.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryLocatorTest {
    private static final Path LIBZ = Path.of("/usr/lib/x86_64-linux-gnu/libz.so.1");

    @TempDir Path tmp;

    private static LibrarySpec missing() {
        return LibrarySpec.toolkit("Nothing", "libjtensor-does-not-exist.so", List.of(), "libjtensor-does-not-exist.so.7");
    }

    @Test
    void failureListsEveryPlaceInOrder() throws IOException {
        Path ld1 = Files.createDirectory(tmp.resolve("ld1"));
        Path venv = tmp.resolve("venv");
        Path wheelLib = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cublas/lib"));
        Files.writeString(wheelLib.resolve("libunrelated.so.1"), "x");
        var loc = new NativeLibraryLocator(
                Map.of("CUDA_HOME", tmp.resolve("cuda").toString(), "LD_LIBRARY_PATH", ld1 + ":" + tmp.resolve("gone"),
                        "VIRTUAL_ENV", venv.toString()),
                tmp.resolve("override").toString(), tmp.resolve("home").toString(),
                List.of(tmp.resolve("sys1").toString()), List.of("$VIRTUAL_ENV/lib/python3*/site-packages", "~/.local/lib/python3*/site-packages",
                        "$CONDA_PREFIX/lib/python3*/site-packages"));
        LibraryNotFoundException e = assertThrows(LibraryNotFoundException.class, () -> loc.load(missing()));
        String m = e.getMessage();
        assertTrue(m.startsWith("Nothing library (libjtensor-does-not-exist.so*) not found"), m);
        List<String> expectedInOrder = List.of(
                tmp.resolve("override") + " (-Djtensor.cuda.libs): no such directory",
                "CUDA_HOME/lib64", "CUDA_PATH: not set",
                ld1 + " (LD_LIBRARY_PATH): no libjtensor-does-not-exist.so*",
                tmp.resolve("gone") + " (LD_LIBRARY_PATH): no such directory",
                tmp.resolve("sys1") + " (system): no such directory",
                wheelLib + " (python wheel): no libjtensor-does-not-exist.so*",
                tmp.resolve("home") + "/.local/lib/python3*/site-packages/nvidia/*/lib: no match",
                "$CONDA_PREFIX/lib/python3*/site-packages: CONDA_PREFIX not set",
                "system loader dlopen(\"libjtensor-does-not-exist.so.7\")",
                "-Djtensor.cuda.libs=DIR[:DIR]");
        int at = -1;
        for (String s : expectedInOrder) {
            int i = m.indexOf(s);
            assertTrue(i > at, "expected '" + s + "' after position " + at + " in:\n" + m);
            at = i;
        }
        assertEquals(10, e.searched().size(), m);
    }

    @Test
    void findsVersionedFileInLdLibraryPathDirectory() throws IOException {
        assumeTrue(Files.exists(LIBZ), "no " + LIBZ + " on this machine");
        Path dir = Files.createDirectory(tmp.resolve("d"));
        Files.createSymbolicLink(dir.resolve("libz.so.1"), LIBZ);
        var loc = new NativeLibraryLocator(Map.of("LD_LIBRARY_PATH", dir.toString()), null, "", List.of(), List.of());
        NativeLibraryLocator.Loaded l = loc.load(LibrarySpec.toolkit("zlib", "libz.so", List.of()));
        assertEquals(dir.resolve("libz.so.1").toString(), l.where());
        assertTrue(l.lookup().find("zlibVersion").isPresent());
    }

    @Test
    void overrideComesFirstAndWheelLayoutIsFound() throws IOException {
        assumeTrue(Files.exists(LIBZ), "no " + LIBZ + " on this machine");
        Path over = Files.createDirectory(tmp.resolve("over"));
        Files.createSymbolicLink(over.resolve("libz.so.1"), LIBZ);
        Path wheel = Files.createDirectories(tmp.resolve("venv/lib/python3.11/site-packages/nvidia/cu13/lib"));
        Files.createSymbolicLink(wheel.resolve("libz.so.1"), LIBZ);
        List<String> roots = List.of("$VIRTUAL_ENV/lib/python3*/site-packages");
        Map<String, String> env = Map.of("VIRTUAL_ENV", tmp.resolve("venv").toString());
        var withOverride = new NativeLibraryLocator(env, over.toString(), "", List.of(), roots);
        assertEquals(over.resolve("libz.so.1").toString(), withOverride.load(LibrarySpec.toolkit("zlib", "libz.so", List.of())).where());
        var wheelsOnly = new NativeLibraryLocator(env, null, "", List.of(), roots);
        assertEquals(wheel.resolve("libz.so.1").toString(), wheelsOnly.load(LibrarySpec.toolkit("zlib", "libz.so", List.of())).where());
    }

    @Test
    void corruptCandidateIsReportedAndSkipped() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("bad"));
        Files.writeString(dir.resolve("libjtensor-does-not-exist.so.3"), "not an ELF file");
        var loc = new NativeLibraryLocator(Map.of("LD_LIBRARY_PATH", dir.toString()), null, "", List.of(), List.of());
        LibraryNotFoundException e = assertThrows(LibraryNotFoundException.class, () -> loc.load(missing()));
        assertTrue(e.getMessage().contains("libjtensor-does-not-exist.so.3 found but failed to load"), e.getMessage());
    }

    @Test
    void highestVersionSortsFirst() throws IOException {
        for (String n : List.of("libx.so", "libx.so.12", "libx.so.13", "libx.so.13.1.0", "libx.so.9", "libxy.so.1", "libx.so.bak")) {
            Files.writeString(tmp.resolve(n), "x");
        }
        List<String> names = NativeLibraryLocator.matches(tmp, "libx.so").stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("libx.so.13.1.0", "libx.so.13", "libx.so.12", "libx.so.9", "libx.so"), names);
    }

    @Test
    void globsExpandStarComponents() throws IOException {
        Files.createDirectories(tmp.resolve("a/python3.10/x"));
        Files.createDirectories(tmp.resolve("a/python3.12/x"));
        Files.createDirectories(tmp.resolve("a/other/x"));
        List<Path> got = Globs.expand(tmp + "/a/python3*/x");
        assertEquals(List.of(tmp.resolve("a/python3.10/x"), tmp.resolve("a/python3.12/x")), got);
        assertTrue(Globs.expand(tmp + "/nope/*/x").isEmpty());
    }
}
