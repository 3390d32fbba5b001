package io.jtensor.backend.cuda;

import io.jtensor.bindings.cuda.CudaDriver;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One physical GPU: its primary context (shared with cuBLAS and anything else using the runtime API), its
 * properties, the loaded kernel module and the pinned staging buffers. Logical devices ({@link CudaDevice}) map onto
 * these.
 */
final class PhysicalGpu {
    private static final ThreadLocal<long[]> CURRENT_CONTEXT = ThreadLocal.withInitial(() -> new long[1]);
    /** Kernel names by CUfunction, so that a failed launch can say which kernel it was. */
    private static final ConcurrentHashMap<Long, String> NAMES = new ConcurrentHashMap<>();

    final int ordinal;
    final int device;
    final long context;
    final String name;
    final int multiprocessors;
    final int ccMajor;
    final int ccMinor;
    final long totalMemory;
    final int maxSharedPerBlockOptin;
    private final long module;
    private final ConcurrentHashMap<String, Long> functions = new ConcurrentHashMap<>();
    /** Per peer GPU ordinal: whether this context can read and write the peer's memory (peer access enabled). */
    private final ConcurrentHashMap<Integer, Boolean> peerAccess = new ConcurrentHashMap<>();
    final PinnedPool pinned;

    PhysicalGpu(int ordinal, byte[] image) {
        this.ordinal = ordinal;
        this.device = CudaDriver.cuDeviceGet(ordinal);
        this.context = CudaDriver.cuDevicePrimaryCtxRetain(device);
        makeCurrent();
        this.name = CudaDriver.cuDeviceGetName(device);
        this.multiprocessors = CudaDriver.cuDeviceGetAttribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, device);
        this.ccMajor = CudaDriver.cuDeviceGetAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR, device);
        this.ccMinor = CudaDriver.cuDeviceGetAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR, device);
        this.totalMemory = CudaDriver.cuDeviceTotalMem(device);
        this.maxSharedPerBlockOptin = CudaDriver.cuDeviceGetAttribute(CudaDriver.ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
        try {
            this.module = CudaDriver.cuModuleLoadData(image);
        } catch (RuntimeException e) {
            throw new IllegalStateException("CUDA kernels (" + KernelImage.source() + ") do not load on " + name + " (sm_"
                    + ccMajor + ccMinor + "): " + e.getMessage(), e);
        }
        this.pinned = new PinnedPool(this);
    }

    /** Makes this GPU's primary context current on the calling thread (a no-op when it already is). */
    void makeCurrent() {
        long[] cur = CURRENT_CONTEXT.get();
        if (cur[0] != context) {
            CudaDriver.cuCtxSetCurrent(context);
            cur[0] = context;
        }
    }

    /**
     * Whether this GPU's context can access peer's memory directly (over NVLink or PCIe), enabling that access the
     * first time it is asked for this ordered pair. False when the driver says the two cannot be peers (then copies
     * between them go through host memory). Peer access is one-directional, so (a, b) and (b, a) are asked
     * separately. Two threads racing here both call cuCtxEnablePeerAccess; the loser's
     * CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED counts as success in the binding.
     */
    boolean reachesPeer(PhysicalGpu peer) {
        if (peer == this) return true;
        Boolean known = peerAccess.get(peer.ordinal);
        if (known != null) return known;
        boolean can = CudaDriver.cuDeviceCanAccessPeer(device, peer.device);
        if (can) {
            makeCurrent();
            CudaDriver.cuCtxEnablePeerAccess(peer.context, 0);
        }
        peerAccess.put(peer.ordinal, can);
        return can;
    }

    /** A kernel of the module by its extern "C" name, looked up once. */
    long function(String kernel) {
        Long f = functions.get(kernel);
        if (f != null) return f;
        return functions.computeIfAbsent(kernel, k -> {
            makeCurrent();
            long fn = CudaDriver.cuModuleGetFunction(module, k);
            NAMES.put(fn, k);
            return fn;
        });
    }

    /** The name of a kernel looked up through {@link #function}, or its handle in hex. */
    static String nameOf(long function) {
        String n = NAMES.get(function);
        return n != null ? n : "0x" + Long.toHexString(function);
    }

    /** A kernel that needs more than 48 KiB of dynamic shared memory: raises its limit once. */
    long functionWithSharedMemory(String kernel, int bytes) {
        String key = kernel + "#smem" + bytes;
        Long f = functions.get(key);
        if (f != null) return f;
        // Looked up before computeIfAbsent: its mapping function must not update the same map (function() does),
        // or ConcurrentHashMap throws "Recursive update" when both keys share a bin — seen on an H200 in GpuBench.
        long fn = function(kernel);
        return functions.computeIfAbsent(key, k -> {
            if (bytes > 48 * 1024) {
                if (bytes > maxSharedPerBlockOptin) {
                    throw new IllegalStateException(kernel + " needs " + bytes + " bytes of shared memory; " + name
                            + " allows " + maxSharedPerBlockOptin);
                }
                CudaDriver.cuFuncSetAttribute(fn, CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
            }
            return fn;
        });
    }

    @Override public String toString() {
        return "GPU " + ordinal + " (" + name + ", sm_" + ccMajor + ccMinor + ", " + multiprocessors + " SMs, "
                + (totalMemory >> 20) + " MiB)";
    }
}
