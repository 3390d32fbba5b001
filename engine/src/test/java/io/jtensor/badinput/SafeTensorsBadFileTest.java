package io.jtensor.badinput;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.NDArray;
import io.jtensor.io.SafeTensors;
import io.jtensor.io.SafeTensorsException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile safetensors headers on the read path (the well-formed and common malformed cases live in SafeTensorsTest):
 * sizes that overflow, numbers that are not longs, nesting meant to exhaust the stack. Every one is a
 * SafeTensorsException naming the file and the problem; none allocates for the claimed size.
 */
class SafeTensorsBadFileTest {
    @TempDir Path dir;

    /** Paths that are not files: the root, a directory, on save and on load; each fails naming the path. */
    @Test
    void directoriesAndTheRootAreRejectedNamingThePath() throws IOException {
        try (NDArray a = NDArray.ones(2)) {
            for (Path p : new Path[] {Path.of("/"), dir}) {
                SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.save(p, Map.of("a", a), Map.of()));
                assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("directory"), e.getMessage());
            }
        }
        for (Path p : new Path[] {Path.of("/"), dir}) {
            SafeTensorsException load = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(p));
            assertTrue(load.getMessage().contains(p.toString()) && load.getMessage().contains("is a directory"), load.getMessage());
            SafeTensorsException header = assertThrows(SafeTensorsException.class, () -> SafeTensors.readHeader(p));
            assertTrue(header.getMessage().contains(p.toString()), header.getMessage());
        }
    }

    @Test
    void shapesWhoseByteCountOverflowAreRejectedBeforeAnyAllocation() throws IOException {
        Path f = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", new byte[4]);
        assertError(f, "tensor \"w\"", "[4294967296, 4294967296, 4294967296]", "too large");
        // The element count fits a long, the byte count does not.
        Path g = write("{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", new byte[8]);
        assertError(g, "tensor \"w\"", "too large");
    }

    @Test
    void numbersThatAreNotNonNegativeLongsAreRejected() throws IOException {
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", new byte[4]),
                "\"shape\"", "non-negative integers", "99999999999999999999");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", new byte[4]), "\"shape\"", "2.5");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", new byte[4]), "\"shape\"", "\"1\"");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", new byte[4]), "\"data_offsets\"", "-4");
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775807,9223372036854775807]}}", new byte[4]),
                "tensor \"w\"", "4 bytes");
    }

    @Test
    void deepNestingFailsWithAMessageNotAStackOverflow() throws IOException {
        String deep = "{\"w\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertError(write(deep, new byte[0]), "malformed JSON", "nesting");
    }

    @Test
    void zeroElementTensorsWithBytesAndStrayBytesAreRejected() throws IOException {
        assertError(write("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,4]}}", new byte[4]), "tensor \"w\"", "needs 0 bytes", "span 4");
        assertError(write("{}", new byte[3]), "3 bytes follow", "unaccounted");
        assertError(write("", new byte[0]), "start with '{'", "nothing");
        assertError(write("{\"__metadata__\":[1]}", new byte[0]), "__metadata__", "[1]");
    }

    @Test
    void duplicateNamesCannotHideBytes() throws IOException {
        Path f = write("{\"w\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                new byte[8]);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(f));
        assertTrue(e.getMessage().contains("\"w\""), e.getMessage());
    }

    @Test
    void savingAClosedArrayFailsAndLeavesNoFile() {
        NDArray a = NDArray.zeros(2);
        a.close();
        Path f = dir.resolve("closed.safetensors");
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.save(f, Map.of("a", a), Map.of()));
        assertTrue(e.getMessage().contains("\"a\"") && e.getMessage().contains("closed"), e.getMessage());
        assertTrue(Files.notExists(f));
        assertEquals(0, dir.toFile().list().length, "no temporary file is left behind");
    }

    private Path write(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        o.writeBytes(h);
        o.writeBytes(data);
        Path f = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(f, o.toByteArray());
        return f;
    }

    private static void assertError(Path f, String... parts) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(f));
        assertTrue(e.getMessage().contains(f.toString()), "the message names the file");
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' lacks '" + p + "'");
    }
}
