package io.jtensor.memory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Closes every resource created inside it on this thread that was not kept:
 * <pre>{@code try (var scope = MemoryScope.open()) { ... loss.backward(); optimizer.step(); }}</pre>
 * Scopes nest; a resource belongs to the innermost open scope of the thread that created it.
 * {@link #keep(AutoCloseable)} moves a resource out to the enclosing scope (or out of all scopes).
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<AutoCloseable> owned = new ArrayList<>();
    private final ArrayDeque<MemoryScope> stack;
    private final Thread owner = Thread.currentThread();
    private boolean closed;

    private MemoryScope(ArrayDeque<MemoryScope> stack) { this.stack = stack; }

    public static MemoryScope open() {
        ArrayDeque<MemoryScope> s = STACK.get();
        MemoryScope scope = new MemoryScope(s);
        s.push(scope);
        return scope;
    }

    /** Registers a newly created resource with the innermost open scope of this thread, if any. */
    public static void track(AutoCloseable resource) {
        MemoryScope top = STACK.get().peek();
        if (top != null) top.owned.add(resource);
    }

    /** Whether a scope is open on this thread. */
    public static boolean active() { return !STACK.get().isEmpty(); }

    /** Removes the resource from this scope so that closing it leaves the resource alive; returns it. */
    public <T extends AutoCloseable> T keep(T resource) {
        if (removeIdentity(owned, resource)) {
            MemoryScope parent = parent();
            if (parent != null) parent.owned.add(resource);
        }
        return resource;
    }

    /** Detaches the resource from whichever open scope of this thread holds it. */
    public static <T extends AutoCloseable> T untrack(T resource) {
        for (MemoryScope s : STACK.get()) if (removeIdentity(s.owned, resource)) break;
        return resource;
    }

    private static boolean removeIdentity(List<AutoCloseable> list, Object o) {
        for (int i = list.size() - 1; i >= 0; i--) {
            if (list.get(i) == o) {
                list.remove(i);
                return true;
            }
        }
        return false;
    }

    private MemoryScope parent() {
        boolean seen = false;
        for (MemoryScope s : stack) {
            if (seen) return s;
            if (s == this) seen = true;
        }
        return null;
    }

    /**
     * Ends this scope without closing what it holds and returns those resources, oldest first, for a scope on
     * another thread to adopt ({@link #track} each on that thread). This is how work done on a helper thread (a
     * data-parallel replica) hands the arrays it made to the scope of the thread that asked for the work: the helper
     * opens a scope, works, hands off, and the asking thread tracks the list once the helper is done. Like
     * {@link #close()} it must be the innermost open scope of this thread.
     */
    public List<AutoCloseable> handOff() {
        if (closed) throw new IllegalStateException("MemoryScope.handOff: the scope was already closed");
        if (stack.peek() != this) throw new IllegalStateException("MemoryScope.handOff: inner scopes are still open");
        closed = true;
        stack.pop();
        List<AutoCloseable> out = new ArrayList<>(owned);
        owned.clear();
        return out;
    }

    /**
     * Closes every resource this scope still owns. Closing a scope while scopes opened inside it are still open is an
     * error, reported after the inner scopes have been closed (innermost first, with what they held): leaving them
     * on the thread's stack would keep {@link #active()} true and hand every later array to a scope nobody closes.
     * So after any close, failed or not, the thread's scopes are exactly the ones opened before this one. A scope
     * must be closed on the thread that opened it; another thread's attempt fails and changes nothing.
     */
    @Override public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("MemoryScope: closed on thread \"" + Thread.currentThread().getName()
                    + "\", but it belongs to thread \"" + owner.getName() + "\" that opened it; close it there");
        }
        int inner = 0;
        RuntimeException innerFailure = null;
        while (stack.peek() != this && stack.peek() != null) {
            inner++;
            try {
                stack.peek().close();
            } catch (RuntimeException e) {
                if (innerFailure == null) innerFailure = e;
            }
        }
        closed = true;
        stack.remove(this);
        RuntimeException first = inner == 0 ? null : new IllegalStateException("MemoryScope closed out of order: " + inner
                + " inner scope(s) were still open; they were closed first, with every array they held", innerFailure);
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) first = new RuntimeException("MemoryScope: closing a resource failed", e);
            }
        }
        owned.clear();
        if (first != null) throw first;
    }
}
