package io.jtensor.io;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafeTensorsTest {
    @TempDir Path dir;

    private final List<NDArray> toClose = new java.util.ArrayList<>();

    @AfterEach
    void closeArrays() {
        toClose.forEach(NDArray::close);
    }

    private NDArray track(NDArray a) {
        toClose.add(a);
        return a;
    }

    private Map<String, NDArray> track(Map<String, NDArray> m) {
        toClose.addAll(m.values());
        return m;
    }

    /** Twelve elements' worth of distinct raw bytes valid for the dtype (BOOL must hold 0 or 1). */
    private static byte[] sampleBytes(DType d, int count) {
        byte[] b = new byte[count * d.byteSize()];
        for (int i = 0; i < b.length; i++) b[i] = d == DType.BOOL ? (byte) ((i * 7 + 1) % 3 == 0 ? 1 : 0) : (byte) (i * 37 + 11);
        return b;
    }

    /** The raw bytes of the transpose of a row-major [rows, cols] array, element by element. */
    private static byte[] transposedBytes(byte[] src, int rows, int cols, int size) {
        byte[] out = new byte[src.length];
        int k = 0;
        for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(src, (r * cols + c) * size, out, k, size);
                k += size;
            }
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void roundTripsEveryDtypeContiguousAndTransposed(DType dtype) throws IOException {
        byte[] raw = sampleBytes(dtype, 12);
        NDArray a = track(NDArray.fromBytes(raw, dtype, 3, 4));
        NDArray t = track(a.transpose(0, 1));
        assertFalse(t.isContiguous(), "the test needs a non-contiguous view");
        Path f = dir.resolve("x.safetensors");
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("plain", a);
        in.put("transposed", t);
        SafeTensors.save(f, in, Map.of());

        Map<String, NDArray> out = track(SafeTensors.load(f));
        assertEquals(List.of("plain", "transposed"), List.copyOf(out.keySet()));
        NDArray p = out.get("plain"), q = out.get("transposed");
        assertEquals(dtype, p.dtype());
        assertArrayEquals(new long[] {3, 4}, p.shape());
        assertArrayEquals(raw, p.toBytes());
        assertEquals(Device.cpu(), p.device());
        assertEquals(dtype, q.dtype());
        assertArrayEquals(new long[] {4, 3}, q.shape());
        assertArrayEquals(transposedBytes(raw, 3, 4, dtype.byteSize()), q.toBytes());
    }

    @Test
    void roundTripsStridedSliceScalarAndEmptyArrays() throws IOException {
        NDArray base = track(NDArray.of(new long[] {10, 11, 12, 13, 14, 15, 16}, 7));
        NDArray everyOther = track(base.slice(0, 1, 7, 2)); // 11, 13, 15
        NDArray scalar = track(NDArray.of(new double[] {2.5}));
        NDArray empty = track(NDArray.empty(DType.F32, 0, 3));
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("every_other", everyOther);
        in.put("scalar", scalar);
        in.put("empty", empty);
        Path f = dir.resolve("s.safetensors");
        SafeTensors.save(f, in, null);
        Map<String, NDArray> out = track(SafeTensors.load(f));
        assertArrayEquals(new long[] {11, 13, 15}, out.get("every_other").toLongArray());
        assertArrayEquals(new long[0], out.get("scalar").shape());
        assertEquals(2.5, out.get("scalar").item());
        assertArrayEquals(new long[] {0, 3}, out.get("empty").shape());
        SafeTensors.Header h = SafeTensors.readHeader(f);
        assertEquals(new SafeTensors.TensorInfo(DType.I64, new long[] {3}, 0, 24), h.tensors().get("every_other"));
        assertEquals(new SafeTensors.TensorInfo(DType.F64, new long[0], 24, 32), h.tensors().get("scalar"));
        assertEquals(new SafeTensors.TensorInfo(DType.F32, new long[] {0, 3}, 32, 32), h.tensors().get("empty"));
        assertTrue(h.metadata().isEmpty());
    }

    @Test
    void keepsInsertionOrderAndMetadata() throws IOException {
        Map<String, NDArray> in = new LinkedHashMap<>();
        for (String name : new String[] {"zeta", "alpha", "mu", "beta"}) in.put(name, track(NDArray.of(new int[] {name.length()}, 1)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "quote \" backslash \\ newline \n unicode \u00e9");
        Path f = dir.resolve("o.safetensors");
        SafeTensors.save(f, in, meta);
        Map<String, NDArray> out = track(SafeTensors.load(f));
        assertEquals(List.of("zeta", "alpha", "mu", "beta"), List.copyOf(out.keySet()));
        assertEquals(2, out.get("mu").item());
        SafeTensors.Header h = SafeTensors.readHeader(f);
        assertEquals(meta, h.metadata());
        assertEquals(List.of("zeta", "alpha", "mu", "beta"), List.copyOf(h.tensors().keySet()));
        assertEquals(0, h.dataStart() % 8, "data must start 8-byte aligned");
    }

    @Test
    void writesExactlyTheBytesTheSpecDescribes() throws IOException {
        Path f = dir.resolve("tiny.safetensors");
        SafeTensors.save(f, Map.of("a", track(NDArray.of(new float[] {1.0f, -2.0f}, 2))), Map.of("format", "pt"));

        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertEquals(85, json.length());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(new byte[] {88, 0, 0, 0, 0, 0, 0, 0}); // 85 header bytes padded to 88
        expected.writeBytes(json.getBytes(StandardCharsets.US_ASCII));
        expected.writeBytes(new byte[] {' ', ' ', ' '});
        expected.writeBytes(new byte[] {0x00, 0x00, (byte) 0x80, 0x3F}); // 1.0f little-endian
        expected.writeBytes(new byte[] {0x00, 0x00, 0x00, (byte) 0xC0}); // -2.0f
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(f));
    }

    @Test
    void readsAHandAssembledFileWithoutMetadataOrPadding() throws IOException {
        Path f = dir.resolve("hand.safetensors");
        writeRaw(f, "{\"b\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]},\"c\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[1,3]}}",
                new byte[] {(byte) 200, (byte) 0x80, 0x3F});
        Map<String, NDArray> out = track(SafeTensors.load(f));
        assertEquals(200.0, out.get("b").item());
        assertEquals(DType.BF16, out.get("c").dtype());
        assertArrayEquals(new byte[] {(byte) 0x80, 0x3F}, out.get("c").toBytes());
        assertEquals(1.0, out.get("c").item());
    }

    @Test
    void loadsOntoAnotherDevice() throws IOException {
        Path f = dir.resolve("d.safetensors");
        SafeTensors.save(f, Map.of("w", track(NDArray.of(new float[] {3, 4}, 2))), Map.of());
        Map<String, NDArray> out = track(SafeTensors.load(f, Device.cpu(1)));
        assertEquals(Device.cpu(1), out.get("w").device());
        assertArrayEquals(new float[] {3, 4}, out.get("w").toFloatArray());
    }

    // ------------------------------------------------------------------ malformed files

    @Test
    void reportsFilesTooShortForTheLength() throws IOException {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertError(f, "file is 3 bytes, too short for the 8-byte header length");
    }

    @Test
    void reportsHeaderLengthBeyondTheFile() throws IOException {
        Path f = dir.resolve("long.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).put("{}  ".getBytes(StandardCharsets.US_ASCII));
        Files.write(f, b.array());
        assertError(f, "header length is 1000 bytes but only 4 bytes follow");
        ByteBuffer neg = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
        Files.write(f, neg.array());
        assertError(f, "header length is 18446744073709551615 bytes");
    }

    @Test
    void reportsTruncatedData() throws IOException {
        Path f = dir.resolve("t.safetensors");
        SafeTensors.save(f, Map.of("w", track(NDArray.of(new double[] {1, 2, 3}, 3))), Map.of());
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 5));
        assertError(f, "tensor \"w\" has data_offsets [0, 24] but the data buffer holds only 19 bytes (file truncated?)");
    }

    @Test
    void reportsMalformedJson() throws IOException {
        Path f = dir.resolve("m.safetensors");
        writeRaw(f, "{\"w\":{\"dtype\":\"F32\" \"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        assertError(f, "malformed JSON header: expected ',' or '}' at character 20 but found '\"'");
        writeRaw(f, "[1,2]", new byte[0]);
        assertError(f, "expected the header to start with '{'");
        writeRaw(f, "{\"w\":[1]}", new byte[0]);
        assertError(f, "expected tensor \"w\" to be an object with dtype, shape and data_offsets, got [1]");
        writeRaw(f, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]);
        assertError(f, "expected tensor \"w\" field \"shape\" to be an array of non-negative integers, got [-1]");
        writeRaw(f, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]);
        assertError(f, "field \"data_offsets\" to be an array of 2 non-negative integers, got [0]");
        writeRaw(f, "{\"__metadata__\":{\"k\":1}}", new byte[0]);
        assertError(f, "expected metadata value \"k\" to be a string, got 1");
        Files.write(f, concat(le64(2), new byte[] {'{', (byte) 0xFF}));
        assertError(f, "header is not valid UTF-8");
    }

    @Test
    void reportsUnknownDtype() throws IOException {
        Path f = dir.resolve("u.safetensors");
        writeRaw(f, "{\"w\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]);
        assertError(f, "tensor \"w\" has dtype \"I16\", which jtensor does not support (expected one of BOOL, U8, I32, I64, F16, BF16, F32, F64)");
    }

    @Test
    void reportsOffsetsThatDoNotMatchTheShape() throws IOException {
        Path f = dir.resolve("o.safetensors");
        writeRaw(f, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[12]);
        assertError(f, "tensor \"w\" is F32 [2, 2], which needs 16 bytes, but data_offsets [0, 12] span 12");
        writeRaw(f, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", new byte[12]);
        assertError(f, "data_offsets [8, 4]: end is before begin");
    }

    @Test
    void reportsOverlapsHolesAndLeftoverBytes() throws IOException {
        Path f = dir.resolve("l.safetensors");
        writeRaw(f, "{\"a\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                new byte[8]);
        assertError(f, "tensor \"b\" data_offsets [4, 8] overlap tensor \"a\", which ends at 8");
        writeRaw(f, "{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]);
        assertError(f, "bytes [0, 4) of the data buffer belong to no tensor");
        writeRaw(f, "{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[6]);
        assertError(f, "the header describes 4 bytes of data but 6 bytes follow it (2 unaccounted)");
    }

    // ------------------------------------------------------------------ failed writes

    @Test
    void failedWriteMidwayLeavesPreviousFileAndNoTemp() throws IOException {
        Path f = dir.resolve("model.safetensors");
        SafeTensors.save(f, Map.of("old", track(NDArray.of(new float[] {7}, 1))), Map.of("v", "1"));
        byte[] before = Files.readAllBytes(f);

        NDArray closed = NDArray.of(new float[] {1, 2}, 2);
        closed.close();
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("fine", track(NDArray.of(new float[] {5, 6, 7}, 3)));
        in.put("broken", closed);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.save(f, in, Map.of("v", "2")));
        assertTrue(e.getMessage().contains("tensor \"broken\" was closed"), e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of(f), listDir());
    }

    @Test
    void failedMoveLeavesNoTemp() throws IOException {
        Path target = dir.resolve("occupied");
        Files.createDirectory(target);
        Files.writeString(target.resolve("inside"), "keep me");
        assertThrows(IOException.class, () -> SafeTensors.save(target, Map.of("a", track(NDArray.of(new float[] {1}, 1))), Map.of()));
        assertTrue(Files.isDirectory(target));
        assertEquals("keep me", Files.readString(target.resolve("inside")));
        assertEquals(List.of(target), listDir());
    }

    @Test
    void unwritableDirectoryFailsAndLeavesTheOldFile() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("ro"));
        Path f = sub.resolve("m.safetensors");
        SafeTensors.save(f, Map.of("a", track(NDArray.of(new float[] {1}, 1))), Map.of());
        byte[] before = Files.readAllBytes(f);
        Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(sub), "this user (root?) can write to a read-only directory");
            assertThrows(IOException.class, () -> SafeTensors.save(f, Map.of("a", track(NDArray.of(new float[] {2}, 1))), Map.of()));
            assertArrayEquals(before, Files.readAllBytes(f));
            try (Stream<Path> s = Files.list(sub)) {
                assertEquals(List.of(f), s.toList());
            }
        } finally {
            Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void refusesReservedAndNullNames() {
        Path f = dir.resolve("r.safetensors");
        NDArray a = track(NDArray.of(new float[] {1}, 1));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.save(f, Map.of("__metadata__", a), Map.of()));
        assertTrue(e.getMessage().contains("reserved for metadata"), e.getMessage());
        Map<String, NDArray> nullName = new java.util.HashMap<>();
        nullName.put(null, a);
        assertThrows(SafeTensorsException.class, () -> SafeTensors.save(f, nullName, Map.of()));
        assertFalse(Files.exists(f));
    }

    // ------------------------------------------------------------------ helpers

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static void assertError(Path f, String messagePart) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(f));
        assertTrue(e.getMessage().contains(messagePart), () -> "message '" + e.getMessage() + "' lacks '" + messagePart + "'");
        assertTrue(e.getMessage().contains(f.toString()), "the message names the file");
        SafeTensorsException h = assertThrows(SafeTensorsException.class, () -> SafeTensors.readHeader(f));
        assertEquals(e.getMessage(), h.getMessage());
    }

    private static void writeRaw(Path f, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Files.write(f, concat(le64(h.length), h, data));
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }
}
