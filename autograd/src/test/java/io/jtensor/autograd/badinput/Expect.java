package io.jtensor.autograd.badinput;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import org.junit.jupiter.api.function.Executable;

/** The bad-input assertion: exactly this exception class, with a message naming the op and the values. */
final class Expect {
    private Expect() {}

    static <T extends Throwable> T fails(Class<T> type, Executable call, String... parts) {
        Throwable thrown = null;
        try {
            call.execute();
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown == null) fail("expected " + type.getSimpleName() + " containing " + Arrays.toString(parts) + ", but the call succeeded");
        if (thrown.getClass() != type) {
            AssertionError e = new AssertionError("expected " + type.getSimpleName() + ", got " + thrown);
            e.initCause(thrown);
            throw e;
        }
        String message = thrown.getMessage();
        assertNotNull(message, "exception without a message");
        for (String part : parts) {
            if (!message.contains(part)) fail("message \"" + message + "\" does not contain \"" + part + "\"");
        }
        return type.cast(thrown);
    }

    static String shape(long... s) { return Arrays.toString(s); }
}
