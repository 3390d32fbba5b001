package io.jtensor.nn.data;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST, raw or gzipped (recognised by the gzip magic bytes, not
 * the name). The format: a 4-byte magic number {@code 0x00 0x00 type ndims}, ndims big-endian 32-bit sizes, then
 * the elements row-major and big-endian. Types: 0x08 unsigned byte (U8), 0x09 signed byte, 0x0B short and 0x0C
 * int (all I32), 0x0D float (F32), 0x0E double (F64).
 */
public final class Idx {
    /** Unsigned-byte images [N, H, W]. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Unsigned-byte labels [N]. */
    public static final int LABELS_MAGIC = 0x00000801;

    private static final int UBYTE = 0x08, SBYTE = 0x09, SHORT = 0x0B, INT = 0x0C, FLOAT = 0x0D, DOUBLE = 0x0E;

    private Idx() {}

    /** Any IDX file, as a CPU array of the type's dtype. */
    public static NDArray read(Path file) throws IOException { return read(file, -1); }

    /** Images: the magic number must be 0x00000803; a U8 array [N, H, W]. */
    public static NDArray readImages(Path file) throws IOException { return read(file, IMAGES_MAGIC); }

    /** Labels: the magic number must be 0x00000801; a U8 array [N]. */
    public static NDArray readLabels(Path file) throws IOException { return read(file, LABELS_MAGIC); }

