package io.jtensor.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Small helpers every binding class uses: downcall handles by symbol name, a per-thread scratch buffer for out
 * parameters, and C strings.
 *
 * <p>Handles (CUcontext, CUstream, cublasHandle_t, ...) and device pointers cross the boundary as {@code long}
 * ({@link ValueLayout#JAVA_LONG}): on the 64-bit ABIs jtensor runs on, pointers and 64-bit integers travel in the
 * same registers, and a {@code long} is cheaper to hold in Java objects than a MemorySegment.
 */
public final class Native {
    public static final ValueLayout.OfLong HANDLE = ValueLayout.JAVA_LONG;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final int SCRATCH_BYTES = 1024;
    private static final ThreadLocal<MemorySegment> SCRATCH =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(SCRATCH_BYTES, 16));

    private Native() {}

    /** The downcall for a required symbol; throws naming the symbol and library when it is missing. */
    public static MethodHandle downcall(SymbolLookup lib, String library, String symbol, FunctionDescriptor fd) {
        MemorySegment addr = lib.find(symbol).orElseThrow(() ->
                new UnsatisfiedLinkError(library + ": symbol " + symbol + " not found (library too old?)"));
        return LINKER.downcallHandle(addr, fd);
    }

    /** The downcall for the first of several symbol names that exists (newer versioned names first), or empty. */
    public static Optional<MethodHandle> optionalDowncall(SymbolLookup lib, FunctionDescriptor fd, String... symbols) {
        for (String s : symbols) {
            Optional<MemorySegment> addr = lib.find(s);
            if (addr.isPresent()) return Optional.of(LINKER.downcallHandle(addr.get(), fd));
        }
        return Optional.empty();
    }

    /**
     * A zeroed, 16-byte aligned per-thread buffer of at least {@code bytes} bytes for out parameters. Valid until the
     * same thread asks again: read results before the next binding call.
     */
    public static MemorySegment scratch(long bytes) {
        if (bytes > SCRATCH_BYTES) return Arena.ofAuto().allocate(bytes, 16);
        MemorySegment s = SCRATCH.get().asSlice(0, bytes);
        s.fill((byte) 0);
        return s;
    }

    /** Reads a NUL-terminated C string at a native address, or null for a null pointer. */
    public static String cString(MemorySegment ptr) {
        if (ptr == null || ptr.equals(MemorySegment.NULL)) return null;
        return ptr.reinterpret(4096).getString(0);
    }

    /** Wraps what a MethodHandle call threw into an unchecked exception that names the call. */
    public static RuntimeException rethrow(String call, Throwable t) {
        if (t instanceof RuntimeException re) return re;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(call + ": native call failed: " + t, t);
    }
}
