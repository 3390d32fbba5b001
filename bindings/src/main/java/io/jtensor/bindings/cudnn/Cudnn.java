package io.jtensor.bindings.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jtensor.bindings.BoundLibrary;
import io.jtensor.bindings.LibrarySpec;
import io.jtensor.bindings.Native;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * cuDNN 9 (libcudnn.so.9), the legacy convolution API only: handles, 4-D tensor / filter / convolution descriptors,
 * the heuristic algorithm queries (the {@code _v7} calls, which rank algorithms without running them), workspace
 * sizes, and the three convolution calls. Statuses other than success become {@link CudnnException}s naming the
 * status and the call.
 *
 * <p>Handles, descriptors and device pointers cross as {@code long}, like the other bindings. libcudnn.so.9 is a
 * small dispatcher that opens its sub-libraries (graph, ops, cnn, heuristic, engines) by soname on demand. They are
 * loaded first, from the same directory, as companions: a later dlopen by soname then finds them already resident,
 * so a wheel directory that is not on the loader path still works. A companion that does not load (the
 * runtime-compiled engines need NVRTC) is only noted; cuDNN reports it if a call ever needs it.
 */
public final class Cudnn {
    public static final LibrarySpec SPEC = new LibrarySpec("cuDNN", List.of("libcudnn.so"),
            List.of("libcudnn.so.9", "libcudnn.so"), false,
            List.of("libcudnn_graph.so", "libcudnn_ops.so", "libcudnn_cnn.so", "libcudnn_heuristic.so",
                    "libcudnn_engines_precompiled.so", "libcudnn_engines_runtime_compiled.so"));

    // cudnnDataType_t
    public static final int DATA_FLOAT = 0;
    public static final int DATA_DOUBLE = 1;
    public static final int DATA_HALF = 2;
    public static final int DATA_BFLOAT16 = 9;
    // cudnnTensorFormat_t
    public static final int TENSOR_NCHW = 0;
    public static final int TENSOR_NHWC = 1;
    // cudnnConvolutionMode_t: CROSS_CORRELATION is what deep-learning frameworks call convolution (no kernel flip).
    public static final int CONVOLUTION = 0;
    public static final int CROSS_CORRELATION = 1;
    // cudnnMathType_t
    public static final int DEFAULT_MATH = 0;
    public static final int TENSOR_OP_MATH = 1;
    public static final int TENSOR_OP_MATH_ALLOW_CONVERSION = 2;
    /** FMA instructions only: no tensor cores, so no TF32 for F32 data. */
    public static final int FMA_MATH = 3;
    // Number of algorithms of each kind (CUDNN_CONVOLUTION_*_ALGO_COUNT): how many perf results to ask for.
    public static final int FWD_ALGO_COUNT = 8;
    public static final int BWD_DATA_ALGO_COUNT = 6;
    public static final int BWD_FILTER_ALGO_COUNT = 7;

    public static final int STATUS_SUCCESS = 0;
    public static final int STATUS_BAD_PARAM = 2000;
    public static final int STATUS_NOT_SUPPORTED = 3000;