    /**
     * Reads the file, requiring {@code expectedMagic} when it is not -1. Every way the file can be wrong (a directory,
     * a cut or damaged gzip stream, a header whose sizes overflow) is an {@link IdxFormatException} naming the file
     * and the problem; only a missing or unreadable file stays the I/O error it is.
     */
    public static NDArray read(Path file, int expectedMagic) throws IOException {
        if (Files.isDirectory(file)) throw new IdxFormatException(file, "is a directory, not an IDX file");
        try {
            return readFile(file, expectedMagic);
        } catch (java.util.zip.ZipException e) {
            throw new IdxFormatException(file, "damaged gzip data (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            // GZIPInputStream reports a stream cut inside its header or trailer this way, with no message
            throw new IdxFormatException(file, "truncated: the gzip stream ends inside its header", e);
        }
    }

    private static NDArray readFile(Path file, int expectedMagic) throws IOException {
        try (InputStream in = open(file)) {
            DataInputStream data = new DataInputStream(in);
            int magic;
            try {
                magic = data.readInt();
            } catch (EOFException e) {
                throw new IdxFormatException(file, "truncated: file ends inside the 4-byte magic number");
            }
            int type = (magic >>> 8) & 0xFF, ndims = magic & 0xFF;
            if ((magic >>> 16) != 0) {
                throw new IdxFormatException(file, "bad magic number " + hex(magic) + ": expected the first two bytes to be 0"
                        + (expectedMagic != -1 ? " (expected " + hex(expectedMagic) + ")" : "") + "; not an IDX file?");
            }
            if (expectedMagic != -1 && magic != expectedMagic) {
                int wantType = (expectedMagic >>> 8) & 0xFF, wantDims = expectedMagic & 0xFF;
                String what = type != wantType
                        ? "wrong data type code " + hex2(type) + " (" + typeName(type) + "), expected " + hex2(wantType) + " (" + typeName(wantType) + ")"
                        : "wrong number of dimensions " + ndims + ", expected " + wantDims;
                throw new IdxFormatException(file, "magic number " + hex(magic) + " but expected " + hex(expectedMagic) + ": " + what);
            }
            DType dtype = dtypeOf(file, type);
            long[] shape = new long[ndims];
            for (int i = 0; i < ndims; i++) {
                try {
                    shape[i] = data.readInt() & 0xFFFFFFFFL;
                } catch (EOFException e) {
                    throw new IdxFormatException(file, "truncated: file ends inside the header: expected " + ndims + " dimension sizes, found " + i);
                }
            }
            int elementSize = elementSize(type);
            long count = 1, bytes;
            try {
                for (long s : shape) count = Math.multiplyExact(count, s);
                bytes = Math.multiplyExact(count, elementSize);
            } catch (ArithmeticException e) {
                throw new IdxFormatException(file, "dimensions " + Arrays.toString(shape) + " describe more than 2^63-1 bytes of data");
            }
            if (bytes > Integer.MAX_VALUE - 16) {
                throw new IdxFormatException(file, "dimensions " + Arrays.toString(shape) + " need " + bytes + " bytes, more than one read supports");
            }
            byte[] raw;
            try {
                raw = data.readNBytes((int) bytes);
            } catch (EOFException e) {
                // a cut gzip stream reports its end as an exception instead of a short read
                throw new IdxFormatException(file, "truncated: the compressed stream ends before the " + bytes
                        + " bytes of data that dimensions " + Arrays.toString(shape) + " need");
            }
            if (raw.length < bytes) {
                throw new IdxFormatException(file, "truncated: dimensions " + Arrays.toString(shape) + " need " + bytes
                        + " bytes of data after the " + (4 + 4 * ndims) + "-byte header, but the file holds only " + raw.length);
            }
            int extra;
            try {
                extra = data.read();
            } catch (EOFException e) {
                throw new IdxFormatException(file, "truncated: the gzip stream lacks its end (data complete, trailer missing)");
            }
            if (extra != -1) {
                throw new IdxFormatException(file, "unexpected data after the " + bytes + " bytes that dimensions " + Arrays.toString(shape)
                        + " describe (wrong dimensions, or two files joined?)");
            }
            return toArray(raw, type, dtype, count, shape);
        }
    }

    private static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            in.mark(2);
            int b0 = in.read(), b1 = in.read();
            in.reset();
            if (b0 == 0x1F && b1 == 0x8B) return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /** Converts big-endian file data into a CPU array; the narrower signed types widen to I32. */
    private static NDArray toArray(byte[] raw, int type, DType dtype, long count, long[] shape) {
        switch (type) {
            case UBYTE -> {
                return NDArray.fromBytes(raw, DType.U8, shape);
            }
            case SBYTE -> {
                int[] v = new int[(int) count];
                for (int i = 0; i < v.length; i++) v[i] = raw[i];
                return NDArray.of(v, shape);
            }
            case SHORT -> {
                int[] v = new int[(int) count];
                ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.BIG_ENDIAN);
                for (int i = 0; i < v.length; i++) v[i] = bb.getShort();
                return NDArray.of(v, shape);
            }
            default -> {
                // INT, FLOAT, DOUBLE: same width in the array, only the byte order changes.
                ByteBuffer src = ByteBuffer.wrap(raw).order(ByteOrder.BIG_ENDIAN);
                ByteBuffer dst = ByteBuffer.allocate(raw.length).order(ByteOrder.LITTLE_ENDIAN);
                int size = dtype.byteSize();
                for (int i = 0; i < count; i++) {
                    if (size == 4) dst.putInt(src.getInt());
                    else dst.putLong(src.getLong());
                }
                return NDArray.fromBytes(dst.array(), dtype, shape);
            }
        }
    }

    private static DType dtypeOf(Path file, int type) throws IdxFormatException {
        return switch (type) {
            case UBYTE -> DType.U8;
            case SBYTE, SHORT, INT -> DType.I32;
            case FLOAT -> DType.F32;
            case DOUBLE -> DType.F64;
            default -> throw new IdxFormatException(file, "unknown data type code " + hex2(type)
                    + " (expected 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float or 0x0E double)");
        };
    }

    private static int elementSize(int type) {
        return switch (type) {
            case UBYTE, SBYTE -> 1;
            case SHORT -> 2;
            case INT, FLOAT -> 4;
            default -> 8;
        };
    }

    private static String typeName(int type) {
        return switch (type) {
            case UBYTE -> "unsigned byte";
            case SBYTE -> "signed byte";
            case SHORT -> "short";
            case INT -> "int";
            case FLOAT -> "float";
            case DOUBLE -> "double";
            default -> "unknown";
        };
    }

    private static String hex(int v) { return String.format("0x%08X", v); }
    private static String hex2(int v) { return String.format("0x%02X", v); }
}
