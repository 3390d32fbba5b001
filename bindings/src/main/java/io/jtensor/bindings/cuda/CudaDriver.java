package io.jtensor.bindings.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jtensor.bindings.LibraryNotFoundException;
import io.jtensor.bindings.BoundLibrary;
import io.jtensor.bindings.LibrarySpec;
import io.jtensor.bindings.Native;
import io.jtensor.bindings.NativeLibraryLocator;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * The CUDA driver API (libcuda.so.1): typed static methods over FFM downcalls. Every non-success CUresult becomes a
 * {@link CudaException} naming the error and the call ({@code CUDA_ERROR_OUT_OF_MEMORY in cuMemAlloc}).
 *
 * <p>Handles (CUcontext, CUstream, CUevent, CUmodule, CUfunction) and device pointers are {@code long}s. The library
 * is located on first use (see {@link NativeLibraryLocator}); {@link #load()} does that explicitly and throws a
 * {@link LibraryNotFoundException} listing every place searched when it is missing. Methods call the versioned
 * symbols cuda.h maps the plain names to (cuMemAlloc is cuMemAlloc_v2, and so on) but report the plain names.
 */
public final class CudaDriver {
    public static final LibrarySpec SPEC = LibrarySpec.driver("CUDA driver", "libcuda.so.1");

    // CUdevice_attribute values this project reads.
    public static final int ATTR_MAX_THREADS_PER_BLOCK = 1;
    public static final int ATTR_WARP_SIZE = 10;
    public static final int ATTR_CLOCK_RATE = 13;
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_GLOBAL_MEMORY_BUS_WIDTH = 37;
    public static final int ATTR_L2_CACHE_SIZE = 38;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    public static final int ATTR_MEMORY_POOLS_SUPPORTED = 115;

    // CUfunction_attribute values.
    public static final int FUNC_ATTR_MAX_THREADS_PER_BLOCK = 0;
    public static final int FUNC_ATTR_SHARED_SIZE_BYTES = 1;
    public static final int FUNC_ATTR_NUM_REGS = 4;
    public static final int FUNC_ATTR_LOCAL_SIZE_BYTES = 3;
    public static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    public static final int STREAM_DEFAULT = 0;
    public static final int STREAM_NON_BLOCKING = 1;
    public static final int EVENT_DEFAULT = 0;
    public static final int EVENT_DISABLE_TIMING = 2;
    public static final int MEMHOSTALLOC_PORTABLE = 1;
    public static final int MEMHOSTALLOC_DEVICEMAP = 2;

    private static final BoundLibrary LIB = new BoundLibrary("CUDA driver", SPEC);

    private CudaDriver() {}

    /** Locates and binds libcuda once; throws (the same exception every time) when that is impossible. */
    public static void load() { LIB.load(H::touch); }

    /** Whether libcuda could be loaded (does not initialise the driver). */
    public static boolean isLoadable() { return LIB.isLoadable(H::touch); }

    /** Where the library was loaded from, or null before {@link #load()} succeeded. */
    public static String location() { return LIB.where(); }

    private static void ready() {
        if (!LIB.isReady()) load();
    }

    /** The downcall handles; initialised only after the library was found. */
    private static final class H {
        static final SymbolLookup L = LIB.lookup();
        static final MethodHandle cuInit = f("cuInit", JAVA_INT);
        static final MethodHandle cuDriverGetVersion = f("cuDriverGetVersion", ADDRESS);
        static final MethodHandle cuGetErrorName = f("cuGetErrorName", JAVA_INT, ADDRESS);
        static final MethodHandle cuGetErrorString = f("cuGetErrorString", JAVA_INT, ADDRESS);
        static final MethodHandle cuDeviceGetCount = f("cuDeviceGetCount", ADDRESS);
        static final MethodHandle cuDeviceGet = f("cuDeviceGet", ADDRESS, JAVA_INT);
        static final MethodHandle cuDeviceGetName = f("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle cuDeviceGetAttribute = f("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle cuDeviceTotalMem = f("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        static final MethodHandle cuDevicePrimaryCtxRetain = f("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        static final MethodHandle cuDevicePrimaryCtxRelease = f("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        static final MethodHandle cuCtxSetCurrent = f("cuCtxSetCurrent", JAVA_LONG);
        static final MethodHandle cuCtxGetCurrent = f("cuCtxGetCurrent", ADDRESS);
        static final MethodHandle cuCtxSynchronize = f("cuCtxSynchronize");
        static final MethodHandle cuDeviceCanAccessPeer = f("cuDeviceCanAccessPeer", ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle cuCtxEnablePeerAccess = f("cuCtxEnablePeerAccess", JAVA_LONG, JAVA_INT);
        static final MethodHandle cuMemGetInfo = f("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        static final MethodHandle cuMemAlloc = f("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        static final MethodHandle cuMemFree = f("cuMemFree_v2", JAVA_LONG);
        static final MethodHandle cuMemAllocAsync = f("cuMemAllocAsync", ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemFreeAsync = f("cuMemFreeAsync", JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemHostAlloc = f("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
        static final MethodHandle cuMemFreeHost = f("cuMemFreeHost", ADDRESS);
        static final MethodHandle cuMemHostGetDevicePointer = f("cuMemHostGetDevicePointer_v2", ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle cuMemcpyHtoD = f("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        static final MethodHandle cuMemcpyDtoH = f("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyDtoD = f("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyHtoDAsync = f("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyDtoHAsync = f("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyDtoDAsync = f("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyPeer = f("cuMemcpyPeer", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemcpyPeerAsync = f("cuMemcpyPeerAsync", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemsetD8 = f("cuMemsetD8_v2", JAVA_LONG, JAVA_BYTE, JAVA_LONG);
        static final MethodHandle cuMemsetD8Async = f("cuMemsetD8Async", JAVA_LONG, JAVA_BYTE, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuMemsetD32Async = f("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuStreamCreate = f("cuStreamCreate", ADDRESS, JAVA_INT);
        static final MethodHandle cuStreamSynchronize = f("cuStreamSynchronize", JAVA_LONG);
        static final MethodHandle cuStreamQuery = f("cuStreamQuery", JAVA_LONG);
        static final MethodHandle cuStreamDestroy = f("cuStreamDestroy_v2", JAVA_LONG);
        static final MethodHandle cuStreamWaitEvent = f("cuStreamWaitEvent", JAVA_LONG, JAVA_LONG, JAVA_INT);
        static final MethodHandle cuEventCreate = f("cuEventCreate", ADDRESS, JAVA_INT);
        static final MethodHandle cuEventRecord = f("cuEventRecord", JAVA_LONG, JAVA_LONG);
        static final MethodHandle cuEventSynchronize = f("cuEventSynchronize", JAVA_LONG);
        static final MethodHandle cuEventQuery = f("cuEventQuery", JAVA_LONG);
        static final MethodHandle cuEventElapsedTime = Native.optionalDowncall(L,
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), "cuEventElapsedTime_v2", "cuEventElapsedTime")
                .orElseThrow(() -> new UnsatisfiedLinkError("CUDA driver: symbol cuEventElapsedTime not found"));
        static final MethodHandle cuEventDestroy = f("cuEventDestroy_v2", JAVA_LONG);
        static final MethodHandle cuModuleLoadData = f("cuModuleLoadData", ADDRESS, ADDRESS);
        static final MethodHandle cuModuleUnload = f("cuModuleUnload", JAVA_LONG);
        static final MethodHandle cuModuleGetFunction = f("cuModuleGetFunction", ADDRESS, JAVA_LONG, ADDRESS);
        static final MethodHandle cuFuncSetAttribute = f("cuFuncSetAttribute", JAVA_LONG, JAVA_INT, JAVA_INT);
        static final MethodHandle cuFuncGetAttribute = f("cuFuncGetAttribute", ADDRESS, JAVA_INT, JAVA_LONG);
        static final MethodHandle cuLaunchKernel = f("cuLaunchKernel", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
        static final MethodHandle cuOccupancyMaxPotentialBlockSize = f("cuOccupancyMaxPotentialBlockSize",
                ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT);
        static final MethodHandle cuOccupancyMaxActiveBlocksPerMultiprocessor = f("cuOccupancyMaxActiveBlocksPerMultiprocessor",
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG);

        /** Absent from drivers older than CUDA 12.0: {@link #hasTensorMaps} says whether it is there. */
        static final java.util.Optional<MethodHandle> cuTensorMapEncodeTiled = Native.optionalDowncall(L,
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), "cuTensorMapEncodeTiled");

        static void touch() {}

        private static MethodHandle f(String symbol, java.lang.foreign.MemoryLayout... args) {
            return Native.downcall(L, "CUDA driver", symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    // ------------------------------------------------------------------ errors

    private static void check(int result, String call) {
        if (result != 0) throw new CudaException(result, errorName(result), call, errorString(result));
    }

    /** The name the driver gives a CUresult, falling back to the built-in table. */
    public static String errorName(int code) {
        if (LIB.isReady()) {
            try {
                MemorySegment out = Native.scratch(8);
                int r = (int) H.cuGetErrorName.invokeExact(code, out);
                if (r == 0) {
                    String s = Native.cString(out.get(ADDRESS, 0));
                    if (s != null) return s;
                }
            } catch (Throwable t) {
                // fall through to the table
            }
        }
        return CudaErrors.name(code);
    }

    /** The driver's description of a CUresult, or null. */
    public static String errorString(int code) {
        if (!LIB.isReady()) return null;
        try {
            MemorySegment out = Native.scratch(8);
            int r = (int) H.cuGetErrorString.invokeExact(code, out);
            return r == 0 ? Native.cString(out.get(ADDRESS, 0)) : null;
        } catch (Throwable t) {
            return null;
        }
    }

    // ------------------------------------------------------------------ init and devices

    public static void cuInit(int flags) {
        ready();
        int r;
        try { r = (int) H.cuInit.invokeExact(flags); } catch (Throwable t) { throw Native.rethrow("cuInit", t); }
        check(r, "cuInit");
    }

    public static int cuDriverGetVersion() {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuDriverGetVersion.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("cuDriverGetVersion", t); }
        check(r, "cuDriverGetVersion");
        return out.get(JAVA_INT, 0);
    }

    public static int cuDeviceGetCount() {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuDeviceGetCount.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("cuDeviceGetCount", t); }
        check(r, "cuDeviceGetCount");
        return out.get(JAVA_INT, 0);
    }

    /** The CUdevice for an ordinal. */
    public static int cuDeviceGet(int ordinal) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuDeviceGet.invokeExact(out, ordinal); } catch (Throwable t) { throw Native.rethrow("cuDeviceGet", t); }
        check(r, "cuDeviceGet");
        return out.get(JAVA_INT, 0);
    }

    public static String cuDeviceGetName(int device) {
        ready();
        MemorySegment out = Native.scratch(256);
        int r;
        try { r = (int) H.cuDeviceGetName.invokeExact(out, 256, device); } catch (Throwable t) { throw Native.rethrow("cuDeviceGetName", t); }
        check(r, "cuDeviceGetName");
        return out.getString(0);
    }

    public static int cuDeviceGetAttribute(int attribute, int device) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuDeviceGetAttribute.invokeExact(out, attribute, device); } catch (Throwable t) { throw Native.rethrow("cuDeviceGetAttribute", t); }
        check(r, "cuDeviceGetAttribute");
        return out.get(JAVA_INT, 0);
    }

    public static long cuDeviceTotalMem(int device) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuDeviceTotalMem.invokeExact(out, device); } catch (Throwable t) { throw Native.rethrow("cuDeviceTotalMem", t); }
        check(r, "cuDeviceTotalMem");
        return out.get(JAVA_LONG, 0);
    }

    /** Retains the device's primary context (the one the runtime API and cuBLAS use too). */
    public static long cuDevicePrimaryCtxRetain(int device) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuDevicePrimaryCtxRetain.invokeExact(out, device); } catch (Throwable t) { throw Native.rethrow("cuDevicePrimaryCtxRetain", t); }
        check(r, "cuDevicePrimaryCtxRetain");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuDevicePrimaryCtxRelease(int device) {
        ready();
        int r;
        try { r = (int) H.cuDevicePrimaryCtxRelease.invokeExact(device); } catch (Throwable t) { throw Native.rethrow("cuDevicePrimaryCtxRelease", t); }
        check(r, "cuDevicePrimaryCtxRelease");
    }

    public static void cuCtxSetCurrent(long ctx) {
        ready();
        int r;
        try { r = (int) H.cuCtxSetCurrent.invokeExact(ctx); } catch (Throwable t) { throw Native.rethrow("cuCtxSetCurrent", t); }
        check(r, "cuCtxSetCurrent");
    }

    public static long cuCtxGetCurrent() {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuCtxGetCurrent.invokeExact(out); } catch (Throwable t) { throw Native.rethrow("cuCtxGetCurrent", t); }
        check(r, "cuCtxGetCurrent");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuCtxSynchronize() {
        ready();
        int r;
        try { r = (int) H.cuCtxSynchronize.invokeExact(); } catch (Throwable t) { throw Native.rethrow("cuCtxSynchronize", t); }
        check(r, "cuCtxSynchronize");
    }

    /** Whether contexts on device can access memory allocated on peerDevice (both CUdevice handles). */
    public static boolean cuDeviceCanAccessPeer(int device, int peerDevice) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuDeviceCanAccessPeer.invokeExact(out, device, peerDevice); } catch (Throwable t) { throw Native.rethrow("cuDeviceCanAccessPeer", t); }
        check(r, "cuDeviceCanAccessPeer");
        return out.get(JAVA_INT, 0) != 0;
    }

    /**
     * Lets the current context access peerContext's memory (one direction; flags must be 0). Returns true when this
     * call enabled it and false when it was already enabled (CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED is not a failure:
     * the state asked for holds); every other error throws.
     */
    public static boolean cuCtxEnablePeerAccess(long peerContext, int flags) {
        ready();
        int r;
        try { r = (int) H.cuCtxEnablePeerAccess.invokeExact(peerContext, flags); } catch (Throwable t) { throw Native.rethrow("cuCtxEnablePeerAccess", t); }
        if (r == CudaErrors.PEER_ACCESS_ALREADY_ENABLED) return false;
        check(r, "cuCtxEnablePeerAccess");
        return true;
    }

    /** {free, total} bytes of the current context's device. */
    public static long[] cuMemGetInfo() {
        ready();
        MemorySegment out = Native.scratch(16);
        int r;
        try { r = (int) H.cuMemGetInfo.invokeExact(out, out.asSlice(8)); } catch (Throwable t) { throw Native.rethrow("cuMemGetInfo", t); }
        check(r, "cuMemGetInfo");
        return new long[] {out.get(JAVA_LONG, 0), out.get(JAVA_LONG, 8)};
    }

    // ------------------------------------------------------------------ memory

    public static long cuMemAlloc(long bytes) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuMemAlloc.invokeExact(out, bytes); } catch (Throwable t) { throw Native.rethrow("cuMemAlloc", t); }
        check(r, "cuMemAlloc");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuMemFree(long dptr) {
        ready();
        int r;
        try { r = (int) H.cuMemFree.invokeExact(dptr); } catch (Throwable t) { throw Native.rethrow("cuMemFree", t); }
        check(r, "cuMemFree");
    }

    public static long cuMemAllocAsync(long bytes, long stream) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuMemAllocAsync.invokeExact(out, bytes, stream); } catch (Throwable t) { throw Native.rethrow("cuMemAllocAsync", t); }
        check(r, "cuMemAllocAsync");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuMemFreeAsync(long dptr, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemFreeAsync.invokeExact(dptr, stream); } catch (Throwable t) { throw Native.rethrow("cuMemFreeAsync", t); }
        check(r, "cuMemFreeAsync");
    }

    /** Page-locked host memory of the given size, as a segment of that size. */
    public static MemorySegment cuMemHostAlloc(long bytes, int flags) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuMemHostAlloc.invokeExact(out, bytes, flags); } catch (Throwable t) { throw Native.rethrow("cuMemHostAlloc", t); }
        check(r, "cuMemHostAlloc");
        return out.get(ADDRESS, 0).reinterpret(bytes);
    }

    public static void cuMemFreeHost(MemorySegment p) {
        ready();
        int r;
        try { r = (int) H.cuMemFreeHost.invokeExact(p); } catch (Throwable t) { throw Native.rethrow("cuMemFreeHost", t); }
        check(r, "cuMemFreeHost");
    }

    /** The device address of mapped page-locked host memory (the host address itself under unified addressing). */
    public static long cuMemHostGetDevicePointer(MemorySegment hostPointer) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuMemHostGetDevicePointer.invokeExact(out, hostPointer, 0); } catch (Throwable t) { throw Native.rethrow("cuMemHostGetDevicePointer", t); }
        check(r, "cuMemHostGetDevicePointer");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuMemcpyHtoD(long dst, MemorySegment src, long bytes) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyHtoD.invokeExact(dst, src, bytes); } catch (Throwable t) { throw Native.rethrow("cuMemcpyHtoD", t); }
        check(r, "cuMemcpyHtoD");
    }

    public static void cuMemcpyDtoH(MemorySegment dst, long src, long bytes) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyDtoH.invokeExact(dst, src, bytes); } catch (Throwable t) { throw Native.rethrow("cuMemcpyDtoH", t); }
        check(r, "cuMemcpyDtoH");
    }

    public static void cuMemcpyDtoD(long dst, long src, long bytes) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyDtoD.invokeExact(dst, src, bytes); } catch (Throwable t) { throw Native.rethrow("cuMemcpyDtoD", t); }
        check(r, "cuMemcpyDtoD");
    }

    public static void cuMemcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream); } catch (Throwable t) { throw Native.rethrow("cuMemcpyHtoDAsync", t); }
        check(r, "cuMemcpyHtoDAsync");
    }

    public static void cuMemcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream); } catch (Throwable t) { throw Native.rethrow("cuMemcpyDtoHAsync", t); }
        check(r, "cuMemcpyDtoHAsync");
    }

    public static void cuMemcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream); } catch (Throwable t) { throw Native.rethrow("cuMemcpyDtoDAsync", t); }
        check(r, "cuMemcpyDtoDAsync");
    }

    public static void cuMemcpyPeer(long dst, long dstCtx, long src, long srcCtx, long bytes) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyPeer.invokeExact(dst, dstCtx, src, srcCtx, bytes); } catch (Throwable t) { throw Native.rethrow("cuMemcpyPeer", t); }
        check(r, "cuMemcpyPeer");
    }

    public static void cuMemcpyPeerAsync(long dst, long dstCtx, long src, long srcCtx, long bytes, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemcpyPeerAsync.invokeExact(dst, dstCtx, src, srcCtx, bytes, stream); } catch (Throwable t) { throw Native.rethrow("cuMemcpyPeerAsync", t); }
        check(r, "cuMemcpyPeerAsync");
    }

    public static void cuMemsetD8(long dst, byte value, long count) {
        ready();
        int r;
        try { r = (int) H.cuMemsetD8.invokeExact(dst, value, count); } catch (Throwable t) { throw Native.rethrow("cuMemsetD8", t); }
        check(r, "cuMemsetD8");
    }

    public static void cuMemsetD8Async(long dst, byte value, long count, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemsetD8Async.invokeExact(dst, value, count, stream); } catch (Throwable t) { throw Native.rethrow("cuMemsetD8Async", t); }
        check(r, "cuMemsetD8Async");
    }

    /** Sets {@code count} 32-bit words (dst 4-byte aligned). */
    public static void cuMemsetD32Async(long dst, int value, long count, long stream) {
        ready();
        int r;
        try { r = (int) H.cuMemsetD32Async.invokeExact(dst, value, count, stream); } catch (Throwable t) { throw Native.rethrow("cuMemsetD32Async", t); }
        check(r, "cuMemsetD32Async");
    }

    // ------------------------------------------------------------------ streams and events

    public static long cuStreamCreate(int flags) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuStreamCreate.invokeExact(out, flags); } catch (Throwable t) { throw Native.rethrow("cuStreamCreate", t); }
        check(r, "cuStreamCreate");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuStreamSynchronize(long stream) {
        ready();
        int r;
        try { r = (int) H.cuStreamSynchronize.invokeExact(stream); } catch (Throwable t) { throw Native.rethrow("cuStreamSynchronize", t); }
        check(r, "cuStreamSynchronize");
    }

    /** True when all work on the stream has completed. */
    public static boolean cuStreamQuery(long stream) {
        ready();
        int r;
        try { r = (int) H.cuStreamQuery.invokeExact(stream); } catch (Throwable t) { throw Native.rethrow("cuStreamQuery", t); }
        if (r == CudaErrors.NOT_READY) return false;
        check(r, "cuStreamQuery");
        return true;
    }

    public static void cuStreamDestroy(long stream) {
        ready();
        int r;
        try { r = (int) H.cuStreamDestroy.invokeExact(stream); } catch (Throwable t) { throw Native.rethrow("cuStreamDestroy", t); }
        check(r, "cuStreamDestroy");
    }

    public static void cuStreamWaitEvent(long stream, long event, int flags) {
        ready();
        int r;
        try { r = (int) H.cuStreamWaitEvent.invokeExact(stream, event, flags); } catch (Throwable t) { throw Native.rethrow("cuStreamWaitEvent", t); }
        check(r, "cuStreamWaitEvent");
    }

    public static long cuEventCreate(int flags) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) H.cuEventCreate.invokeExact(out, flags); } catch (Throwable t) { throw Native.rethrow("cuEventCreate", t); }
        check(r, "cuEventCreate");
        return out.get(JAVA_LONG, 0);
    }

    public static void cuEventRecord(long event, long stream) {
        ready();
        int r;
        try { r = (int) H.cuEventRecord.invokeExact(event, stream); } catch (Throwable t) { throw Native.rethrow("cuEventRecord", t); }
        check(r, "cuEventRecord");
    }

    public static void cuEventSynchronize(long event) {
        ready();
        int r;
        try { r = (int) H.cuEventSynchronize.invokeExact(event); } catch (Throwable t) { throw Native.rethrow("cuEventSynchronize", t); }
        check(r, "cuEventSynchronize");
    }

    /** True when the work the event captured has completed. */
    public static boolean cuEventQuery(long event) {
        ready();
        int r;
        try { r = (int) H.cuEventQuery.invokeExact(event); } catch (Throwable t) { throw Native.rethrow("cuEventQuery", t); }
        if (r == CudaErrors.NOT_READY) return false;
        check(r, "cuEventQuery");
        return true;
    }

    /** Milliseconds between two recorded (and completed) events. */
    public static float cuEventElapsedTime(long start, long end) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuEventElapsedTime.invokeExact(out, start, end); } catch (Throwable t) { throw Native.rethrow("cuEventElapsedTime", t); }
        check(r, "cuEventElapsedTime");
        return out.get(JAVA_FLOAT, 0);
    }

    public static void cuEventDestroy(long event) {
        ready();
        int r;
        try { r = (int) H.cuEventDestroy.invokeExact(event); } catch (Throwable t) { throw Native.rethrow("cuEventDestroy", t); }
        check(r, "cuEventDestroy");
    }

    // ------------------------------------------------------------------ modules and launches

    /** Loads a module from an in-memory image (fatbin, cubin or NUL-terminated PTX). */
    public static long cuModuleLoadData(byte[] image) {
        ready();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment img = a.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, img, JAVA_BYTE, 0, image.length);
            MemorySegment out = Native.scratch(8);
            int r;
            try { r = (int) H.cuModuleLoadData.invokeExact(out, img); } catch (Throwable t) { throw Native.rethrow("cuModuleLoadData", t); }
            check(r, "cuModuleLoadData");
            return out.get(JAVA_LONG, 0);
        }
    }

    public static void cuModuleUnload(long module) {
        ready();
        int r;
        try { r = (int) H.cuModuleUnload.invokeExact(module); } catch (Throwable t) { throw Native.rethrow("cuModuleUnload", t); }
        check(r, "cuModuleUnload");
    }

    public static long cuModuleGetFunction(long module, String name) {
        ready();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cname = a.allocateFrom(name);
            MemorySegment out = Native.scratch(8);
            int r;
            try { r = (int) H.cuModuleGetFunction.invokeExact(out, module, cname); } catch (Throwable t) { throw Native.rethrow("cuModuleGetFunction", t); }
            if (r != 0) throw new CudaException(r, errorName(r), "cuModuleGetFunction(" + name + ")", errorString(r));
            return out.get(JAVA_LONG, 0);
        }
    }

    public static void cuFuncSetAttribute(long function, int attribute, int value) {
        ready();
        int r;
        try { r = (int) H.cuFuncSetAttribute.invokeExact(function, attribute, value); } catch (Throwable t) { throw Native.rethrow("cuFuncSetAttribute", t); }
        check(r, "cuFuncSetAttribute");
    }

    public static int cuFuncGetAttribute(int attribute, long function) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try { r = (int) H.cuFuncGetAttribute.invokeExact(out, attribute, function); } catch (Throwable t) { throw Native.rethrow("cuFuncGetAttribute", t); }
        check(r, "cuFuncGetAttribute");
        return out.get(JAVA_INT, 0);
    }

    /**
     * Launches a kernel. {@code params} is the kernel's void** argument array (one pointer per parameter, each
     * pointing at the parameter's value); the driver copies the values before returning.
     */
    public static void cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                                      int sharedMemBytes, long stream, MemorySegment params) {
        ready();
        int r;
        try {
            r = (int) H.cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes,
                    stream, params, MemorySegment.NULL);
        } catch (Throwable t) {
            throw Native.rethrow("cuLaunchKernel", t);
        }
        check(r, "cuLaunchKernel");
    }

    /** {minGridSize, blockSize} that maximise occupancy for a kernel with fixed dynamic shared memory. */
    public static int[] cuOccupancyMaxPotentialBlockSize(long function, long dynamicSmemBytes, int blockSizeLimit) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try {
            r = (int) H.cuOccupancyMaxPotentialBlockSize.invokeExact(out, out.asSlice(4), function, MemorySegment.NULL,
                    dynamicSmemBytes, blockSizeLimit);
        } catch (Throwable t) {
            throw Native.rethrow("cuOccupancyMaxPotentialBlockSize", t);
        }
        check(r, "cuOccupancyMaxPotentialBlockSize");
        return new int[] {out.get(JAVA_INT, 0), out.get(JAVA_INT, 4)};
    }

    public static int cuOccupancyMaxActiveBlocksPerMultiprocessor(long function, int blockSize, long dynamicSmemBytes) {
        ready();
        MemorySegment out = Native.scratch(4);
        int r;
        try {
            r = (int) H.cuOccupancyMaxActiveBlocksPerMultiprocessor.invokeExact(out, function, blockSize, dynamicSmemBytes);
        } catch (Throwable t) {
            throw Native.rethrow("cuOccupancyMaxActiveBlocksPerMultiprocessor", t);
        }
        check(r, "cuOccupancyMaxActiveBlocksPerMultiprocessor");
        return out.get(JAVA_INT, 0);
    }

    // ------------------------------------------------------------------ tensor maps (Hopper's copy engine)

    /** CUtensorMap: 128 bytes, 64-byte aligned. */
    public static final int TENSOR_MAP_BYTES = 128, TENSOR_MAP_ALIGN = 64;
    public static final int TENSOR_MAP_DATA_TYPE_FLOAT16 = 6, TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9;
    public static final int TENSOR_MAP_INTERLEAVE_NONE = 0;
    public static final int TENSOR_MAP_SWIZZLE_128B = 3;
    public static final int TENSOR_MAP_L2_PROMOTION_256B = 3;
    public static final int TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0;

    /** Whether this driver can encode tensor maps (CUDA 12.0 or newer). */
    public static boolean hasTensorMaps() {
        ready();
        return H.cuTensorMapEncodeTiled.isPresent();
    }

    /**
     * Encodes into map (TENSOR_MAP_BYTES, TENSOR_MAP_ALIGN-aligned) a tiled view of the device memory at
     * globalAddress: dims[i] elements along dim i (dim 0 innermost), byteStrides[i] bytes between steps of dim i + 1,
     * boxes of box[i] elements, every element (element strides 1).
     */
    public static void cuTensorMapEncodeTiled(MemorySegment map, int dataType, long globalAddress, long[] dims, long[] byteStrides,
                                              int[] box, int interleave, int swizzle, int l2Promotion, int oobFill) {
        ready();
        int rank = dims.length;
        if (byteStrides.length != rank - 1 || box.length != rank) {
            throw new IllegalArgumentException("cuTensorMapEncodeTiled: rank " + rank + " needs " + (rank - 1) + " strides and " + rank
                    + " box sizes, got " + byteStrides.length + " and " + box.length);
        }
        MethodHandle h = H.cuTensorMapEncodeTiled.orElseThrow(() ->
                new UnsupportedOperationException("cuTensorMapEncodeTiled: this CUDA driver has no tensor maps (CUDA 12.0 or newer needed)"));
        int r;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocateFrom(JAVA_LONG, dims);
            MemorySegment st = arena.allocateFrom(JAVA_LONG, byteStrides.length == 0 ? new long[1] : byteStrides);
            MemorySegment b = arena.allocateFrom(JAVA_INT, box), es = arena.allocate(JAVA_INT, rank);
            for (int i = 0; i < rank; i++) es.setAtIndex(JAVA_INT, i, 1);
            r = (int) h.invokeExact(map, dataType, rank, globalAddress, d, st, b, es, interleave, swizzle, l2Promotion, oobFill);
        } catch (Throwable t) {
            throw Native.rethrow("cuTensorMapEncodeTiled", t);
        }
        check(r, "cuTensorMapEncodeTiled");
    }
}
