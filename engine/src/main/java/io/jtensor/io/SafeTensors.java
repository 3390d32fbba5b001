package io.jtensor.io;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.Shapes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes named arrays in the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {@code {"__metadata__": {...}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}},
 * then the data buffer, each tensor's elements row-major and little-endian at its offsets.
 *
 * <p>Writing lays tensors out in the map's iteration order with no gaps, writes {@code __metadata__} first (omitted
 * when empty), and pads the header with spaces so that the data starts at a multiple of 8 bytes. Loading keeps the
 * header's key order. Writes are atomic: a temporary file in the target's directory is written and fsynced, then
 * moved over the target, so a reader sees either the old file or the complete new one.
 *
 * <p>Every failure is an {@link IOException}; problems with the file's content or the arguments are
 * {@link SafeTensorsException}s that say what was expected and what was found.
 */
public final class SafeTensors {
    /** The reference implementation refuses headers above 100 MB; so do we, before allocating for one. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Longest single write: ByteBuffers are int-indexed, arrays may be larger. */
    private static final long CHUNK = 1L << 30;

    private SafeTensors() {}

    /** Where one tensor's bytes are in the data buffer, and what they hold. */
    public record TensorInfo(DType dtype, long[] shape, long begin, long end) {
        public TensorInfo {
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
        }

        @Override public long[] shape() { return shape.clone(); }
        public long numel() { return Shapes.numel(shape); }
        public long byteLength() { return end - begin; }

        @Override public boolean equals(Object o) {
            return o instanceof TensorInfo t && t.dtype == dtype && Arrays.equals(t.shape, shape) && t.begin == begin && t.end == end;
        }

        @Override public int hashCode() { return Objects.hash(dtype, Arrays.hashCode(shape), begin, end); }

        @Override public String toString() {
            return "TensorInfo[" + dtype + " " + Arrays.toString(shape) + " @ [" + begin + ", " + end + ")]";
        }
    }

