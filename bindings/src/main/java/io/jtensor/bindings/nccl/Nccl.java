package io.jtensor.bindings.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jtensor.bindings.BoundLibrary;
import io.jtensor.bindings.LibrarySpec;
import io.jtensor.bindings.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * NCCL ({@code libnccl.so.2}), found like the other NVIDIA libraries (including Python wheels'
 * {@code site-packages/nvidia/nccl/lib}): typed static methods over FFM downcalls. Communicators and CUDA streams
 * are {@code long}s; buffers are device addresses. Every result other than {@code ncclSuccess} becomes an
 * {@link NcclException} naming the call, the {@code ncclResult_t} and {@code ncclGetLastError}'s text.
 *
 * <p>{@code ncclUniqueId} is a 128-byte struct passed <em>by value</em> to {@code ncclCommInitRank}: Java holds it
 * as a {@code byte[128]} and the downcall's descriptor names the struct layout, so the linker copies it the way the
 * C ABI passes a 128-byte aggregate (on the stack). Enum values are nccl.h's (2.x; bfloat16 and ncclAvg since 2.10).
 */
public final class Nccl {
    public static final LibrarySpec SPEC = LibrarySpec.toolkit("NCCL", "libnccl.so", List.of(), "libnccl.so.2", "libnccl.so");
    public static final int UNIQUE_ID_BYTES = 128;

    // ncclDataType_t
    public static final int INT8 = 0;
    public static final int UINT8 = 1;
    public static final int INT32 = 2;
    public static final int UINT32 = 3;
    public static final int INT64 = 4;
    public static final int UINT64 = 5;
    public static final int FLOAT16 = 6;
    public static final int FLOAT32 = 7;
    public static final int FLOAT64 = 8;
    public static final int BFLOAT16 = 9;
    // ncclRedOp_t
    public static final int SUM = 0;
    public static final int PROD = 1;
    public static final int MAX = 2;
    public static final int MIN = 3;
    public static final int AVG = 4;
    // ncclResult_t
    public static final int SUCCESS = 0;
    public static final int IN_PROGRESS = 7;
    private static final String[] RESULTS = {"ncclSuccess", "ncclUnhandledCudaError", "ncclSystemError",
        "ncclInternalError", "ncclInvalidArgument", "ncclInvalidUsage", "ncclRemoteError", "ncclInProgress", "ncclTimeout"};