    /**
     * cuDNN 9's statuses: 0 success, then categories by thousands (1xxx initialisation and versions, 2xxx bad
     * parameter, 3xxx not supported, 4xxx internal error, 5xxx execution failed), each with finer sub-codes.
     */
    private static final Map<Integer, String> STATUS = Map.ofEntries(
            Map.entry(0, "CUDNN_STATUS_SUCCESS"),
            Map.entry(1001, "CUDNN_STATUS_NOT_INITIALIZED"), Map.entry(1002, "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH"),
            Map.entry(1003, "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH"), Map.entry(1004, "CUDNN_STATUS_DEPRECATED"),
            Map.entry(1005, "CUDNN_STATUS_LICENSE_ERROR"), Map.entry(1006, "CUDNN_STATUS_RUNTIME_IN_PROGRESS"),
            Map.entry(1007, "CUDNN_STATUS_RUNTIME_FP_OVERFLOW"), Map.entry(1008, "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED"),
            Map.entry(2000, "CUDNN_STATUS_BAD_PARAM"), Map.entry(2001, "CUDNN_STATUS_INVALID_VALUE"),
            Map.entry(2002, "CUDNN_STATUS_BAD_PARAM_NULL_POINTER"), Map.entry(2003, "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER"),
            Map.entry(2004, "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED"), Map.entry(2005, "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND"),
            Map.entry(2006, "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT"), Map.entry(2007, "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH"),
            Map.entry(2008, "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH"), Map.entry(2009, "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES"),
            Map.entry(2010, "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE"), Map.entry(2011, "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH"),
            Map.entry(2012, "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE"),
            Map.entry(3000, "CUDNN_STATUS_NOT_SUPPORTED"), Map.entry(3001, "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN"),
            Map.entry(3002, "CUDNN_STATUS_NOT_SUPPORTED_SHAPE"), Map.entry(3003, "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE"),
            Map.entry(3004, "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT"), Map.entry(3005, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER"),
            Map.entry(3006, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART"), Map.entry(3007, "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH"),
            Map.entry(3008, "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING"),
            Map.entry(3009, "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE"),
            Map.entry(3010, "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT"),
            Map.entry(3011, "CUDNN_STATUS_NOT_SUPPORTED_PADDING"), Map.entry(3012, "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM"),
            Map.entry(3013, "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API"),
            Map.entry(4000, "CUDNN_STATUS_INTERNAL_ERROR"), Map.entry(4001, "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED"),
            Map.entry(4002, "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE"),
            Map.entry(4003, "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED"),
            Map.entry(4004, "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED"),
            Map.entry(4005, "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM"),
            Map.entry(4006, "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED"),
            Map.entry(5000, "CUDNN_STATUS_EXECUTION_FAILED"), Map.entry(5001, "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER"),
            Map.entry(5002, "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS"), Map.entry(5003, "CUDNN_STATUS_EXECUTION_FAILED_CUDART"),
            Map.entry(5004, "CUDNN_STATUS_EXECUTION_FAILED_CURAND"));

    private static final String[] CATEGORY = {"SUCCESS", "INITIALIZATION", "BAD_PARAM", "NOT_SUPPORTED", "INTERNAL_ERROR", "EXECUTION_FAILED"};

    private static final BoundLibrary LIB = new BoundLibrary("cuDNN", SPEC);

    private Cudnn() {}

    /**
     * The status's name, e.g. CUDNN_STATUS_BAD_PARAM. A code this table does not know (a newer cuDNN's sub-code)
     * still names its category: CUDNN_STATUS_UNRECOGNIZED(2099, BAD_PARAM).
     */
    public static String statusName(int status) {
        String s = STATUS.get(status);
        if (s != null) return s;
        int category = status / 1000;
        String what = status > 0 && category < CATEGORY.length ? ", " + CATEGORY[category] : "";
        return "CUDNN_STATUS_UNRECOGNIZED(" + status + what + ")";
    }

    public static void load() { LIB.load(H::touch); }

    public static boolean isLoadable() { return LIB.isLoadable(H::touch); }

    /** Why cuDNN cannot be used (the locator's report), or null when it loads. */
    public static String unavailableReason() {
        try {
            load();
            return null;
        } catch (RuntimeException e) {
            return e.getMessage();
        }
    }

    public static String location() { return LIB.where(); }

    private static void ready() {
        if (!LIB.isReady()) load();
    }

    private static final class H {
        static final SymbolLookup L = LIB.lookup();
        static final MethodHandle getVersion = Native.downcall(L, "cuDNN", "cudnnGetVersion", FunctionDescriptor.of(JAVA_LONG));
        static final MethodHandle getErrorString = Native.downcall(L, "cuDNN", "cudnnGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        /** cudnnGetLastErrorString (cuDNN 9): the message behind the last failure on this thread. */
        static final Optional<MethodHandle> getLastErrorString = Native.optionalDowncall(L,
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG), "cudnnGetLastErrorString");
        static final MethodHandle create = f("cudnnCreate", ADDRESS);
        static final MethodHandle destroy = f("cudnnDestroy", JAVA_LONG);
        static final MethodHandle setStream = f("cudnnSetStream", JAVA_LONG, JAVA_LONG);
        static final MethodHandle createTensor = f("cudnnCreateTensorDescriptor", ADDRESS);
        static final MethodHandle setTensor4d = f("cudnnSetTensor4dDescriptor", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle destroyTensor = f("cudnnDestroyTensorDescriptor", JAVA_LONG);
        static final MethodHandle createFilter = f("cudnnCreateFilterDescriptor", ADDRESS);
        static final MethodHandle setFilter4d = f("cudnnSetFilter4dDescriptor", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle destroyFilter = f("cudnnDestroyFilterDescriptor", JAVA_LONG);
        static final MethodHandle createConv = f("cudnnCreateConvolutionDescriptor", ADDRESS);
        static final MethodHandle setConv2d = f("cudnnSetConvolution2dDescriptor", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        static final MethodHandle setGroupCount = f("cudnnSetConvolutionGroupCount", JAVA_LONG, JAVA_INT);
        static final MethodHandle setMathType = f("cudnnSetConvolutionMathType", JAVA_LONG, JAVA_INT);
        static final MethodHandle destroyConv = f("cudnnDestroyConvolutionDescriptor", JAVA_LONG);
        static final MethodHandle outputDim = f("cudnnGetConvolution2dForwardOutputDim", JAVA_LONG, JAVA_LONG, JAVA_LONG,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        // (handle, three descriptors, conv descriptor in the call's own order, requested count, int* returned, perf*)
        static final MethodHandle fwdAlgo = f("cudnnGetConvolutionForwardAlgorithm_v7", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle bwdDataAlgo = f("cudnnGetConvolutionBackwardDataAlgorithm_v7", JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle bwdFilterAlgo = f("cudnnGetConvolutionBackwardFilterAlgorithm_v7", JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        static final MethodHandle fwdWorkspace = f("cudnnGetConvolutionForwardWorkspaceSize", JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS);
        static final MethodHandle bwdDataWorkspace = f("cudnnGetConvolutionBackwardDataWorkspaceSize", JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS);
        static final MethodHandle bwdFilterWorkspace = f("cudnnGetConvolutionBackwardFilterWorkspaceSize", JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS);
        // (handle, alpha*, desc, ptr, desc, ptr, conv, algo, workspace, workspace bytes, beta*, out desc, out ptr)
        static final MethodHandle forward = f("cudnnConvolutionForward", JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle backwardData = f("cudnnConvolutionBackwardData", JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
        static final MethodHandle backwardFilter = f("cudnnConvolutionBackwardFilter", JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG,
                JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);

        static void touch() {}

        private static MethodHandle f(String symbol, MemoryLayout... args) {
            return Native.downcall(L, "cuDNN", symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    private static void check(int status, String call) {
        if (status != STATUS_SUCCESS) throw new CudnnException(status, call, detail(status));
    }

    /** cuDNN's own words for a failure: its last error message when it has one, else its status string. */
    private static String detail(int status) {
        try {
            if (H.getLastErrorString.isPresent()) {
                MemorySegment buf = Native.scratch(512);
                H.getLastErrorString.get().invokeExact(buf, 512L);
                String s = buf.getString(0);
                if (s != null && !s.isBlank()) return s.strip();
            }
            return errorString(status);
        } catch (Throwable t) {
            return null;
        }
    }

    /** cudnnGetVersion: e.g. 90100 for 9.1.0. */
    public static long version() {
        ready();
        try { return (long) H.getVersion.invokeExact(); } catch (Throwable t) { throw Native.rethrow("cudnnGetVersion", t); }
    }

    /** cuDNN's description of a status. */
    public static String errorString(int status) {
        ready();
        try {
            return Native.cString((MemorySegment) H.getErrorString.invokeExact(status));
        } catch (Throwable t) {
            throw Native.rethrow("cudnnGetErrorString", t);
        }
    }

    private static long outHandle(MethodHandle h, String call) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try { r = (int) h.invokeExact(out); } catch (Throwable t) { throw Native.rethrow(call, t); }
        check(r, call);
        return out.get(JAVA_LONG, 0);
    }

    private static void onHandle(MethodHandle h, long handle, String call) {
        ready();
        int r;
        try { r = (int) h.invokeExact(handle); } catch (Throwable t) { throw Native.rethrow(call, t); }
        check(r, call);
    }

    private static void onHandleInt(MethodHandle h, long handle, int value, String call) {
        ready();
        int r;
        try { r = (int) h.invokeExact(handle, value); } catch (Throwable t) { throw Native.rethrow(call, t); }
        check(r, call);
    }

    /** A cuDNN handle for the GPU of the calling thread's current CUDA context. */
    public static long create() { ready(); return outHandle(H.create, "cudnnCreate"); }

    public static void destroy(long handle) { ready(); onHandle(H.destroy, handle, "cudnnDestroy"); }

    public static void setStream(long handle, long stream) {
        ready();
        int r;
        try { r = (int) H.setStream.invokeExact(handle, stream); } catch (Throwable t) { throw Native.rethrow("cudnnSetStream", t); }
        check(r, "cudnnSetStream");
    }

    public static long createTensorDescriptor() { ready(); return outHandle(H.createTensor, "cudnnCreateTensorDescriptor"); }

    public static void destroyTensorDescriptor(long desc) { ready(); onHandle(H.destroyTensor, desc, "cudnnDestroyTensorDescriptor"); }

    /** A packed 4-D tensor of n x c x h x w elements in format (TENSOR_NCHW, ...). */
    public static void setTensor4dDescriptor(long desc, int format, int dataType, int n, int c, int h, int w) {
        ready();
        int r;
        try {
            r = (int) H.setTensor4d.invokeExact(desc, format, dataType, n, c, h, w);
        } catch (Throwable t) {
            throw Native.rethrow("cudnnSetTensor4dDescriptor", t);
        }
        check(r, "cudnnSetTensor4dDescriptor");
    }

    public static long createFilterDescriptor() { ready(); return outHandle(H.createFilter, "cudnnCreateFilterDescriptor"); }

    public static void destroyFilterDescriptor(long desc) { ready(); onHandle(H.destroyFilter, desc, "cudnnDestroyFilterDescriptor"); }

    /** k output channels, c input channels per group, h x w kernel. Note the order: data type before format. */
    public static void setFilter4dDescriptor(long desc, int dataType, int format, int k, int c, int h, int w) {
        ready();
        int r;
        try {
            r = (int) H.setFilter4d.invokeExact(desc, dataType, format, k, c, h, w);
        } catch (Throwable t) {
            throw Native.rethrow("cudnnSetFilter4dDescriptor", t);
        }
        check(r, "cudnnSetFilter4dDescriptor");
    }

    public static long createConvolutionDescriptor() { ready(); return outHandle(H.createConv, "cudnnCreateConvolutionDescriptor"); }

    public static void destroyConvolutionDescriptor(long desc) { ready(); onHandle(H.destroyConv, desc, "cudnnDestroyConvolutionDescriptor"); }

    /** Padding, strides, dilations; mode CROSS_CORRELATION or CONVOLUTION; computeType the accumulation type. */
    public static void setConvolution2dDescriptor(long desc, int padH, int padW, int strideH, int strideW, int dilationH,
                                                  int dilationW, int mode, int computeType) {
        ready();
        int r;
        try {
            r = (int) H.setConv2d.invokeExact(desc, padH, padW, strideH, strideW, dilationH, dilationW, mode, computeType);
        } catch (Throwable t) {
            throw Native.rethrow("cudnnSetConvolution2dDescriptor", t);
        }
        check(r, "cudnnSetConvolution2dDescriptor");
    }

    public static void setConvolutionGroupCount(long desc, int groups) {
        ready();
        onHandleInt(H.setGroupCount, desc, groups, "cudnnSetConvolutionGroupCount");
    }

    public static void setConvolutionMathType(long desc, int mathType) {
        ready();
        onHandleInt(H.setMathType, desc, mathType, "cudnnSetConvolutionMathType");
    }

    /** The forward output's {n, c, h, w} for these descriptors. */
    public static int[] convolution2dForwardOutputDim(long convDesc, long xDesc, long wDesc) {
        ready();
        MemorySegment out = Native.scratch(16);
        int r;
        try {
            r = (int) H.outputDim.invokeExact(convDesc, xDesc, wDesc, out, out.asSlice(4), out.asSlice(8), out.asSlice(12));
        } catch (Throwable t) {
            throw Native.rethrow("cudnnGetConvolution2dForwardOutputDim", t);
        }
        check(r, "cudnnGetConvolution2dForwardOutputDim");
        return out.toArray(JAVA_INT);
    }

    /**
     * One ranked algorithm from a heuristic query (cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, all three the
     * same layout): the algorithm, whether it can run (a status), its estimated time in ms (-1 from the heuristics),
     * its workspace in bytes, whether it is deterministic (1) and the math type it wants.
     */
    public record AlgoPerf(int algo, int status, float timeMs, long workspaceBytes, int determinism, int mathType) {}

    /** The C struct: int algo, int status, float time, (4 bytes padding), size_t memory, int determinism, int mathType, int reserved[3]. */
    static final int PERF_BYTES = 48;

    static AlgoPerf[] readPerf(MemorySegment perf, int count) {
        AlgoPerf[] out = new AlgoPerf[count];
        for (int i = 0; i < count; i++) {
            long o = (long) i * PERF_BYTES;
            out[i] = new AlgoPerf(perf.get(JAVA_INT, o), perf.get(JAVA_INT, o + 4), perf.get(JAVA_FLOAT, o + 8),
                    perf.get(JAVA_LONG, o + 16), perf.get(JAVA_INT, o + 24), perf.get(JAVA_INT, o + 28));
        }
        return out;
    }

    private static AlgoPerf[] algorithms(MethodHandle h, String call, long handle, long d1, long d2, long conv, long d3, int requested) {
        ready();
        MemorySegment buf = Native.scratch(8 + (long) requested * PERF_BYTES);
        MemorySegment count = buf.asSlice(0, 4), perf = buf.asSlice(8);
        int r;
        try {
            r = (int) h.invokeExact(handle, d1, d2, conv, d3, requested, count, perf);
        } catch (Throwable t) {
            throw Native.rethrow(call, t);
        }
        check(r, call);
        return readPerf(perf, Math.min(requested, count.get(JAVA_INT, 0)));
    }

    /** Forward algorithms for x (tensor), w (filter), conv, y (tensor), best first. */
    public static AlgoPerf[] forwardAlgorithms(long handle, long xDesc, long wDesc, long convDesc, long yDesc) {
        ready();
        return algorithms(H.fwdAlgo, "cudnnGetConvolutionForwardAlgorithm_v7", handle, xDesc, wDesc, convDesc, yDesc, FWD_ALGO_COUNT);
    }

    /** Backward-data algorithms for w (filter), dy (tensor), conv, dx (tensor), best first. */
    public static AlgoPerf[] backwardDataAlgorithms(long handle, long wDesc, long dyDesc, long convDesc, long dxDesc) {
        ready();
        return algorithms(H.bwdDataAlgo, "cudnnGetConvolutionBackwardDataAlgorithm_v7", handle, wDesc, dyDesc, convDesc, dxDesc,
                BWD_DATA_ALGO_COUNT);
    }

    /** Backward-filter algorithms for x (tensor), dy (tensor), conv, dw (filter), best first. */
    public static AlgoPerf[] backwardFilterAlgorithms(long handle, long xDesc, long dyDesc, long convDesc, long dwDesc) {
        ready();
        return algorithms(H.bwdFilterAlgo, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", handle, xDesc, dyDesc, convDesc, dwDesc,
                BWD_FILTER_ALGO_COUNT);
    }

    private static long workspace(MethodHandle h, String call, long handle, long d1, long d2, long conv, long d3, int algo) {
        ready();
        MemorySegment out = Native.scratch(8);
        int r;
        try {
            r = (int) h.invokeExact(handle, d1, d2, conv, d3, algo, out);
        } catch (Throwable t) {
            throw Native.rethrow(call, t);
        }
        check(r, call);
        return out.get(JAVA_LONG, 0);
    }

    public static long forwardWorkspaceSize(long handle, long xDesc, long wDesc, long convDesc, long yDesc, int algo) {
        ready();
        return workspace(H.fwdWorkspace, "cudnnGetConvolutionForwardWorkspaceSize", handle, xDesc, wDesc, convDesc, yDesc, algo);
    }

    public static long backwardDataWorkspaceSize(long handle, long wDesc, long dyDesc, long convDesc, long dxDesc, int algo) {
        ready();
        return workspace(H.bwdDataWorkspace, "cudnnGetConvolutionBackwardDataWorkspaceSize", handle, wDesc, dyDesc, convDesc, dxDesc, algo);
    }

    public static long backwardFilterWorkspaceSize(long handle, long xDesc, long dyDesc, long convDesc, long dwDesc, int algo) {
        ready();
        return workspace(H.bwdFilterWorkspace, "cudnnGetConvolutionBackwardFilterWorkspaceSize", handle, xDesc, dyDesc, convDesc,
                dwDesc, algo);
    }

    private static void run(MethodHandle h, String call, long handle, MemorySegment alphaBeta, long d1, long p1, long d2, long p2,
                            long conv, int algo, long workspace, long workspaceBytes, long d3, long p3) {
        ready();
        long half = alphaBeta.byteSize() / 2;
        int r;
        try {
            r = (int) h.invokeExact(handle, alphaBeta, d1, p1, d2, p2, conv, algo, workspace, workspaceBytes, alphaBeta.asSlice(half), d3, p3);
        } catch (Throwable t) {
            throw Native.rethrow(call, t);
        }
        check(r, call);
    }

    /** y = alpha conv(x, w) + beta y. alphaBeta from {@link #scalars}. */
    public static void convolutionForward(long handle, MemorySegment alphaBeta, long xDesc, long x, long wDesc, long w, long convDesc,
                                          int algo, long workspace, long workspaceBytes, long yDesc, long y) {
        ready();
        run(H.forward, "cudnnConvolutionForward", handle, alphaBeta, xDesc, x, wDesc, w, convDesc, algo, workspace, workspaceBytes, yDesc, y);
    }

    /** dx = alpha conv^T(dy, w) + beta dx. */
    public static void convolutionBackwardData(long handle, MemorySegment alphaBeta, long wDesc, long w, long dyDesc, long dy,
                                               long convDesc, int algo, long workspace, long workspaceBytes, long dxDesc, long dx) {
        ready();
        run(H.backwardData, "cudnnConvolutionBackwardData", handle, alphaBeta, wDesc, w, dyDesc, dy, convDesc, algo, workspace,
                workspaceBytes, dxDesc, dx);
    }

    /** dw = alpha (x correlated with dy) + beta dw. */
    public static void convolutionBackwardFilter(long handle, MemorySegment alphaBeta, long xDesc, long x, long dyDesc, long dy,
                                                 long convDesc, int algo, long workspace, long workspaceBytes, long dwDesc, long dw) {
        ready();
        run(H.backwardFilter, "cudnnConvolutionBackwardFilter", handle, alphaBeta, xDesc, x, dyDesc, dy, convDesc, algo, workspace,
                workspaceBytes, dwDesc, dw);
    }

    /**
     * A per-thread host buffer holding alpha then beta as cuDNN reads them: double when the data are DATA_DOUBLE,
     * float otherwise (half and bfloat16 data scale with floats).
     */
    public static MemorySegment scalars(int dataType, double alpha, double beta) {
        if (dataType == DATA_DOUBLE) {
            MemorySegment s = Native.scratch(16);
            s.set(JAVA_DOUBLE, 0, alpha);
            s.set(JAVA_DOUBLE, 8, beta);
            return s;
        }
        MemorySegment s = Native.scratch(8);
        s.set(JAVA_FLOAT, 0, (float) alpha);
        s.set(JAVA_FLOAT, 4, (float) beta);
        return s;
    }
}
