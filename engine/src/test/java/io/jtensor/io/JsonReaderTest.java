package io.jtensor.io;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.io.JsonReader.JsonNumber;
import io.jtensor.io.JsonReader.MalformedJsonException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonReaderTest {

    @Test
    void parsesNestedValuesKeepingKeyOrder() throws Exception {
        Object v = JsonReader.parse(" {\"z\": [1, -2, 3.5e1], \"a\": {\"t\": true, \"f\": false, \"n\": null}, \"s\": \"x\"} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("z", "a", "s"), List.copyOf(m.keySet()));
        List<?> z = (List<?>) m.get("z");
        assertEquals(new JsonNumber("1"), z.get(0));
        assertEquals(-2L, ((JsonNumber) z.get(1)).longValue());
        assertFalse(((JsonNumber) z.get(2)).isInteger());
        Map<?, ?> a = (Map<?, ?>) m.get("a");
        assertEquals(Boolean.TRUE, a.get("t"));
        assertEquals(Boolean.FALSE, a.get("f"));
        assertSame(JsonReader.NULL, a.get("n"));
        assertEquals("x", m.get("s"));
    }

    @Test
    void decodesEscapesIncludingSurrogatePairs() throws Exception {
        Object v = JsonReader.parse("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"");
        assertEquals("a\"b\\c/d\n\t\u00e9\uD83D\uDE00", v);
    }

    @Test
    void writerOutputParsesBackToTheSameStrings() throws Exception {
        String tricky = "q\"uote \\ back\nline\u0001ctl \u00fcnicode";
        String json = new JsonWriter().beginObject().key(tricky).value(tricky).key("n").beginArray().value(1).value(-7).endArray()
                .endObject().text();
        assertEquals("{\"q\\\"uote \\\\ back\\nline\\u0001ctl \u00fcnicode\":\"q\\\"uote \\\\ back\\nline\\u0001ctl \u00fcnicode\",\"n\":[1,-7]}", json);
        Map<?, ?> m = (Map<?, ?>) JsonReader.parse(json);
        assertEquals(tricky, m.get(tricky));
        assertEquals(List.of(new JsonNumber("1"), new JsonNumber("-7")), m.get("n"));
    }

    @Test
    void rejectsMalformedInputWithPosition() {
        assertMalformed("{\"a\" 1}", "expected ':' at character 5 but found '1'");
        assertMalformed("{\"a\":1,}", "expected a string key at character 7");
        assertMalformed("[1 2]", "expected ',' or ']' at character 3");
        assertMalformed("{\"a\":1} x", "expected end of input");
        assertMalformed("\"abc", "expected a closing '\"'");
        assertMalformed("01", "expected end of input after the top-level value at character 1");
        assertMalformed("-", "expected a digit");
        assertMalformed("1.", "expected a digit after '.'");
        assertMalformed("tru", "expected 'true'");
        assertMalformed("\"\\x\"", "expected one of");
        assertMalformed("\"a\nb\"", "raw U+000A");
        assertMalformed("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
        assertMalformed("", "expected a value at character 0 but found the end of the header");
        assertMalformed("[".repeat(100), "nesting of at most 64 levels");
    }

    private static void assertMalformed(String json, String messagePart) {
        MalformedJsonException e = assertThrows(MalformedJsonException.class, () -> JsonReader.parse(json), json);
        assertTrue(e.getMessage().contains(messagePart), () -> "message '" + e.getMessage() + "' lacks '" + messagePart + "'");
    }
}
