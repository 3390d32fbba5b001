package io.jtensor.bindings;

import java.lang.foreign.SymbolLookup;
import java.util.List;

/**
 * One native library, located and bound at most once. The outcome is remembered: after a failure every later
 * call throws the same exception, so a missing library costs one search, not one per call.
 */
public final class BoundLibrary {
    private final String what;
    private final LibrarySpec spec;
    private volatile boolean ready;
    private RuntimeException failure;
    private NativeLibraryLocator.Loaded loaded;

    /** {@code what} names the library in messages, e.g. "CUDA driver". */
    public BoundLibrary(String what, LibrarySpec spec) {
        this.what = what;
        this.spec = spec;
    }

    /**
     * Locates the library and runs {@code bindHandles}, which creates the downcall handles (typically by touching
     * a holder class whose static initialiser looks its symbols up through {@link #lookup()}).
     */
    public synchronized void load(Runnable bindHandles) {
        if (ready) return;
        if (failure != null) throw failure;
        try {
            loaded = NativeLibraryLocator.system().load(spec);
            bindHandles.run();
            ready = true;
        } catch (LibraryNotFoundException e) {
            failure = e;
            throw e;
        } catch (ExceptionInInitializerError | UnsatisfiedLinkError | NoClassDefFoundError e) {
            Throwable cause = e instanceof ExceptionInInitializerError ei && ei.getCause() != null ? ei.getCause() : e;
            failure = new LibraryNotFoundException(what + " at " + (loaded == null ? "?" : loaded.where())
                    + " could not be bound: " + cause.getMessage(), List.of(String.valueOf(loaded)));
            throw failure;
        }
    }

    /** Whether {@link #load} succeeds. */
    public boolean isLoadable(Runnable bindHandles) {
        try {
            load(bindHandles);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    public boolean isReady() { return ready; }

    /** The library's symbols; only valid once located (inside or after {@link #load}). */
    public SymbolLookup lookup() { return loaded.lookup(); }

    /** Where the library was loaded from, or null before it was. */
    public String where() { return loaded == null ? null : loaded.where(); }
}
