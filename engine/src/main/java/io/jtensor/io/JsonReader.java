package io.jtensor.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON parser, just enough for safetensors headers (RFC 8259, no extensions).
 *
 * <p>Values come back as: {@code Map<String, Object>} (a {@link LinkedHashMap}, so key order is the file's order),
 * {@code List<Object>}, {@code String}, {@link JsonNumber}, {@code Boolean}, or {@link #NULL}. Duplicate keys are
 * an error rather than "last one wins", because in a safetensors header they would silently hide a tensor.
 * Errors are {@link MalformedJsonException}s that give the character position and what was expected.
 */
final class JsonReader {
    /** Stands for JSON {@code null}, so that maps never hold Java nulls. */
    static final Object NULL = new Object() {
        @Override public String toString() { return "null"; }
    };

    /** Nesting deeper than this is refused so that a hostile header cannot overflow the stack. */
    private static final int MAX_DEPTH = 64;

    /** A number kept as its literal text; callers decide whether they need an integer. */
    record JsonNumber(String text) {
        boolean isInteger() { return text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0; }

        /** The value as a long, or throws when it is fractional or does not fit. */
        long longValue() {
            if (!isInteger()) throw new NumberFormatException("not an integer: " + text);
            return Long.parseLong(text);
        }

        @Override public String toString() { return text; }
    }

    static final class MalformedJsonException extends Exception {
        MalformedJsonException(String message) { super(message); }
    }

    private final String text;
    private int pos;

    private JsonReader(String text) { this.text = text; }

    /** Parses one JSON value filling the whole text (surrounding whitespace allowed). */
    static Object parse(String text) throws MalformedJsonException {
        JsonReader r = new JsonReader(text);
        r.skipWhitespace();
        Object v = r.value(0);
        r.skipWhitespace();
        if (r.pos != text.length()) throw r.error("end of input after the top-level value");
        return v;
    }

    private Object value(int depth) throws MalformedJsonException {
        if (depth > MAX_DEPTH) throw error("nesting of at most " + MAX_DEPTH + " levels");
        if (pos >= text.length()) throw error("a value");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("a value");
            }
        };
    }

    private Map<String, Object> object(int depth) throws MalformedJsonException {
        expect('{');
        Map<String, Object> out = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return out;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw error("a string key");
            int keyPos = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth + 1);
            if (out.putIfAbsent(key, v) != null) {
                throw new MalformedJsonException("duplicate key \"" + key + "\" at character " + keyPos);
            }
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return out;
            } else {
                throw error("',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) throws MalformedJsonException {
        expect('[');
        List<Object> out = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return out;
        }
        while (true) {
            skipWhitespace();
            out.add(value(depth + 1));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return out;
            } else {
                throw error("',' or ']'");
            }
        }
    }

    private String string() throws MalformedJsonException {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) throw error("a closing '\"'");
            char c = text.charAt(pos++);
            if (c == '"') return sb.toString();
            if (c < 0x20) {
                pos--;
                throw error("an escaped control character (raw U+" + String.format("%04X", (int) c) + " is not allowed in a string)");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= text.length()) throw error("an escape character");
            char e = text.charAt(pos++);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> sb.append(hex4());
                default -> {
                    pos--;
                    throw error("one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
                }
            }
        }
    }

    private char hex4() throws MalformedJsonException {
        if (pos + 4 > text.length()) throw error("four hex digits after \\u");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos), 16);
            if (d < 0) throw error("a hex digit after \\u");
            v = v * 16 + d;
            pos++;
        }
        return (char) v;
    }

    private JsonNumber number() throws MalformedJsonException {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) pos++;
        } else {
            throw error("a digit");
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) throw error("a digit after '.'");
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw error("a digit in the exponent");
            while (isDigit(peek())) pos++;
        }
        return new JsonNumber(text.substring(start, pos));
    }

    private Object literal(String word, Object v) throws MalformedJsonException {
        if (!text.startsWith(word, pos)) throw error("'" + word + "'");
        pos += word.length();
        return v;
    }

    private void expect(char c) throws MalformedJsonException {
        if (peek() != c) throw error("'" + c + "'");
        pos++;
    }

    /** The current character, or 0 at the end (never a valid token start, so it always fails the check). */
    private char peek() { return pos < text.length() ? text.charAt(pos) : 0; }

    private static boolean isDigit(char c) { return c >= '0' && c <= '9'; }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            pos++;
        }
    }

    private MalformedJsonException error(String expected) {
        String found;
        if (pos >= text.length()) {
            found = "the end of the header";
        } else {
            char c = text.charAt(pos);
            found = c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
        }
        return new MalformedJsonException("expected " + expected + " at character " + pos + " but found " + found);
    }
}
