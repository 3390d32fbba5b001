package io.jtensor.io;

/**
 * Appends compact JSON (no spaces) to a StringBuilder: exactly the bytes a safetensors header needs, and nothing
 * more general. Strings are escaped per RFC 8259: quote, backslash and control characters; everything else,
 * non-ASCII included, is written as itself and becomes UTF-8 in the file.
 */
final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    /** Whether the next member or element of the innermost container needs a leading comma. */
    private boolean needComma;

    JsonWriter beginObject() {
        comma();
        out.append('{');
        needComma = false;
        return this;
    }

    JsonWriter endObject() {
        out.append('}');
        needComma = true;
        return this;
    }

    JsonWriter beginArray() {
        comma();
        out.append('[');
        needComma = false;
        return this;
    }

    JsonWriter endArray() {
        out.append(']');
        needComma = true;
        return this;
    }

    /** Writes {@code "name":}; the value follows with the next call. */
    JsonWriter key(String name) {
        comma();
        appendString(name);
        out.append(':');
        needComma = false;
        return this;
    }

    JsonWriter value(String s) {
        comma();
        appendString(s);
        needComma = true;
        return this;
    }

    JsonWriter value(long v) {
        comma();
        out.append(v);
        needComma = true;
        return this;
    }

    String text() { return out.toString(); }

    private void comma() {
        if (needComma) out.append(',');
    }

    private void appendString(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }
}
