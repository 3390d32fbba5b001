package io.jtensor.autograd;

/**
 * Whether ops on tensors record the graph, per thread. Scopes nest and restore what was there before:
 * <pre>{@code try (var g = GradMode.noGrad()) { ... evaluation, optimizer steps ... }}</pre>
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {}

    /** Whether ops on this thread record the graph now. */
    public static boolean isEnabled() { return ENABLED.get()[0]; }

    /** Sets the mode for this thread until changed; prefer the scoped {@link #noGrad()} / {@link #enableGrad()}. */
    public static void setEnabled(boolean on) { ENABLED.get()[0] = on; }

    /** Turns recording off until the returned guard is closed. */
    public static Guard noGrad() { return new Guard(false); }

    /** Turns recording on until the returned guard is closed (e.g. inside a noGrad region). */
    public static Guard enableGrad() { return new Guard(true); }

    /** Restores the mode it found when closed. */
    public static final class Guard implements AutoCloseable {
        private final boolean[] cell = ENABLED.get();
        private final boolean previous;
        private boolean closed;

        private Guard(boolean on) {
            previous = cell[0];
            cell[0] = on;
        }

        @Override public void close() {
            if (closed) return;
            closed = true;
            cell[0] = previous;
        }
    }
}
