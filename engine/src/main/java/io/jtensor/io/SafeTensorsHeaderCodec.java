package io.jtensor.io;

import io.jtensor.DType;
import io.jtensor.io.JsonReader.JsonNumber;
import io.jtensor.io.SafeTensors.Header;
import io.jtensor.io.SafeTensors.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the safetensors JSON header into a {@link Header} and back, and checks that a header describes its byte
 * buffer exactly: known dtypes, offsets inside the buffer, sizes that match shape times dtype size, and no
 * overlaps or holes (the format requires the buffer to be "entirely indexed").
 */
final class SafeTensorsHeaderCodec {
    static final String METADATA_KEY = "__metadata__";
    /** Alignment of the data buffer: the header is padded with spaces up to a multiple of this. */
    static final int ALIGNMENT = 8;

    private SafeTensorsHeaderCodec() {}

    /** The dtype names of the format, for the dtypes jtensor has. */
    static String dtypeName(DType d) {
        return switch (d) {
            case F64 -> "F64";
            case F32 -> "F32";
            case F16 -> "F16";
            case BF16 -> "BF16";
            case I64 -> "I64";
            case I32 -> "I32";
            case U8 -> "U8";
            case BOOL -> "BOOL";
        };
    }

    static DType dtypeOf(String name) {
        for (DType d : DType.values()) if (dtypeName(d).equals(name)) return d;
        return null;
    }

    private static String supportedNames() {
        List<String> names = new ArrayList<>();
        for (DType d : DType.values()) names.add(dtypeName(d));
        return String.join(", ", names);
    }

    // ------------------------------------------------------------------ encoding

    /** The header bytes (UTF-8 JSON padded with spaces to a multiple of {@link #ALIGNMENT}), without the length. */
    static byte[] encode(Path file, Map<String, TensorInfo> tensors, Map<String, String> metadata) throws SafeTensorsException {
        JsonWriter w = new JsonWriter().beginObject();
        if (!metadata.isEmpty()) {
            w.key(METADATA_KEY).beginObject();
            for (Map.Entry<String, String> e : metadata.entrySet()) w.key(e.getKey()).value(e.getValue());
            w.endObject();
        }
        for (Map.Entry<String, TensorInfo> e : tensors.entrySet()) {
            TensorInfo t = e.getValue();
            w.key(e.getKey()).beginObject();
            w.key("dtype").value(dtypeName(t.dtype()));
            w.key("shape").beginArray();
            for (long s : t.shape()) w.value(s);
            w.endArray();
            w.key("data_offsets").beginArray().value(t.begin()).value(t.end()).endArray();
            w.endObject();
        }
        w.endObject();
        byte[] json;
        try {
            // A strict encoder, so that a name holding a lone surrogate fails here instead of becoming '?'.
            ByteBuffer bb = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(java.nio.CharBuffer.wrap(w.text()));
            json = Arrays.copyOf(bb.array(), bb.limit());
        } catch (CharacterCodingException ex) {
            throw new SafeTensorsException(file, "a tensor name or metadata string is not valid Unicode (lone surrogate)", ex);
        }
        int padded = (json.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Parses and checks a header.
     *
     * @param headerBytes the N header bytes
     * @param bufferLength the bytes that follow the header in the file
     */
    static Header decode(Path file, byte[] headerBytes, long bufferLength) throws SafeTensorsException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(file, "header is not valid UTF-8", e);
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            String start = text.isEmpty() ? "nothing" : "'" + text.substring(0, Math.min(text.length(), 16)) + "'";
            throw new SafeTensorsException(file, "expected the header to start with '{' (a JSON object), found " + start);
        }
        Object root;
        try {
            root = JsonReader.parse(text);
        } catch (JsonReader.MalformedJsonException e) {
            throw new SafeTensorsException(file, "malformed JSON header: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new SafeTensorsException(file, "expected the header to be a JSON object, got " + describe(root));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                readMetadata(file, e.getValue(), metadata);
            } else {
                tensors.put(name, readTensor(file, name, e.getValue()));
            }
        }
        checkLayout(file, tensors, bufferLength);
        return new Header(tensors, metadata, headerBytes.length);
    }