    /**
     * A file's header: its tensors in file order, its metadata, and the header's length N in bytes (the data
     * buffer starts at {@code 8 + N}).
     */
    public record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata, long headerLength) {
        public Header {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /** The file offset of the data buffer. */
        public long dataStart() { return 8 + headerLength; }
    }

    // ------------------------------------------------------------------ reading

    /** Reads and checks the header without reading any tensor data. */
    public static Header readHeader(Path file) throws IOException {
        checkByteOrder();
        try (FileChannel ch = openForReading(file)) {
            return readHeader(file, ch);
        }
    }

    /** Loads every tensor into a new CPU array; the map keeps the file's order. The caller closes the arrays. */
    public static Map<String, NDArray> load(Path file) throws IOException {
        checkByteOrder();
        try (FileChannel ch = openForReading(file)) {
            Header header = readHeader(file, ch);
            long dataLength = ch.size() - header.dataStart();
            Map<String, NDArray> out = new LinkedHashMap<>();
            // Shared, not confined: the CPU backend copies large arrays out of the mapping on several threads.
            try (Arena arena = Arena.ofShared()) {
                MemorySegment data = dataLength == 0 ? MemorySegment.NULL
                        : ch.map(FileChannel.MapMode.READ_ONLY, header.dataStart(), dataLength, arena);
                for (Map.Entry<String, TensorInfo> e : header.tensors().entrySet()) {
                    TensorInfo t = e.getValue();
                    NDArray a = t.numel() == 0 ? NDArray.empty(t.dtype(), t.shape())
                            : NDArray.fromHost(data.asSlice(t.begin(), t.byteLength()), t.numel(), t.dtype(), t.shape());
                    out.put(e.getKey(), a);
                }
            } catch (RuntimeException | IOException | Error ex) {
                closeAll(out.values());
                throw ex;
            }
            return out;
        }
    }

    /** Loads every tensor and moves it to {@code device}; the map keeps the file's order. */
    public static Map<String, NDArray> load(Path file, Device device) throws IOException {
        Map<String, NDArray> host = load(file);
        if (device.isCpu() && device.index() == 0) return host;
        Map<String, NDArray> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NDArray> e : host.entrySet()) out.put(e.getKey(), e.getValue().to(device));
        } catch (RuntimeException | Error ex) {
            closeAll(out.values());
            throw ex;
        } finally {
            closeAll(host.values());
        }
        return out;
    }

    /** The file opened for reading; a directory fails naming the path (the channel's own error does not). */
    private static FileChannel openForReading(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        if (Files.isDirectory(file)) throw new SafeTensorsException(file, "is a directory, not a safetensors file");
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new SafeTensorsException(file, "file is " + size + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > size - 8) {
            throw new SafeTensorsException(file, "header length is " + Long.toUnsignedString(n) + " bytes but only " + (size - 8)
                    + " bytes follow the length field (file is " + size + " bytes; truncated or not a safetensors file?)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file, "header length " + n + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(ch, headerBuf, 8);
        return SafeTensorsHeaderCodec.decode(file, headerBuf.array(), size - 8 - n);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, at);
            if (r < 0) throw new java.io.EOFException("unexpected end of file at byte " + at);
            at += r;
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes the arrays (any device, any strides) in the map's order, with the metadata, atomically replacing
     * {@code file}. On failure the temporary file is deleted and an existing {@code file} is left as it was.
     */
    public static void save(Path file, Map<String, NDArray> arrays, Map<String, String> metadata) throws IOException {
        checkByteOrder();
        Objects.requireNonNull(file, "file");
        Map<String, TensorInfo> layout = layout(file, arrays);
        Map<String, String> meta = checkMetadata(file, metadata == null ? Map.of() : metadata);
        byte[] header = SafeTensorsHeaderCodec.encode(file, layout, meta);

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        // "/" has no parent and no file name; a directory cannot be replaced by a file
        if (dir == null || target.getFileName() == null || Files.isDirectory(target)) {
            throw new SafeTensorsException(file, "cannot save here: the path is a directory (or the root), expected a file name");
        }
        Path temp = createTemp(dir, target.getFileName().toString());
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Map.Entry<String, NDArray> e : arrays.entrySet()) writeArray(file, ch, e.getKey(), e.getValue());
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) deleteQuietly(temp);
        }
        syncDirectory(dir);
    }

    /** Offsets for the arrays laid out back to back in iteration order. */
    private static Map<String, TensorInfo> layout(Path file, Map<String, NDArray> arrays) throws SafeTensorsException {
        Objects.requireNonNull(arrays, "arrays");
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        long at = 0;
        for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
            String name = e.getKey();
            NDArray a = e.getValue();
            if (name == null) throw new SafeTensorsException(file, "cannot save a tensor with a null name");
            if (name.equals(SafeTensorsHeaderCodec.METADATA_KEY)) {
                throw new SafeTensorsException(file, "\"" + name + "\" is reserved for metadata and cannot name a tensor");
            }
            if (a == null) throw new SafeTensorsException(file, "tensor \"" + name + "\" is null");
            long bytes = a.numel() * a.dtype().byteSize();
            out.put(name, new TensorInfo(a.dtype(), a.shape(), at, at + bytes));
            at += bytes;
        }
        return out;
    }

    private static Map<String, String> checkMetadata(Path file, Map<String, String> metadata) throws SafeTensorsException {
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new SafeTensorsException(file, "metadata keys and values must be non-null strings, got " + e.getKey() + " = " + e.getValue());
            }
        }
        return metadata;
    }

    private static void writeArray(Path file, FileChannel ch, String name, NDArray a) throws IOException {
        if (a.isClosed()) throw new SafeTensorsException(file, "tensor \"" + name + "\" was closed before it could be written");
        if (a.numel() == 0) return;
        try (NDArray host = a.to(Device.cpu()); NDArray c = host.contiguous()) {
            long bytes = c.numel() * c.dtype().byteSize();
            MemorySegment seg = c.storage().segment().asSlice(c.offset() * c.dtype().byteSize(), bytes);
            for (long at = 0; at < bytes; at += CHUNK) {
                writeFully(ch, seg.asSlice(at, Math.min(CHUNK, bytes - at)).asByteBuffer());
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /**
     * A new empty file next to the target, named after it so that a leftover is recognisable. Not
     * {@code Files.createTempFile}: that makes the file owner-only, and the move would carry those permissions
     * to the target.
     */
    private static Path createTemp(Path dir, String targetName) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve("." + targetName + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return p;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) throw e;
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the original failure matters more than a leftover temp file
        }
    }

    /** Makes the rename durable; not every platform can open a directory for sync, and that is not an error. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort
        }
    }

    private static void closeAll(Iterable<NDArray> arrays) {
        for (NDArray a : arrays) a.close();
    }

    /** The file format is little-endian and arrays are copied byte for byte; jtensor only runs on such hosts. */
    private static void checkByteOrder() {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("SafeTensors: expected a little-endian host, got " + ByteOrder.nativeOrder());
        }
    }
}
