package io.jtensor;

import java.util.function.Supplier;

/**
 * The door through which a composed op reports failures as itself. An op built from other public ops (mean from
 * sum, std from var, stack from unsqueeze and cat) would otherwise fail with the inner op's name, which the user
 * never called. {@link #as} runs the body and restates any bad-input failure from inside it under the outer op's
 * name, keeping the exception's class, the rest of the message and the original as its cause.
 *
 * <p>Contract: messages start with {@code "op: "} (an identifier, then a colon), as every bad-input message in the
 * engine does. Only exactly IllegalArgumentException, IllegalStateException and IndexOutOfBoundsException are
 * restated; subclasses (a CudaException, a NumberFormatException) pass through unchanged, since their class says
 * something the restatement would lose. Nested composed ops restate at each level, so the outermost name wins.
 */
public final class OpErrors {
    private OpErrors() {}

    /** Runs body; a bad-input failure inside it is rethrown naming {@code op}. */
    public static <T> T as(String op, Supplier<T> body) {
        try {
            return body.get();
        } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
            throw renamed(op, e);
        }
    }

    /** Like {@link #as(String, Supplier)} for a body without a result. */
    public static void run(String op, Runnable body) {
        try {
            body.run();
        } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
            throw renamed(op, e);
        }
    }

    /** e restated under op (e itself when it already names op or is a subclass of the three kinds). */
    public static RuntimeException renamed(String op, RuntimeException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (m.startsWith(op + ":")) return e;
        int colon = leadingOpName(m);
        String rest = colon < 0 ? m : m.substring(m.charAt(colon + 1) == ' ' ? colon + 2 : colon + 1);
        String inner = colon < 0 ? "" : " (in " + m.substring(0, colon) + ")";
        String message = op + ": " + rest + inner;
        RuntimeException r;
        if (e.getClass() == IllegalArgumentException.class) r = new IllegalArgumentException(message);
        else if (e.getClass() == IllegalStateException.class) r = new IllegalStateException(message);
        else if (e.getClass() == IndexOutOfBoundsException.class) r = new IndexOutOfBoundsException(message);
        else return e;
        r.initCause(e);
        return r;
    }

    /** The index of the colon ending a leading op name ("sum: ..."), or -1 when the message has none. */
    private static int leadingOpName(String m) {
        for (int i = 0; i < m.length(); i++) {
            char c = m.charAt(i);
            if (c == ':') return i > 0 && i + 1 < m.length() ? i : -1;
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '.')) return -1;
        }
        return -1;
    }
}
