package io.jtensor.bindings.mpi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jtensor.bindings.LibraryNotFoundException;
import io.jtensor.bindings.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * MPI through Open MPI's {@code libmpi.so.40} (Debian: {@code openmpi-bin}, {@code libopenmpi3}): typed static
 * methods over FFM downcalls. Handles (communicators, datatypes, ops, requests) are {@code long}s taken from
 * {@link #handles()}; buffers are native addresses. The communicator's error handler is meant to be
 * {@code MPI_ERRORS_RETURN} ({@link #commSetErrhandler}), so that a failed call returns its code, which becomes an
 * {@link MpiException} naming the call, the code and {@code MPI_Error_string}'s text.
 *
 * <p>Loading: Open MPI opens its plugins (the transports, the process-management client) with {@code dlopen} and
 * they resolve symbols of libmpi itself, so libmpi must be loaded {@code RTLD_GLOBAL}; Java's
 * {@code SymbolLookup.libraryLookup} loads libraries {@code RTLD_LOCAL}. So {@link #load()} calls libc's
 * {@code dlopen(path, RTLD_NOW | RTLD_GLOBAL)} first and only then binds the symbols. Search order:
 * {@code -Djtensor.mpi.lib=FILE}, the system loader ({@code libmpi.so.40}), {@code $MPI_HOME/lib}, then the
 * directories Debian, Fedora and source builds use.
 */
public final class Mpi {
    public static final String LIBRARY_PROPERTY = "jtensor.mpi.lib";
    public static final String SONAME = "libmpi.so.40";
    static final List<String> SYSTEM_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu/openmpi/lib", "/usr/lib64/openmpi/lib", "/usr/local/lib", "/opt/openmpi/lib");

    public static final int THREAD_SINGLE = 0;
    public static final int THREAD_FUNNELED = 1;
    public static final int THREAD_SERIALIZED = 2;
    public static final int THREAD_MULTIPLE = 3;
    private static final int MAX_ERROR_STRING = 256;
    private static final int MAX_LIBRARY_VERSION_STRING = 256;
    private static final int RTLD_NOW = 2;
    private static final int RTLD_GLOBAL = 0x100;

    private static volatile Bound bound;
    private static RuntimeException failure;

    private Mpi() {}

    /** The name of an MPI thread level, as mpi.h spells it. */
    public static String threadLevelName(int level) {
        return switch (level) {
            case THREAD_SINGLE -> "MPI_THREAD_SINGLE";
            case THREAD_FUNNELED -> "MPI_THREAD_FUNNELED";
            case THREAD_SERIALIZED -> "MPI_THREAD_SERIALIZED";
            case THREAD_MULTIPLE -> "MPI_THREAD_MULTIPLE";
            default -> "MPI thread level " + level;
        };
    }

    /** Loads libmpi (RTLD_GLOBAL) and binds it once; throws the same exception every time when it cannot. */
    public static synchronized void load() {
        if (bound != null) return;
        if (failure != null) throw failure;
        try {
            bound = new Bound(openGlobal());
        } catch (LibraryNotFoundException e) {
            failure = e;
            throw e;
        } catch (UnsatisfiedLinkError e) {
            failure = new LibraryNotFoundException("MPI: " + e.getMessage(), List.of());
            throw failure;
        }
    }

    /** Whether libmpi can be loaded and bound. */
    public static boolean isLoadable() {
        try {
            load();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Where libmpi was loaded from, or null before {@link #load()} succeeded. */
    public static String location() { return bound == null ? null : bound.where; }

    /** The predefined handles of the loaded implementation. */
    public static MpiHandles handles() { return b().handles; }

    private static Bound b() {
        Bound x = bound;
        if (x == null) {
            load();
            x = bound;
        }
        return x;
    }

    /** Opens libmpi with dlopen(RTLD_NOW | RTLD_GLOBAL), returning its lookup and where it came from. */
    private static Bound.Opened openGlobal() {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        MethodHandle dlopen = linker.downcallHandle(libc.find("dlopen").orElseThrow(
                () -> new UnsatisfiedLinkError("dlopen not found in the C library")), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle dlerror = linker.downcallHandle(libc.find("dlerror").orElseThrow(
                () -> new UnsatisfiedLinkError("dlerror not found in the C library")), FunctionDescriptor.of(ADDRESS));
        List<String> candidates = new ArrayList<>();
        List<String> report = new ArrayList<>();
        String override = System.getProperty(LIBRARY_PROPERTY);
        if (override != null && !override.isBlank()) candidates.add(override);
        else report.add("-D" + LIBRARY_PROPERTY + ": not set");
        candidates.add(SONAME);
        String home = System.getenv("MPI_HOME");
        if (home != null && !home.isBlank()) candidates.add(Path.of(home, "lib", SONAME).toString());
        else report.add("MPI_HOME: not set");
        for (String d : SYSTEM_DIRS) candidates.add(Path.of(d, SONAME).toString());
        for (String c : candidates) {
            boolean isPath = c.contains("/");
            if (isPath && !Files.isRegularFile(Path.of(c))) {
                report.add(c + ": no such file");
                continue;
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment h = (MemorySegment) dlopen.invokeExact(a.allocateFrom(c), RTLD_NOW | RTLD_GLOBAL);
                if (h.equals(MemorySegment.NULL)) {
                    String why = Native.cString((MemorySegment) dlerror.invokeExact());
                    report.add((isPath ? c : "system loader dlopen(\"" + c + "\")") + ": " + why);
                    continue;
                }
                // Already resident (RTLD_GLOBAL): this second open only gives Java a lookup over the same handle.
                SymbolLookup lookup = isPath ? SymbolLookup.libraryLookup(Path.of(c), Arena.global())
                        : SymbolLookup.libraryLookup(c, Arena.global());
                return new Bound.Opened(lookup, isPath ? c : "loader:" + c);
            } catch (RuntimeException e) {
                report.add(c + ": " + e.getMessage());
            } catch (Throwable t) {
                throw Native.rethrow("dlopen", t);
            }
        }
        StringBuilder msg = new StringBuilder("MPI library (" + SONAME + ", Open MPI) not found. Searched, in order:");
        for (String line : report) msg.append("\n  ").append(line);
        msg.append("\nInstall Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3) or point -D")
                .append(LIBRARY_PROPERTY).append("=FILE at libmpi.so.40.");
        throw new LibraryNotFoundException(msg.toString(), report);
    }

    /** The downcall handles and predefined handles of the loaded library. */
    private static final class Bound {
        record Opened(SymbolLookup lookup, String where) {}

        final String where;
        final MpiHandles handles;
        final MethodHandle initThread, initialized, finalized, queryThread, finalize, abort;
        final MethodHandle commRank, commSize, commSetErrhandler, errorString, libraryVersion;
        final MethodHandle allreduce, iallreduce, test, waitRequest, bcast, allgather, reduceScatterBlock, barrier;

        Bound(Opened o) {
            SymbolLookup l = o.lookup();
            where = o.where();
            handles = MpiHandles.openMpi(l);
            initThread = f(l, "MPI_Init_thread", ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
            initialized = f(l, "MPI_Initialized", ADDRESS);
            finalized = f(l, "MPI_Finalized", ADDRESS);
            queryThread = f(l, "MPI_Query_thread", ADDRESS);
            finalize = f(l, "MPI_Finalize");
            abort = f(l, "MPI_Abort", JAVA_LONG, JAVA_INT);
            commRank = f(l, "MPI_Comm_rank", JAVA_LONG, ADDRESS);
            commSize = f(l, "MPI_Comm_size", JAVA_LONG, ADDRESS);
            commSetErrhandler = f(l, "MPI_Comm_set_errhandler", JAVA_LONG, JAVA_LONG);
            errorString = f(l, "MPI_Error_string", JAVA_INT, ADDRESS, ADDRESS);
            libraryVersion = f(l, "MPI_Get_library_version", ADDRESS, ADDRESS);
            // int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm)
            allreduce = f(l, "MPI_Allreduce", JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
            iallreduce = f(l, "MPI_Iallreduce", JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
            // int MPI_Test(MPI_Request *request, int *flag, MPI_Status *status); MPI_Wait(request, status)
            test = f(l, "MPI_Test", ADDRESS, ADDRESS, JAVA_LONG);
            waitRequest = f(l, "MPI_Wait", ADDRESS, JAVA_LONG);
            // int MPI_Bcast(void *buffer, int count, MPI_Datatype, int root, MPI_Comm)
            bcast = f(l, "MPI_Bcast", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG);
            // int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype, void *recvbuf, int recvcount, MPI_Datatype, MPI_Comm)
            allgather = f(l, "MPI_Allgather", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
            // int MPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype, MPI_Op, MPI_Comm)
            reduceScatterBlock = f(l, "MPI_Reduce_scatter_block", JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
            barrier = f(l, "MPI_Barrier", JAVA_LONG);
        }

        private static MethodHandle f(SymbolLookup l, String symbol, MemoryLayout... args) {
            return Native.downcall(l, "MPI", symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    private static void check(int r, String call) {
        if (r != 0) throw new MpiException(call, r, errorString(r));
    }

    /** MPI's text for an error code ({@code MPI_Error_string}), or null when MPI cannot say. */
    public static String errorString(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MAX_ERROR_STRING);
            MemorySegment len = a.allocate(JAVA_INT);
            int r = (int) b().errorString.invokeExact(code, buf, len);
            return r == 0 ? buf.getString(0) : null;
        } catch (Throwable t) {
            return null;
        }
    }

    /**
     * {@code MPI_Init_thread(NULL, NULL, required, &provided)}: returns the thread level MPI granted, which may be
     * lower than {@code required}. Call once per process, before any other MPI call but the queries.
     */
    public static int initThread(int required) {
        MemorySegment provided = Native.scratch(4);
        int r;
        try { r = (int) b().initThread.invokeExact(MemorySegment.NULL, MemorySegment.NULL, required, provided); }
        catch (Throwable t) { throw Native.rethrow("MPI_Init_thread", t); }
        check(r, "MPI_Init_thread");
        return provided.get(JAVA_INT, 0);
    }

    /** Whether MPI_Init(_thread) has been called in this process. */
    public static boolean initialized() { return flag(b().initialized, "MPI_Initialized"); }

    /** Whether MPI_Finalize has been called in this process. */
    public static boolean finalized() { return flag(b().finalized, "MPI_Finalized"); }

    private static boolean flag(MethodHandle h, String call) {
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) h.invokeExact(out); } catch (Throwable t) { throw Native.rethrow(call, t); }
        check(r, call);
        return out.get(JAVA_INT, 0) != 0;
    }

    /** The thread level this process runs at. */
    public static int queryThread() {
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) b().queryThread.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("MPI_Query_thread", t); }
        check(r, "MPI_Query_thread");
        return out.get(JAVA_INT, 0);
    }

    /** The implementation's version text ({@code MPI_Get_library_version}), e.g. "Open MPI v4.1.4, ...". */
    public static String libraryVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MAX_LIBRARY_VERSION_STRING);
            MemorySegment len = a.allocate(JAVA_INT);
            int r = (int) b().libraryVersion.invokeExact(buf, len);
            check(r, "MPI_Get_library_version");
            return buf.getString(0).strip();
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow("MPI_Get_library_version", t);
        }
    }

    public static void finalizeMpi() {
        int r;
        try { r = (int) b().finalize.invokeExact(); } catch (Throwable t) { throw Native.rethrow("MPI_Finalize", t); }
        check(r, "MPI_Finalize");
    }

    /**
     * {@code MPI_Abort(comm, errorcode)}: ends every process of the job (Open MPI's runtime kills them); in
     * practice it does not return.
     */
    public static void abort(long comm, int errorCode) {
        int r;
        try { r = (int) b().abort.invokeExact(comm, errorCode); } catch (Throwable t) { throw Native.rethrow("MPI_Abort", t); }
        check(r, "MPI_Abort");
    }

    public static int commRank(long comm) { return intOut(b().commRank, comm, "MPI_Comm_rank"); }

    public static int commSize(long comm) { return intOut(b().commSize, comm, "MPI_Comm_size"); }

    private static int intOut(MethodHandle h, long comm, String call) {
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) h.invokeExact(comm, out); } catch (Throwable t) { throw Native.rethrow(call, t); }
        check(r, call);
        return out.get(JAVA_INT, 0);
    }

    /** Sets a communicator's error handler ({@link MpiHandles#errorsReturn()} to get error codes back). */
    public static void commSetErrhandler(long comm, long errhandler) {
        int r;
        try { r = (int) b().commSetErrhandler.invokeExact(comm, errhandler); } catch (Throwable t) { throw Native.rethrow("MPI_Comm_set_errhandler", t); }
        check(r, "MPI_Comm_set_errhandler");
    }

    /** {@code MPI_Allreduce}; {@code send == handles().inPlace()} reduces {@code recv} in place. */
    public static void allreduce(long send, long recv, int count, long datatype, long op, long comm) {
        int r;
        try { r = (int) b().allreduce.invokeExact(send, recv, count, datatype, op, comm); } catch (Throwable t) { throw Native.rethrow("MPI_Allreduce", t); }
        check(r, "MPI_Allreduce");
    }

    /** An MPI_Request cell: MPI writes the request into it and resets it to MPI_REQUEST_NULL when it completes. */
    public static final class Request {
        final MemorySegment cell = Arena.ofAuto().allocate(JAVA_LONG);
        private boolean done;

        public boolean isDone() { return done; }
    }

    /** {@code MPI_Iallreduce}: starts the reduction and returns its request; complete it with {@link #test} or {@link #waitFor}. */
    public static Request iallreduce(long send, long recv, int count, long datatype, long op, long comm) {
        Request req = new Request();
        int r;
        try { r = (int) b().iallreduce.invokeExact(send, recv, count, datatype, op, comm, req.cell); }
        catch (Throwable t) { throw Native.rethrow("MPI_Iallreduce", t); }
        check(r, "MPI_Iallreduce");
        return req;
    }

    /** {@code MPI_Test}: progresses the request and says whether it has completed (then its buffers are ready). */
    public static boolean test(Request req) {
        if (req.done) return true;
        MemorySegment flag = Native.scratch(4);
        int r;
        try { r = (int) b().test.invokeExact(req.cell, flag, handles().statusIgnore()); } catch (Throwable t) { throw Native.rethrow("MPI_Test", t); }
        check(r, "MPI_Test");
        req.done = flag.get(JAVA_INT, 0) != 0;
        return req.done;
    }

    /** {@code MPI_Wait}: blocks until the request completes. */
    public static void waitFor(Request req) {
        if (req.done) return;
        int r;
        try { r = (int) b().waitRequest.invokeExact(req.cell, handles().statusIgnore()); } catch (Throwable t) { throw Native.rethrow("MPI_Wait", t); }
        check(r, "MPI_Wait");
        req.done = true;
    }

    public static void bcast(long buffer, int count, long datatype, int root, long comm) {
        int r;
        try { r = (int) b().bcast.invokeExact(buffer, count, datatype, root, comm); } catch (Throwable t) { throw Native.rethrow("MPI_Bcast", t); }
        check(r, "MPI_Bcast");
    }

    public static void allgather(long send, int sendCount, long sendType, long recv, int recvCount, long recvType, long comm) {
        int r;
        try { r = (int) b().allgather.invokeExact(send, sendCount, sendType, recv, recvCount, recvType, comm); }
        catch (Throwable t) { throw Native.rethrow("MPI_Allgather", t); }
        check(r, "MPI_Allgather");
    }

    public static void reduceScatterBlock(long send, long recv, int recvCount, long datatype, long op, long comm) {
        int r;
        try { r = (int) b().reduceScatterBlock.invokeExact(send, recv, recvCount, datatype, op, comm); }
        catch (Throwable t) { throw Native.rethrow("MPI_Reduce_scatter_block", t); }
        check(r, "MPI_Reduce_scatter_block");
    }

    public static void barrier(long comm) {
        int r;
        try { r = (int) b().barrier.invokeExact(comm); } catch (Throwable t) { throw Native.rethrow("MPI_Barrier", t); }
        check(r, "MPI_Barrier");
    }
}
