package io.jtensor.badinput;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryStats;
import java.util.Arrays;
import org.junit.jupiter.api.function.Executable;

/**
 * Assertions for bad-input tests: the exact exception class, and a message that names the op and the values. Public
 * (through the engine's test jar) for the other modules' bad-input tests.
 */
public final class BadInput {
    private BadInput() {}

    /**
     * Runs {@code call}, which must throw exactly {@code type} (a subclass such as ArrayIndexOutOfBoundsException would
     * betray an unchecked Java array access) with a message containing every one of {@code parts}.
     */
    public static <T extends Throwable> T fails(Class<T> type, Executable call, String... parts) {
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

    /** The way messages print a shape. */
    public static String shape(long... s) { return Arrays.toString(s); }

    static MemoryStats stats(Device d) { return Backends.of(d).allocator().stats(d); }

    /** A CPU F32 array 0, 1, 2, ... of the given shape. */
    static NDArray iota(long... shape) {
        long n = 1;
        for (long s : shape) n *= s;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = i;
        return NDArray.of(v, shape);
    }

    static NDArray longs(long[] values, long... shape) { return NDArray.of(values, shape); }

    static NDArray on(Device d, NDArray a) {
        try (a) {
            return a.to(d);
        }
    }

    static void assertValues(double[] expected, NDArray a) {
        double[] got = a.toDoubleArray();
        assertEquals(Arrays.toString(expected), Arrays.toString(got));
    }

    static NDArray zeros(DType t, long... shape) { return NDArray.zeros(t, Device.cpu(), shape); }
}
