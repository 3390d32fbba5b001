package io.jtensor.nn.amp;

import io.jtensor.DType;
import io.jtensor.autograd.AutocastPolicy;
import io.jtensor.autograd.Autocasting;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A thread-local scope in which ops run in the precision of the autocast table ({@link io.jtensor.autograd.AutocastOp}):
 * products in half, range-hungry ops in fp32, elementwise ops in the widest input type, as PyTorch's
 * {@code torch.autocast}.
 * <pre>{@code
 * try (Autocast ac = Autocast.enable(DType.F16)) {
 *     Tensor loss = model.forward(x).crossEntropy(y);     // F32 loss from half products
 * }
 * }</pre>
 *
 * <p><b>Cast cache.</b> Within one scope a tensor of the graph (one that requires grad, seen with grad mode on: a
 * parameter, or a view of one such as a recurrent layer's transposed weight, or an activation fed to several
 * products) is cast to half once and the cast reused by every later op of the scope, so a weight used at several
 * places or time steps is converted once per forward; gradients flow back through that one cast to the fp32
 * tensor. PyTorch caches leaves only; keying on any graph tensor also covers views and shared inputs, and costs no
 * memory in training, where the half products save those casts for backward anyway. The cache is released when the
 * scope closes (the graph keeps what its nodes saved). As in PyTorch, parameters changed inside a scope (an optimizer
 * step) are not re-cast until the next scope.
 *
 * <p><b>Nesting.</b> Scopes nest per thread: {@link #enable} inside a scope switches to its half type until it closes,
 * {@link #disable()} runs the ops in their inputs' dtypes until it closes; closing restores the scope outside. Scopes
 * close in the reverse order they opened, on the thread that opened them.
 *
 * <p><b>Other threads.</b> The scope belongs to its thread; a worker thread (a data-parallel replica) does not see it.
 * To run a worker under the same autocast state, take {@link #current()} on the opening thread and
 * {@link Snapshot#open()} it on the worker, inside a try-with-resources that closes on the worker; the worker gets a
 * scope of the same kind and half type with a cache of its own (caches are never shared between threads).
 */
public final class Autocast implements AutoCloseable, AutocastPolicy {
    private final DType halfType;
    /** What this scope installed: this (enabled), null (disabled). */
    private final AutocastPolicy installed;
    private final AutocastPolicy previous;
    private final Thread owner = Thread.currentThread();
    private final Map<Tensor, Tensor> cache = new IdentityHashMap<>();
    private final Map<Tensor, Boolean> cached = new IdentityHashMap<>();
    private boolean closed;

    private Autocast(DType halfType, boolean enabled) {
        this.halfType = halfType;
        this.installed = enabled ? this : null;
        this.previous = Autocasting.install(installed);
    }

    /** Opens a scope in which the table's half row runs in {@code halfType} (F16 or BF16). */
    public static Autocast enable(DType halfType) {
        return new Autocast(checkHalf("Autocast.enable", halfType), true);
    }

    /** Opens a scope in which ops run in their inputs' dtypes, also inside an enabled scope. */
    public static Autocast disable() {
        return new Autocast(null, false);
    }

    /** Whether ops on this thread are autocast now. */
    public static boolean isEnabled() { return Autocasting.current() != null; }

    /** The half type of the scope in force on this thread, or null when autocast is off here. */
    public static DType currentHalfType() {
        AutocastPolicy p = Autocasting.current();
        return p == null ? null : p.halfType();
    }

    /** The autocast state of this thread, to re-open on another thread ({@link Snapshot#open()}). */
    public static Snapshot current() { return new Snapshot(currentHalfType()); }

    /**
     * The autocast state of one thread at one moment: off, or on with a half type. Immutable; may be handed to other
     * threads.
     */
    public record Snapshot(DType halfType) {
        public boolean enabled() { return halfType != null; }

        /** Opens on the calling thread a scope in the state this snapshot recorded; close it on the same thread. */
        public Autocast open() { return halfType == null ? disable() : enable(halfType); }
    }

    static DType checkHalf(String op, DType t) {
        if (t != DType.F16 && t != DType.BF16) {
            throw new IllegalArgumentException(op + ": expected a half type, F16 or BF16, got " + t);
        }
        return t;
    }

    // ------------------------------------------------------------------ AutocastPolicy

    @Override public DType halfType() { return halfType; }

    @Override public Tensor cast(Tensor t, DType dtype) {
        boolean cacheable = GradMode.isEnabled() && t.requiresGrad() && dtype == halfType;
        if (!cacheable) return t.to(dtype);
        Tensor c = cache.get(t);
        if (c == null || c.isClosed() || Autocasting.graphReleased(c)) {
            // (a backward pass inside the scope released the old cast's node: gradient accumulation over micro-batches)
            if (c != null) {
                cached.remove(c);
                c.data().close();
            }
            c = t.to(dtype);
            c.data().keep();
            cache.put(t, c);
            cached.put(c, Boolean.TRUE);
        }
        return c;
    }

    @Override public boolean ownsCast(Tensor cast) { return cached.containsKey(cast); }

    /** How many parameters this scope holds a cast of (for tests of the cache). */
    public int cachedCasts() { return cache.size(); }

    /** Restores the scope that was in force when this one opened and releases the cast cache. */
    @Override public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("Autocast.close: a scope closes on the thread that opened it (" + owner.getName()
                    + "), not on " + Thread.currentThread().getName());
        }
        if (Autocasting.current() != installed) {
            throw new IllegalStateException("Autocast.close: scopes must close in the reverse order they opened; an inner scope is still open");
        }
        closed = true;
        Autocasting.install(previous);
        for (Tensor c : cache.values()) c.data().close();
        cache.clear();
        cached.clear();
    }
}