    private static void readMetadata(Path file, Object v, Map<String, String> out) throws SafeTensorsException {
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafeTensorsException(file, "expected \"" + METADATA_KEY + "\" to be an object of strings, got " + describe(v));
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafeTensorsException(file, "expected metadata value \"" + e.getKey() + "\" to be a string, got " + describe(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
    }

    private static TensorInfo readTensor(Path file, String name, Object v) throws SafeTensorsException {
        String where = "tensor \"" + name + "\"";
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafeTensorsException(file, "expected " + where + " to be an object with dtype, shape and data_offsets, got " + describe(v));
        }
        Object dt = m.get("dtype");
        if (!(dt instanceof String dtName)) {
            throw new SafeTensorsException(file, "expected " + where + " to have a string \"dtype\", got " + describe(dt));
        }
        DType dtype = dtypeOf(dtName);
        if (dtype == null) {
            throw new SafeTensorsException(file, where + " has dtype \"" + dtName + "\", which jtensor does not support (expected one of "
                    + supportedNames() + ")");
        }
        long[] shape = readLongs(file, where, "shape", m.get("shape"), -1);
        long[] offsets = readLongs(file, where, "data_offsets", m.get("data_offsets"), 2);
        long begin = offsets[0], end = offsets[1];
        if (end < begin) {
            throw new SafeTensorsException(file, where + " has data_offsets [" + begin + ", " + end + "]: end is before begin");
        }
        long expectedBytes;
        try {
            long numel = 1;
            for (long s : shape) numel = Math.multiplyExact(numel, s);
            expectedBytes = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException ex) {
            throw new SafeTensorsException(file, where + " has shape " + Arrays.toString(shape) + ", too large to address");
        }
        if (end - begin != expectedBytes) {
            throw new SafeTensorsException(file, where + " is " + dtName + " " + Arrays.toString(shape) + ", which needs "
                    + expectedBytes + " bytes, but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new TensorInfo(dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers; {@code length} >= 0 requires that many. */
    private static long[] readLongs(Path file, String where, String field, Object v, int length) throws SafeTensorsException {
        String expected = length < 0 ? "an array of non-negative integers" : "an array of " + length + " non-negative integers";
        if (!(v instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new SafeTensorsException(file, "expected " + where + " field \"" + field + "\" to be " + expected + ", got " + describe(v));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            Object x = list.get(i);
            long value = -1;
            if (x instanceof JsonNumber n && n.isInteger()) {
                try {
                    value = n.longValue();
                } catch (NumberFormatException ignored) {
                    // too large for a long: reported below as not a valid entry
                }
            }
            if (value < 0) {
                throw new SafeTensorsException(file, "expected " + where + " field \"" + field + "\" to be " + expected + ", got "
                        + describe(v) + " (entry " + i + " is " + describe(x) + ")");
            }
            out[i] = value;
        }
        return out;
    }

    /** The tensors must tile [0, bufferLength) exactly: in range, no overlap, no hole, nothing left over. */
    private static void checkLayout(Path file, Map<String, TensorInfo> tensors, long bufferLength) throws SafeTensorsException {
        List<Map.Entry<String, TensorInfo>> byOffset = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, TensorInfo> e : byOffset) {
            TensorInfo t = e.getValue();
            if (t.end() > bufferLength) {
                throw new SafeTensorsException(file, "tensor \"" + e.getKey() + "\" has data_offsets [" + t.begin() + ", " + t.end()
                        + "] but the data buffer holds only " + bufferLength + " bytes (file truncated?)");
            }
        }
        byOffset.sort(Comparator.comparingLong((Map.Entry<String, TensorInfo> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long covered = 0;
        String previous = null;
        for (Map.Entry<String, TensorInfo> e : byOffset) {
            TensorInfo t = e.getValue();
            if (t.begin() < covered) {
                throw new SafeTensorsException(file, "tensor \"" + e.getKey() + "\" data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor \"" + previous + "\", which ends at " + covered);
            }
            if (t.begin() > covered) {
                throw new SafeTensorsException(file, "bytes [" + covered + ", " + t.begin() + ") of the data buffer belong to no tensor"
                        + " (expected tensor \"" + e.getKey() + "\" to begin at " + covered + ")");
            }
            covered = t.end();
            previous = e.getKey();
        }
        if (covered != bufferLength) {
            throw new SafeTensorsException(file, "the header describes " + covered + " bytes of data but " + bufferLength
                    + " bytes follow it (" + (bufferLength - covered) + " unaccounted)");
        }
    }

    private static String describe(Object v) {
        if (v == null) return "nothing";
        if (v instanceof String s) return "\"" + s + "\"";
        if (v instanceof Map<?, ?>) return "an object";
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(", ");
                Object x = l.get(i);
                sb.append(x instanceof Map<?, ?> || x instanceof List<?> ? describe(x) : String.valueOf(x instanceof String s ? "\"" + s + "\"" : x));
            }
            return sb.append(']').toString();
        }
        return String.valueOf(v);
    }
}
