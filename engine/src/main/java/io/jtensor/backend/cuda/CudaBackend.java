package io.jtensor.backend.cuda;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backend;
import io.jtensor.backend.BackendContract;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ConvParams;
import io.jtensor.backend.ReduceOp;
import io.jtensor.backend.UnaryOp;
import io.jtensor.bindings.cuda.CudaDriver;
import io.jtensor.bindings.nvml.Nvml;
import io.jtensor.memory.Allocator;
import io.jtensor.memory.MemoryStats;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The CUDA backend: every {@link Backend} primitive as kernel launches on the calling thread's current stream of the
 * array's device ({@link CudaStreams}). Launches are asynchronous; the host waits only in {@link #copyToHost},
 * {@link #synchronize} and the ops whose kernels can meet bad values (gather, scatterAdd, indexSelect, max-pool
 * backward, integer DIV, REMAINDER and POW), which read the kernel's error flag back at once and throw there, as the CPU
 * backend does ({@link CudaDevice#launchChecked}). Every entry point first checks the {@link Backend} contract
 * with the CPU backend's own checks ({@link BackendContract}). Memory comes from a caching allocator per device
 * ({@link DeviceMemoryPool}).
 *
 * <p>Devices: {@code cuda:i} is physical GPU i, unless {@code -Djtensor.cuda.logicalDevices=N} asks for N logical
 * devices on physical GPU 0, each with its own streams and memory accounting (to test multi-device code on one GPU).
 */
public final class CudaBackend implements Backend {
    public static final String LOGICAL_DEVICES_PROPERTY = "jtensor.cuda.logicalDevices";

    private final List<PhysicalGpu> gpus;
    private final CudaDevice[] devices;
    private final byte[] image;
    /** Whether the devices are logical ones on GPU 0 (-Djtensor.cuda.logicalDevices). */
    private final boolean logical;
    private final CachingAllocator allocator;
    private final int driverVersion;

    private CudaBackend(byte[] image, int logical) {
        CudaDriver.cuInit(0);
        this.driverVersion = CudaDriver.cuDriverGetVersion();
        int count = CudaDriver.cuDeviceGetCount();
        if (count == 0) throw new UnsupportedOperationException("Device.cuda: the CUDA driver found no GPU on this machine");
        gpus = new ArrayList<>();
        this.image = image;
        this.logical = logical > 0;
        if (logical > 0) {
            PhysicalGpu g0 = new PhysicalGpu(0, image);
            gpus.add(g0);
            devices = new CudaDevice[logical];
            for (int i = 0; i < logical; i++) devices[i] = new CudaDevice(i, g0);
        } else {
            // Physical GPUs open (context, kernels) when first named, by checkDevice: a distributed rank that works
            // on cuda:LOCAL_RANK then holds a context on its own GPU only, not one on every GPU of the node.
            devices = new CudaDevice[count];
        }
        this.allocator = new CachingAllocator(this);
    }

    /** Opens physical GPU i and its logical device (once). CudaDevice's fields are final, so readers see it whole. */
    private synchronized void open(int i) {
        if (devices[i] != null) return;
        PhysicalGpu g = new PhysicalGpu(i, image);
        gpus.add(g);
        devices[i] = new CudaDevice(i, g);
    }

    /**
     * The backend for this machine, or an exception saying plainly why there is none: no driver (with every place
     * searched), no GPU, or a build without CUDA kernels.
     */
    public static CudaBackend create() {
        String noKernels = KernelImage.missingReason();
        try {
            CudaDriver.load();
        } catch (RuntimeException e) {
            throw new UnsupportedOperationException("Device.cuda: CUDA is not available: " + e.getMessage()
                    + (noKernels != null ? "\nAlso, " + noKernels : ""), e);
        }
        if (noKernels != null) throw new UnsupportedOperationException("Device.cuda: " + noKernels);
        int logical = Integer.getInteger(LOGICAL_DEVICES_PROPERTY, 0);
        if (logical < 0) throw new IllegalArgumentException("-D" + LOGICAL_DEVICES_PROPERTY + " must be >= 1, got " + logical);
        return new CudaBackend(KernelImage.load(), logical);
    }

    /** Throws when d is not a CUDA device of this backend. */
    public void checkDevice(Device d) {
        if (!d.isCuda()) throw new IllegalArgumentException("CUDA backend: " + d + " is not a CUDA device");
        if (d.index() >= devices.length) {
            throw new IllegalArgumentException("Device.cuda(" + d.index() + "): this machine has " + devices.length + " CUDA device(s)"
                    + (logical ? " (logical, on " + gpus.get(0) + ")" : "")
                    + "; valid indices are 0.." + (devices.length - 1));
        }
        if (devices[d.index()] == null) open(d.index());
    }

    CudaDevice device(Device d) {
        checkDevice(d);
        return devices[d.index()];
    }

    /** Number of (logical) CUDA devices. */
    public int deviceCount() { return devices.length; }

    /**
     * What {@code jtensor devices} shows of a device: its physical GPU's name and total memory, and the GPU's
     * utilization in percent as NVML reports it, or -1 where NVML cannot be loaded or does not answer.
     */
    public record DeviceInfo(String name, long totalMemory, int utilizationPercent) {}

    public DeviceInfo info(Device d) {
        PhysicalGpu g = device(d).gpu;
        int utilization = -1;
        try {
            if (Nvml.isLoadable()) {
                Nvml.init();
                // NVML numbers GPUs by PCI bus like CUDA's default order on single-vendor hosts.
                utilization = Nvml.utilization(Nvml.deviceHandle(g.ordinal)).gpu();
            }
        } catch (RuntimeException e) {
            utilization = -1; // utilization is extra information; the table shows "-" without it
        }
        return new DeviceInfo(g.name, g.totalMemory, utilization);
    }

    /** Physical GPU name, compute capability and memory of a device, e.g. for reports. */
    public String describe(Device d) { return device(d).gpu.toString(); }

    /** The driver's CUDA version, e.g. 13000. */
    public int driverVersion() { return driverVersion; }

    public MemoryStats memoryStats(Device d) { return device(d).pool.stats; }

    /** Bytes held in free cached blocks on d. */
    public long cachedBytes(Device d) { return device(d).pool.cached(); }

    private CudaDevice dev(NDArray a) { return device(a.device()); }

    @Override public Allocator allocator() { return allocator; }

    // ------------------------------------------------------------------ transfers

    @Override public void copyFromHost(MemorySegment src, NDArray dst) {
        if (!dst.isContiguous()) throw new IllegalArgumentException("copyFromHost: destination must be contiguous");
        CudaDevice dev = dev(dst);
        long bytes = dst.numel() * dst.dtype().byteSize();
        if (src.byteSize() < bytes) throw new IllegalArgumentException("copyFromHost: source holds " + src.byteSize() + " bytes, need " + bytes);
        if (bytes == 0) return;
        long stream = dev.enter();
        if (src.isNative()) {
            CudaDriver.cuMemcpyHtoDAsync(dst.dataAddress(), src, bytes, stream);
            return;
        }
        // Heap memory: stage through pinned buffers; the copy completes asynchronously.
        PinnedPool pool = dev.gpu.pinned;
        for (long off = 0; off < bytes; off += PinnedPool.CHUNK) {
            long n = Math.min(PinnedPool.CHUNK, bytes - off);
            PinnedPool.Buffer b = pool.acquire();
            try {
                MemorySegment.copy(src, off, b.segment, 0, n);
                CudaDriver.cuMemcpyHtoDAsync(dst.dataAddress() + off, b.segment, n, stream);
            } finally {
                pool.release(b, stream, true);
            }
        }
    }

    @Override public void copyToHost(NDArray src, MemorySegment dst) {
        if (!src.isContiguous()) throw new IllegalArgumentException("copyToHost: source must be contiguous");
        CudaDevice dev = dev(src);
        long bytes = src.numel() * src.dtype().byteSize();
        if (dst.byteSize() < bytes) throw new IllegalArgumentException("copyToHost: destination holds " + dst.byteSize() + " bytes, need " + bytes);
        long stream = dev.enter();
        if (bytes == 0) {
            CudaDriver.cuStreamSynchronize(stream);
            return;
        }
        if (dst.isNative()) {
            CudaDriver.cuMemcpyDtoHAsync(dst, src.dataAddress(), bytes, stream);
            CudaDriver.cuStreamSynchronize(stream);
            return;
        }
        PinnedPool pool = dev.gpu.pinned;
        for (long off = 0; off < bytes; off += PinnedPool.CHUNK) {
            long n = Math.min(PinnedPool.CHUNK, bytes - off);
            PinnedPool.Buffer b = pool.acquire();
            try {
                CudaDriver.cuMemcpyDtoHAsync(b.segment, src.dataAddress() + off, n, stream);
                CudaDriver.cuStreamSynchronize(stream);
                MemorySegment.copy(b.segment, 0, dst, off, n);
            } finally {
                pool.release(b, stream, false);
            }
        }
    }

    /** How {@link #copyBetweenDevices} moves bytes from one CUDA device to another. */
    public enum CopyRoute {
        /** Logical devices on one GPU: one context, one cuMemcpyDtoDAsync. */
        SAME_CONTEXT,
        /** Two GPUs with peer access enabled: cuMemcpyPeerAsync, GPU to GPU over NVLink or PCIe. */
        PEER,
        /** Two GPUs that cannot be peers: down into pinned host buffers on the source, up from them on the target. */
        STAGED
    }

    /**
     * The route a copy from src to dst takes. Asking for two GPUs enables peer access between them, both ways, the
     * first time (the driver may drive a peer copy from either side).
     */
    public CopyRoute copyRoute(Device src, Device dst) {
        CudaDevice from = device(src), to = device(dst);
        if (from.gpu == to.gpu) return CopyRoute.SAME_CONTEXT;
        boolean peers = to.gpu.reachesPeer(from.gpu) & from.gpu.reachesPeer(to.gpu);  // & : enable both directions
        return peers ? CopyRoute.PEER : CopyRoute.STAGED;
    }

    @Override public void copyBetweenDevices(NDArray src, NDArray dst) {
        BackendContract.requireDeviceCopy(Device.Type.CUDA, src, dst);
        copyBetweenDevices(src, dst, copyRoute(src.device(), dst.device()));
    }

    /**
     * {@link #copyBetweenDevices} along a given route; tests force each route between two logical devices of one GPU
     * (a peer copy and a staged copy work within one context too), so that every path runs on a single GPU.
     */
    void copyBetweenDevices(NDArray src, NDArray dst, CopyRoute route) {
        BackendContract.requireDeviceCopy(Device.Type.CUDA, src, dst);
        CudaDevice from = dev(src), to = dev(dst);
        long bytes = src.numel() * src.dtype().byteSize();
        if (bytes == 0) return;
        if (from == to) {  // one device, one stream: stream order is all the ordering needed
            CudaDriver.cuMemcpyDtoDAsync(dst.dataAddress(), src.dataAddress(), bytes, to.enter());
            return;
        }
        long srcStream = CudaStreams.current(from).handle, dstStream = CudaStreams.current(to).handle;
        if (route == CopyRoute.STAGED) {
            copyStaged(from, src.dataAddress(), srcStream, to, dst.dataAddress(), dstStream, bytes);
        } else {
            copyDirect(route, from, src.dataAddress(), srcStream, to, dst.dataAddress(), dstStream, bytes);
        }
    }

    /**
     * A device-to-device copy queued on the target's current stream, fenced by events both ways:
     * <ol>
     *   <li>the target stream waits for an event recorded on the source stream, so the copy reads src only after the
     *       work that wrote it (queued there by the calling thread);</li>
     *   <li>the copy itself, on the target stream: later work there sees dst filled, by stream order;</li>
     *   <li>the source stream waits for an event recorded after the copy.</li>
     * </ol>
     * Why step 3: src is read on another device's stream, and the caching allocator knows nothing of that use. Its
     * rule ({@link DeviceMemoryPool}) is that a freed block is handed out again only in the order of the stream that
     * freed it (its own stream at once, any other after an event there). src is typically freed right after this
     * returns (NDArray.to closes the contiguous temporary it copied from) through the source device's current stream,
     * and the next allocation on that stream may get the same block and overwrite it while the copy still reads it.
     * The allocator has no way to record a use on a foreign stream, and synchronising the host would make every
     * device-to-device copy blocking; making the source stream wait for the copy puts every later use of that
     * stream, reuse of src's block included, after the copy, and the host never waits. (PyTorch's cross-device copy
     * uses the same two-way fence.)
     */
    private static void copyDirect(CopyRoute route, CudaDevice from, long srcAddress, long srcStream,
                                   CudaDevice to, long dstAddress, long dstStream, long bytes) {
        streamWaitsFor(to.gpu, dstStream, from.gpu, srcStream);
        to.gpu.makeCurrent();
        if (route == CopyRoute.SAME_CONTEXT) {
            CudaDriver.cuMemcpyDtoDAsync(dstAddress, srcAddress, bytes, dstStream);
        } else {
            CudaDriver.cuMemcpyPeerAsync(dstAddress, to.gpu.context, srcAddress, from.gpu.context, bytes, dstStream);
        }
        streamWaitsFor(from.gpu, srcStream, to.gpu, dstStream);
    }

    /**
     * A copy between GPUs without peer access, through the target GPU's pinned staging buffers (allocated portable, so
     * the source context can DMA into them), chunk by chunk: download on the source stream (after the work that
     * wrote src, by stream order), the target stream waits for that download, upload on the target stream. src is
     * only ever read on its own stream, so the allocator's stream order protects it without a fence back. Each buffer
     * is handed out again once its upload has completed (an event the pool records on the target stream, which
     * completes only after the download it waited for). The host waits only when every buffer is in flight.
     */
    private static void copyStaged(CudaDevice from, long srcAddress, long srcStream,
                                   CudaDevice to, long dstAddress, long dstStream, long bytes) {
        PinnedPool pool = to.gpu.pinned;  // its buffers' events belong to the target's context, as the upload stream does
        for (long off = 0; off < bytes; off += PinnedPool.CHUNK) {
            long n = Math.min(PinnedPool.CHUNK, bytes - off);
            PinnedPool.Buffer b = pool.acquire();
            try {
                from.gpu.makeCurrent();
                CudaDriver.cuMemcpyDtoHAsync(b.segment, srcAddress + off, n, srcStream);
                streamWaitsFor(to.gpu, dstStream, from.gpu, srcStream);
                to.gpu.makeCurrent();
                CudaDriver.cuMemcpyHtoDAsync(dstAddress + off, b.segment, n, dstStream);
            } finally {
                to.gpu.makeCurrent();
                pool.release(b, dstStream, true);
            }
        }
    }

    /**
     * Makes later work on waiter (a stream of waiterGpu) wait for everything queued on stream (of gpu) so far, without
     * blocking the host. The event is created in the recording stream's context, as cuEventRecord requires; a stream
     * may wait on an event of another context. Destroying the event at once is allowed: the wait already holds the
     * recorded point, and the driver frees the event when it completes.
     */
    private static void streamWaitsFor(PhysicalGpu waiterGpu, long waiter, PhysicalGpu gpu, long stream) {
        gpu.makeCurrent();
        long event = CudaDriver.cuEventCreate(CudaDriver.EVENT_DISABLE_TIMING);
        try {
            CudaDriver.cuEventRecord(event, stream);
            waiterGpu.makeCurrent();
            CudaDriver.cuStreamWaitEvent(waiter, event, 0);
        } finally {
            gpu.makeCurrent();
            CudaDriver.cuEventDestroy(event);
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override public void copy(NDArray src, NDArray dst) {
        BackendContract.requireSameShape("copy", dst.shape(), src.shape());
        CudaElementwise.copy(dev(dst), DevArray.of(src), DevArray.of(dst));
    }

    @Override public void fill(NDArray dst, double value) { CudaElementwise.fill(dev(dst), DevArray.of(dst), value); }

    @Override public void unary(UnaryOp op, NDArray x, NDArray out, double p1, double p2) {
        BackendContract.requireSameShape(op.name().toLowerCase(), out.shape(), x.shape());
        BackendContract.requireUnaryParameters(op, x.dtype(), p1);
        CudaElementwise.unary(dev(out), op, DevArray.of(x), DevArray.of(out), p1, p2);
    }

    @Override public void binary(BinaryOp op, NDArray a, NDArray b, NDArray out) {
        String name = op.name().toLowerCase();
        BackendContract.requireSameShape(name, out.shape(), a.shape());
        BackendContract.requireSameShape(name, out.shape(), b.shape());
        CudaElementwise.binary(dev(out), op, DevArray.of(a), DevArray.of(b), DevArray.of(out));
    }

    @Override public void where(NDArray cond, NDArray a, NDArray b, NDArray out) {
        BackendContract.requireSameShape("where", out.shape(), cond.shape());
        BackendContract.requireSameShape("where", out.shape(), a.shape());
        BackendContract.requireSameShape("where", out.shape(), b.shape());
        CudaElementwise.where(dev(out), DevArray.of(cond), DevArray.of(a), DevArray.of(b), DevArray.of(out));
    }

    // ------------------------------------------------------------------ reductions, products, convolutions

    @Override public void reduce(ReduceOp op, NDArray x, int[] dims, NDArray out, NDArray indices) {
        BackendContract.requireReduction(op, x.shape(), dims, out.shape(), indices == null ? null : indices.shape());
        int[] d = dims.clone();
        Arrays.sort(d);
        CudaReduce.reduce(dev(out), op, DevArray.of(x), d, DevArray.of(out), indices == null ? null : DevArray.of(indices));
    }

    @Override public void matmul(NDArray a, NDArray bm, NDArray out) {
        CudaGemm.matmul(dev(out), DevArray.of(a), DevArray.of(bm), DevArray.of(out), CudaGemm.getDefault());
    }

    @Override public void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p) {
        CudaConv.conv2d(dev(out), DevArray.of(x), DevArray.of(w), DevArray.of(out), p);
    }

    @Override public void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p) {
        CudaConv.backwardInput(dev(gradIn), DevArray.of(gradOut), DevArray.of(w), DevArray.of(gradIn), p);
    }

    @Override public void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p) {
        CudaConv.backwardWeight(dev(gradW), DevArray.of(x), DevArray.of(gradOut), DevArray.of(gradW), p);
    }

    @Override public void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices) {
        CudaPool.maxPool2d(dev(out), DevArray.of(x), kH, kW, p, DevArray.of(out), DevArray.of(indices));
    }

    @Override public void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn) {
        CudaPool.maxPool2dBackward(dev(gradIn), DevArray.of(gradOut), DevArray.of(indices), DevArray.of(gradIn));
    }

    @Override public void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out) {
        CudaPool.avgPool2d(dev(out), DevArray.of(x), kH, kW, p, countIncludePad, DevArray.of(out));
    }

    @Override public void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn) {
        CudaPool.avgPool2dBackward(dev(gradIn), DevArray.of(gradOut), kH, kW, p, countIncludePad, DevArray.of(gradIn));
    }

    @Override public void softmax(NDArray x, int dim, boolean log, NDArray out) {
        String name = log ? "logSoftmax" : "softmax";
        BackendContract.requireSameShape(name, x.shape(), out.shape());
        BackendContract.requireDim(name, x.dim(), dim);
        CudaSoftmax.forward(dev(out), DevArray.of(x), dim, log, DevArray.of(out));
    }

    @Override public void softmaxBackward(NDArray y, NDArray gy, int dim, boolean log, NDArray gx) {
        String name = log ? "logSoftmaxBackward" : "softmaxBackward";
        BackendContract.requireSameShape(name, y.shape(), gy.shape());
        BackendContract.requireSameShape(name, y.shape(), gx.shape());
        BackendContract.requireDim(name, y.dim(), dim);
        CudaSoftmax.backward(dev(gx), DevArray.of(y), DevArray.of(gy), dim, log, DevArray.of(gx));
    }

    @Override public void layerNorm(NDArray x, int normalizedSize, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray rstd) {
        BackendContract.requireSameShape("layerNorm", x.shape(), out.shape());
        CudaNorm.forward(dev(out), DevArray.of(x), normalizedSize, weight == null ? null : DevArray.of(weight),
                bias == null ? null : DevArray.of(bias), eps, DevArray.of(out), DevArray.of(mean), DevArray.of(rstd));
    }

    /** Composed of this backend's verified reductions and elementwise kernels until a fused kernel lands. */
    @Override public void batchNorm(NDArray x, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray var) {
        BackendContract.requireSameShape("batchNorm", x.shape(), out.shape());
        CudaBatchNorm.forward(x, weight, bias, eps, out, mean, var);
    }

    @Override public void batchNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray var, NDArray weight, double eps,
                                            NDArray gradX, NDArray gradWeight, NDArray gradBias) {
        BackendContract.requireSameShape("batchNormBackward", x.shape(), gradOut.shape());
        CudaBatchNorm.backward(gradOut, x, mean, var, weight, eps, gradX, gradWeight, gradBias);
    }

    @Override public void crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double smoothing, NDArray loss, NDArray lse) {
        CudaCrossEntropy.forward(logits, targets, ignoreIndex, smoothing, loss, lse);
    }

    @Override public void crossEntropyBackward(NDArray logits, NDArray targets, NDArray lse, NDArray gradLoss, long ignoreIndex,
                                               double smoothing, NDArray gradLogits) {
        CudaCrossEntropy.backward(logits, targets, lse, gradLoss, ignoreIndex, smoothing, gradLogits);
    }

    @Override public void layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight,
                                            NDArray gradX, NDArray gradWeight, NDArray gradBias) {
        BackendContract.requireSameShape("layerNormBackward", x.shape(), gradOut.shape());
        CudaNorm.backward(dev(x), DevArray.of(gradOut), DevArray.of(x), DevArray.of(mean), DevArray.of(rstd),
                weight == null ? null : DevArray.of(weight), gradX == null ? null : DevArray.of(gradX),
                gradWeight == null ? null : DevArray.of(gradWeight), gradBias == null ? null : DevArray.of(gradBias));
    }

    // ------------------------------------------------------------------ indexing and random

    @Override public void gather(NDArray x, int dim, NDArray index, NDArray out) {
        BackendContract.requireIndexOperands("gather", x.shape(), dim, index.shape());
        BackendContract.requireSameShape("gather", out.shape(), index.shape());
        CudaIndex.gather(dev(out), "gather", DevArray.of(x), dim, DevArray.of(index), DevArray.of(out));
    }

    @Override public void scatterAdd(NDArray out, int dim, NDArray index, NDArray src) {
        BackendContract.requireIndexOperands("scatterAdd", out.shape(), dim, index.shape());
        BackendContract.requireSameShape("scatterAdd", index.shape(), src.shape());
        CudaIndex.scatterAdd(dev(out), DevArray.of(out), dim, DevArray.of(index), DevArray.of(src));
    }

    @Override public void indexSelect(NDArray x, int dim, NDArray index, NDArray out) {
        BackendContract.requireIndexSelect(x.shape(), dim, index.shape(), out.shape());
        CudaIndex.indexSelect(dev(out), DevArray.of(x), dim, DevArray.of(index), DevArray.of(out));
    }

    @Override public void random(RandomKind kind, long seed, long offset, double lo, double hi, NDArray out) {
        CudaRandom.fill(dev(out), kind, seed, offset, lo, hi, DevArray.of(out));
    }

    // ------------------------------------------------------------------ device-wide

    @Override public void emptyCache() {
        for (CudaDevice d : devices) if (d != null) d.pool.releaseCached();
    }

    @Override public void synchronize() {
        List<PhysicalGpu> opened;
        synchronized (this) {
            opened = List.copyOf(gpus);
        }
        for (PhysicalGpu g : opened) {
            g.makeCurrent();
            CudaDriver.cuCtxSynchronize();
        }
    }

    /** Waits for the work queued on one device (all its streams share the GPU's context). */
    public void synchronize(Device d) {
        CudaDevice dev = device(d);
        dev.gpu.makeCurrent();
        CudaDriver.cuCtxSynchronize();
    }
}
