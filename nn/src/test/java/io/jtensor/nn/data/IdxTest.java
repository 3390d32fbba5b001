package io.jtensor.nn.data;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxTest {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsImagesAndLabelsRawOrGzipped(boolean gzip) throws IOException {
        // Two 2x3 images: pixel values 0, 10, ..., 110 with one above 127 to check they are unsigned.
        byte[] pixels = new byte[12];
        for (int i = 0; i < 12; i++) pixels[i] = (byte) (i * 10);
        pixels[11] = (byte) 250;
        Path images = dir.resolve("img" + (gzip ? ".gz" : ""));
        IdxFiles.write(images, IdxFiles.idx(0x00000803, new int[] {2, 2, 3}, pixels), gzip);
        Path labels = dir.resolve("lab" + (gzip ? ".gz" : ""));
        IdxFiles.write(labels, IdxFiles.idx(0x00000801, new int[] {2}, new byte[] {7, (byte) 200}), gzip);

        try (NDArray im = Idx.readImages(images); NDArray lb = Idx.readLabels(labels)) {
            assertEquals(DType.U8, im.dtype());
            assertArrayEquals(new long[] {2, 2, 3}, im.shape());
            assertArrayEquals(new double[] {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 250}, im.toDoubleArray());
            assertEquals(100, im.getDouble(1, 1, 1));
            assertEquals(DType.U8, lb.dtype());
            assertArrayEquals(new double[] {7, 200}, lb.toDoubleArray());
        }
    }

    @Test
    void readsWiderTypesBigEndian() throws IOException {
        Path ints = dir.resolve("ints");
        ByteBuffer b = ByteBuffer.allocate(12).putInt(1).putInt(-2).putInt(0x01020304);
        Files.write(ints, IdxFiles.idx(0x00000C01, new int[] {3}, b.array()));
        try (NDArray a = Idx.read(ints)) {
            assertEquals(DType.I32, a.dtype());
            assertArrayEquals(new int[] {1, -2, 0x01020304}, a.toIntArray());
        }
        Path doubles = dir.resolve("doubles");
        Files.write(doubles, IdxFiles.idx(0x00000E02, new int[] {1, 2}, ByteBuffer.allocate(16).putDouble(1.5).putDouble(-3.25).array()));
        try (NDArray a = Idx.read(doubles)) {
            assertEquals(DType.F64, a.dtype());
            assertArrayEquals(new long[] {1, 2}, a.shape());
            assertArrayEquals(new double[] {1.5, -3.25}, a.toDoubleArray());
        }
        Path shorts = dir.resolve("shorts");
        Files.write(shorts, IdxFiles.idx(0x00000B01, new int[] {2}, ByteBuffer.allocate(4).putShort((short) -300).putShort((short) 5).array()));
        try (NDArray a = Idx.read(shorts)) {
            assertArrayEquals(new int[] {-300, 5}, a.toIntArray());
        }
        Path sbytes = dir.resolve("sbytes");
        Files.write(sbytes, IdxFiles.idx(0x00000901, new int[] {2}, new byte[] {-5, 6}));
        try (NDArray a = Idx.read(sbytes)) {
            assertArrayEquals(new int[] {-5, 6}, a.toIntArray());
        }
    }

    @Test
    void rejectsBadMagicNumbers() throws IOException {
        Path f = dir.resolve("bad");
        Files.write(f, IdxFiles.idx(0x12340803, new int[] {1, 1, 1}, new byte[1]));
        assertMessage(() -> Idx.readImages(f), "bad magic number 0x12340803: expected the first two bytes to be 0 (expected 0x00000803)");
        Files.write(f, IdxFiles.idx(0x00000801, new int[] {1}, new byte[1]));
        assertMessage(() -> Idx.readImages(f), "magic number 0x00000801 but expected 0x00000803: wrong number of dimensions 1, expected 3");
        Files.write(f, IdxFiles.idx(0x00000D03, new int[] {1, 1, 1}, new byte[4]));
        assertMessage(() -> Idx.readImages(f), "wrong data type code 0x0D (float), expected 0x08 (unsigned byte)");
        Files.write(f, IdxFiles.idx(0x00000A01, new int[] {1}, new byte[1]));
        assertMessage(() -> Idx.read(f), "unknown data type code 0x0A");
        Files.write(f, new byte[] {0, 0});
        assertMessage(() -> Idx.read(f), "file ends inside the 4-byte magic number");
    }

    @Test
    void rejectsTruncatedAndOverlongData() throws IOException {
        Path f = dir.resolve("t");
        Files.write(f, IdxFiles.idx(0x00000803, new int[] {2, 2, 2}, new byte[5]));
        assertMessage(() -> Idx.readImages(f), "truncated: dimensions [2, 2, 2] need 8 bytes of data after the 16-byte header, but the file holds only 5");
        Files.write(f, Arrays.copyOf(IdxFiles.idx(0x00000803, new int[] {2, 2, 2}, new byte[0]), 10));
        assertMessage(() -> Idx.readImages(f), "file ends inside the header: expected 3 dimension sizes, found 1");
        Files.write(f, IdxFiles.idx(0x00000801, new int[] {2}, new byte[3]));
        assertMessage(() -> Idx.readLabels(f), "unexpected data after the 2 bytes");
        // A gzip stream cut in the middle.
        byte[] noise = new byte[4000];
        new java.util.Random(1).nextBytes(noise); // incompressible, so that half the stream is half the data
        byte[] gz = IdxFiles.gzip(IdxFiles.idx(0x00000801, new int[] {4000}, noise));
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        assertMessage(() -> Idx.readLabels(f), "truncated: the compressed stream ends before the 4000 bytes");
        Files.write(f, Arrays.copyOf(gz, gz.length - 4)); // data complete, gzip trailer cut
        assertMessage(() -> Idx.readLabels(f), "truncated: the gzip stream lacks its end");
    }

    /**
     * Low-level failures of the file system and the gzip stream come out as IdxFormatExceptions that name the file
     * and say what is wrong: a directory, a gzip header cut at any byte, damaged compressed data, sizes whose product
     * overflows a long.
     */
    @Test
    void lowLevelFailuresAreStatedAsTheFilesProblem() throws IOException {
        Path d = dir.resolve("a-directory");
        Files.createDirectories(d);
        assertMessage(() -> Idx.readImages(d), "is a directory");
        Path f = dir.resolve("g");
        byte[] gz = IdxFiles.gzip(IdxFiles.idx(0x00000801, new int[] {3}, new byte[] {1, 2, 3}));
        for (int cut = 2; cut < 10; cut++) { // the gzip header is 10 bytes: a cut anywhere in it
            Files.write(f, Arrays.copyOf(gz, cut));
            assertMessage(() -> Idx.readLabels(f), "truncated");
        }
        byte[] damaged = gz.clone();
        for (int i = 10; i < damaged.length - 8; i++) damaged[i] = (byte) 0xFF; // deflate data that is not deflate
        Files.write(f, damaged);
        assertMessage(() -> Idx.readLabels(f), "damaged gzip data");
        for (int[] dims : new int[][] {{-1, -1, -1}, {-1, -1, 4}, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}}) {
            Files.write(f, IdxFiles.idx(0x00000D03, dims, new byte[0]));
            assertMessage(() -> Idx.read(f), "more than 2^63-1 bytes");
        }
    }

    interface Read {
        NDArray run() throws IOException;
    }

    private static void assertMessage(Read r, String part) {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> r.run().close());
        assertTrue(e.getMessage().contains(part), () -> "message '" + e.getMessage() + "' lacks '" + part + "'");
    }
}