    /** {@code typedef struct { char internal[128]; } ncclUniqueId;} */
    static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE));

    private static final BoundLibrary LIB = new BoundLibrary("NCCL", SPEC);

    private Nccl() {}

    /** The ncclResult_t's name, e.g. ncclInvalidUsage. */
    public static String resultName(int result) {
        return result >= 0 && result < RESULTS.length ? RESULTS[result] : "ncclResult_t(" + result + ")";
    }

    public static void load() { LIB.load(H::touch); }

    public static boolean isLoadable() { return LIB.isLoadable(H::touch); }

    /** Where the library was loaded from, or null before it was. */
    public static String location() { return LIB.where(); }

    private static void ready() {
        if (!LIB.isReady()) load();
    }

    private static final class H {
        static final SymbolLookup L = LIB.lookup();
        static final MethodHandle getVersion = f("ncclGetVersion", ADDRESS);
        static final MethodHandle getUniqueId = f("ncclGetUniqueId", ADDRESS);
        static final MethodHandle commInitRank = f("ncclCommInitRank", ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT);
        static final MethodHandle commInitAll = f("ncclCommInitAll", ADDRESS, JAVA_INT, ADDRESS);
        static final MethodHandle commDestroy = f("ncclCommDestroy", JAVA_LONG);
        static final MethodHandle commAbort = f("ncclCommAbort", JAVA_LONG);
        static final MethodHandle commGetAsyncError = f("ncclCommGetAsyncError", JAVA_LONG, ADDRESS);
        static final MethodHandle getErrorString = Native.downcall(L, "NCCL", "ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        static final MethodHandle getLastError = Native.downcall(L, "NCCL", "ncclGetLastError", FunctionDescriptor.of(ADDRESS, JAVA_LONG));
        // ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t)
        static final MethodHandle allReduce = f("ncclAllReduce", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        // ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t, int root, ncclComm_t, cudaStream_t)
        static final MethodHandle broadcast = f("ncclBroadcast", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        // ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, ncclDataType_t, ncclComm_t, cudaStream_t)
        static final MethodHandle allGather = f("ncclAllGather", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
        // ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t)
        static final MethodHandle reduceScatter = f("ncclReduceScatter", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        static final MethodHandle groupStart = f("ncclGroupStart");
        static final MethodHandle groupEnd = f("ncclGroupEnd");

        static void touch() {}

        private static MethodHandle f(String symbol, MemoryLayout... args) {
            return Native.downcall(L, "NCCL", symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    private static void check(int r, String call, long comm) {
        if (r != SUCCESS) throw new NcclException(call, r, lastError(comm));
    }

    /** {@code ncclGetErrorString}: NCCL's short text for a result. */
    public static String errorString(int result) {
        ready();
        try { return Native.cString((MemorySegment) H.getErrorString.invokeExact(result)); }
        catch (Throwable t) { throw Native.rethrow("ncclGetErrorString", t); }
    }

    /** {@code ncclGetLastError(comm)} (comm may be 0): the text of the last error NCCL logged, or null. */
    public static String lastError(long comm) {
        try { return Native.cString((MemorySegment) H.getLastError.invokeExact(comm)); }
        catch (Throwable t) { return null; }
    }

    /** NCCL_VERSION_CODE of the library: 22304 for 2.23.4 (codes below 2.9 are X*1000 + Y*100 + Z). */
    public static int version() {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.getVersion.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("ncclGetVersion", t); }
        check(r, "ncclGetVersion", 0);
        return out.get(JAVA_INT, 0);
    }

    /** "2.23.4" from a version code. */
    public static String versionString(int code) {
        if (code < 20900) return (code / 1000) + "." + (code % 1000 / 100) + "." + (code % 100);
        return (code / 10000) + "." + (code % 10000 / 100) + "." + (code % 100);
    }

    /** {@code ncclGetUniqueId}: a new id (honours {@code NCCL_COMM_ID} in the environment). */
    public static byte[] getUniqueId() {
        ready();
        MemorySegment out = Native.scratch(UNIQUE_ID_BYTES);
        int r;
        try { r = (int) H.getUniqueId.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("ncclGetUniqueId", t); }
        check(r, "ncclGetUniqueId", 0);
        return out.toArray(JAVA_BYTE);
    }

    /**
     * {@code ncclCommInitRank(&comm, nranks, id, rank)}: joins a communicator on the calling thread's current CUDA
     * device (context); blocks until every rank has joined.
     */
    public static long commInitRank(int nranks, byte[] uniqueId, int rank) {
        ready();
        if (uniqueId.length != UNIQUE_ID_BYTES) {
            throw new IllegalArgumentException("ncclCommInitRank: expected a " + UNIQUE_ID_BYTES + "-byte ncclUniqueId, got " + uniqueId.length + " bytes");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment comm = a.allocate(JAVA_LONG);
            MemorySegment id = a.allocate(UNIQUE_ID);
            MemorySegment.copy(uniqueId, 0, id, JAVA_BYTE, 0, UNIQUE_ID_BYTES);
            int r = (int) H.commInitRank.invokeExact(comm, nranks, id, rank);
            check(r, "ncclCommInitRank", 0);
            return comm.get(JAVA_LONG, 0);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow("ncclCommInitRank", t);
        }
    }

    /** {@code ncclCommInitAll}: one communicator per listed CUDA device, all in this process. */
    public static long[] commInitAll(int[] devices) {
        ready();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment comms = a.allocate(JAVA_LONG, devices.length);
            MemorySegment list = a.allocateFrom(JAVA_INT, devices);
            int r = (int) H.commInitAll.invokeExact(comms, devices.length, list);
            check(r, "ncclCommInitAll", 0);
            return comms.toArray(JAVA_LONG);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow("ncclCommInitAll", t);
        }
    }

    public static void commDestroy(long comm) {
        ready();
        int r;
        try { r = (int) H.commDestroy.invokeExact(comm); } catch (Throwable t) { throw Native.rethrow("ncclCommDestroy", t); }
        check(r, "ncclCommDestroy", 0);
    }

    /** {@code ncclCommAbort}: frees the communicator and aborts whatever of it still runs on the device. */
    public static void commAbort(long comm) {
        ready();
        int r;
        try { r = (int) H.commAbort.invokeExact(comm); } catch (Throwable t) { throw Native.rethrow("ncclCommAbort", t); }
        check(r, "ncclCommAbort", 0);
    }

    /** {@code ncclCommGetAsyncError}: the communicator's asynchronous error (ncclSuccess, ncclInProgress or an error). */
    public static int commGetAsyncError(long comm) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.commGetAsyncError.invokeExact(comm, out); } catch (Throwable t) { throw Native.rethrow("ncclCommGetAsyncError", t); }
        check(r, "ncclCommGetAsyncError", comm);
        return out.get(JAVA_INT, 0);
    }

    /** In place when {@code send == recv}. */
    public static void allReduce(long send, long recv, long count, int datatype, int op, long comm, long stream) {
        ready();
        int r;
        try { r = (int) H.allReduce.invokeExact(send, recv, count, datatype, op, comm, stream); } catch (Throwable t) { throw Native.rethrow("ncclAllReduce", t); }
        check(r, "ncclAllReduce", comm);
    }

    public static void broadcast(long send, long recv, long count, int datatype, int root, long comm, long stream) {
        ready();
        int r;
        try { r = (int) H.broadcast.invokeExact(send, recv, count, datatype, root, comm, stream); } catch (Throwable t) { throw Native.rethrow("ncclBroadcast", t); }
        check(r, "ncclBroadcast", comm);
    }

    public static void allGather(long send, long recv, long sendCount, int datatype, long comm, long stream) {
        ready();
        int r;
        try { r = (int) H.allGather.invokeExact(send, recv, sendCount, datatype, comm, stream); } catch (Throwable t) { throw Native.rethrow("ncclAllGather", t); }
        check(r, "ncclAllGather", comm);
    }

    public static void reduceScatter(long send, long recv, long recvCount, int datatype, int op, long comm, long stream) {
        ready();
        int r;
        try { r = (int) H.reduceScatter.invokeExact(send, recv, recvCount, datatype, op, comm, stream); } catch (Throwable t) { throw Native.rethrow("ncclReduceScatter", t); }
        check(r, "ncclReduceScatter", comm);
    }

    public static void groupStart() {
        ready();
        int r;
        try { r = (int) H.groupStart.invokeExact(); } catch (Throwable t) { throw Native.rethrow("ncclGroupStart", t); }
        check(r, "ncclGroupStart", 0);
    }

    public static void groupEnd() {
        ready();
        int r;
        try { r = (int) H.groupEnd.invokeExact(); } catch (Throwable t) { throw Native.rethrow("ncclGroupEnd", t); }
        check(r, "ncclGroupEnd", 0);
    }
}
