package io.jtensor;

import io.jtensor.backend.Backend;
import io.jtensor.backend.Backends;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ConvParams;
import io.jtensor.backend.ReduceOp;
import io.jtensor.backend.UnaryOp;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.Storage;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array: a dtype, a shape, strides and an offset (both in elements) into a shared,
 * reference-counted {@link Storage} on one {@link Device}. Views share storage; {@link #close()} drops this
 * array's reference. Every op decides shapes and dtypes here and makes one call to the device's {@link Backend}.
 *
 * <p>Arrays created while a {@link MemoryScope} is open on the thread are closed with it unless kept.
 */
public final class NDArray implements AutoCloseable {
    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    /** Set once, by compare-and-set: two threads closing one array must release its reference once, not twice. */
    private volatile boolean closed;
    private static final java.lang.invoke.VarHandle CLOSED;
    static {
        try {
            CLOSED = java.lang.invoke.MethodHandles.lookup().findVarHandle(NDArray.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private NDArray(Storage storage, DType dtype, long[] shape, long[] strides, long offset) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        MemoryScope.track(this);
    }

    // ------------------------------------------------------------------ creation

    /** An uninitialised contiguous array. */
    public static NDArray empty(DType dtype, Device device, long... shape) { return allocate("empty", dtype, device, shape); }

    public static NDArray empty(DType dtype, long... shape) { return empty(dtype, Device.cpu(), shape); }

    /**
     * A fresh contiguous array. The byte count is computed without overflow: a shape whose element count does not fit
     * a long could otherwise wrap to a small allocation that the kernels would then index far beyond.
     */
    private static NDArray allocate(String op, DType dtype, Device device, long[] shape) {
        long[] sh = shape.clone();
        long bytes = Math.max(Shapes.byteSize(op, sh, dtype), 1);
        Storage st = new Storage(Backends.of(device).allocator(), device, bytes);
        return new NDArray(st, dtype, sh, Shapes.contiguousStrides(sh), 0);
    }

    public static NDArray full(double value, DType dtype, Device device, long... shape) { return filled("full", value, dtype, device, shape); }

    private static NDArray filled(String op, double value, DType dtype, Device device, long[] shape) {
        NDArray a = allocate(op, dtype, device, shape);
        return runInto(a, () -> a.backend().fill(a, value));
    }

    public static NDArray zeros(DType dtype, Device device, long... shape) { return filled("zeros", 0, dtype, device, shape); }
    public static NDArray zeros(long... shape) { return zeros(DType.F32, Device.cpu(), shape); }
    public static NDArray ones(DType dtype, Device device, long... shape) { return filled("ones", 1, dtype, device, shape); }
    public static NDArray ones(long... shape) { return ones(DType.F32, Device.cpu(), shape); }

    /** A zero-dimensional array holding one value. */
    public static NDArray scalar(double value, DType dtype, Device device) { return full(value, dtype, device); }

    public static NDArray of(float[] data, long... shape) { return fromHost(MemorySegment.ofArray(data), data.length, DType.F32, shape); }
    public static NDArray of(double[] data, long... shape) { return fromHost(MemorySegment.ofArray(data), data.length, DType.F64, shape); }
    public static NDArray of(long[] data, long... shape) { return fromHost(MemorySegment.ofArray(data), data.length, DType.I64, shape); }
    public static NDArray of(int[] data, long... shape) { return fromHost(MemorySegment.ofArray(data), data.length, DType.I32, shape); }

    public static NDArray of(boolean[] data, long... shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) bytes[i] = (byte) (data[i] ? 1 : 0);
        return fromHost(MemorySegment.ofArray(bytes), data.length, DType.BOOL, shape);
    }

    /** Raw bytes in dtype's little-endian layout, as read from a file. */
    public static NDArray fromBytes(byte[] bytes, DType dtype, long... shape) {
        if (bytes.length % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("fromBytes: " + bytes.length + " bytes is not a whole number of " + dtype + " elements");
        }
        return OpErrors.as("fromBytes", () -> fromHost(MemorySegment.ofArray(bytes), bytes.length / dtype.byteSize(), dtype, shape));
    }

    /** Copies contiguous host data of the given dtype into a new CPU array. */
    public static NDArray fromHost(MemorySegment src, long count, DType dtype, long... shape) {
        long[] sh = shape.length == 0 && count != 1 ? new long[] {count} : shape;
        long numel = Shapes.checkedNumel("of", sh);
        if (numel != count) {
            throw new IllegalArgumentException("of: shape " + Arrays.toString(sh) + " holds " + numel
                    + " elements but " + count + " values were given");
        }
        long bytes = Shapes.byteSize("of", sh, dtype);
        if (src.byteSize() < bytes) {
            throw new IllegalArgumentException("of: expected " + bytes + " bytes of " + dtype + " data for shape " + Arrays.toString(sh)
                    + ", got a buffer of " + src.byteSize() + " bytes");
        }
        NDArray a = allocate("of", dtype, Device.cpu(), sh);
        return runInto(a, () -> a.backend().copyFromHost(src, a));
    }

    /** 0, 1, ..., n-1 as I64. */
    public static NDArray arange(long n) { return arange(0, n, 1, DType.I64, Device.cpu()); }

    public static NDArray arange(double start, double end, double step, DType dtype, Device device) {
        if (step == 0) throw new IllegalArgumentException("arange: step must be nonzero");
        if (!Double.isFinite(start) || !Double.isFinite(end) || !Double.isFinite(step)) {
            throw new IllegalArgumentException("arange: expected finite start, end and step, got " + start + ", " + end + ", " + step);
        }
        double count = Math.max(0, Math.ceil((end - start) / step));
        // The values are generated on the host, in one Java array.
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("arange: expected at most " + (Integer.MAX_VALUE - 8) + " elements, got " + (long) count
                    + " for start " + start + ", end " + end + ", step " + step);
        }
        int n = (int) count;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = start + i * step;
        try (NDArray d = of(v, n); NDArray cast = d.to(dtype)) {
            return cast.to(device);
        }
    }

    public static NDArray eye(long n, DType dtype, Device device) {
        if (n < 0) throw new IllegalArgumentException("eye: expected n >= 0, got " + n);
        NDArray out = filled("eye", 0, dtype, device, new long[] {n, n});
        // The diagonal is the view that steps n + 1 elements at a time.
        try (NDArray diagonal = out.viewOf("eye", new long[] {n}, new long[] {n + 1}, 0)) {
            diagonal.fill(1);
        }
        return out;
    }

    // ------------------------------------------------------------------ random

    public static NDArray rand(Generator g, DType dtype, Device device, long... shape) {
        return random("rand", Backend.RandomKind.UNIFORM, g, 0, 1, dtype, device, shape);
    }

    public static NDArray randn(Generator g, DType dtype, Device device, long... shape) {
        return random("randn", Backend.RandomKind.NORMAL, g, 0, 1, dtype, device, shape);
    }

    public static NDArray rand(long... shape) { return rand(Generator.defaultGenerator(), DType.F32, Device.cpu(), shape); }
    public static NDArray randn(long... shape) { return randn(Generator.defaultGenerator(), DType.F32, Device.cpu(), shape); }

    /** Uniform in [lo, hi). */
    public static NDArray uniform(Generator g, double lo, double hi, DType dtype, Device device, long... shape) {
        return random("uniform", Backend.RandomKind.UNIFORM, g, lo, hi, dtype, device, shape);
    }

    /** Normal with the given mean and standard deviation. */
    public static NDArray normal(Generator g, double mean, double std, DType dtype, Device device, long... shape) {
        return random("normal", Backend.RandomKind.NORMAL, g, mean, std, dtype, device, shape);
    }

    /** Integers uniform in [lo, hi), I64, for any lo < hi (see {@link RandomIntegers} for the stream). */
    public static NDArray randint(Generator g, long lo, long hi, Device device, long... shape) {
        if (hi <= lo) throw new IllegalArgumentException("randint: expected lo < hi, got " + lo + ", " + hi);
        NDArray host = allocate("randint", DType.I64, device.isCpu() ? device : Device.cpu(), shape);
        long n = host.numel();
        long offset = g.reserve(2 * n); // ceil(2n / 4) = RandomIntegers.blocksFor(n) blocks
        runInto(host, () -> RandomIntegers.fill(g.seed(), offset, lo, hi, host.storage.segment(), n));
        if (device.isCpu()) return host;
        try (host) {
            return host.to(device);
        }
    }

    /** 1 with probability p, else 0, in dtype. */
    public static NDArray bernoulli(Generator g, double p, DType dtype, Device device, long... shape) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("bernoulli: p must be in [0, 1], got " + p);
        try (NDArray u = random("bernoulli", Backend.RandomKind.UNIFORM, g, 0, 1, DType.F32, device, shape);
             NDArray keep = u.lt(p)) {
            return keep.to(dtype);
        }
    }

    /** An inverted-dropout mask: 0 with probability p, else 1/(1-p). */
    public static NDArray dropoutMask(Generator g, double p, DType dtype, Device device, long... shape) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout: p must be in [0, 1), got " + p);
        return OpErrors.as("dropout", () -> {
            try (NDArray keep = bernoulli(g, 1 - p, dtype, device, shape)) {
                return keep.mul(1.0 / (1 - p));
            }
        });
    }

    private static NDArray random(String op, Backend.RandomKind kind, Generator g, double a, double b, DType dtype, Device device, long... shape) {
        if (!dtype.isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + dtype);
        NDArray out = allocate(op, dtype, device, shape);
        long offset = g.reserve(out.numel());
        return runInto(out, () -> out.backend().random(kind, g.seed(), offset, a, b, out));
    }

    // ------------------------------------------------------------------ accessors

    public DType dtype() { return dtype; }
    public Device device() { return storage.device(); }
    public long[] shape() { return shape.clone(); }
    public long[] strides() { return strides.clone(); }
    public long offset() { return offset; }
    public int dim() { return shape.length; }
    public long numel() { return Shapes.numel(shape); }

    /** Size of one dim; negative dims count from the end. */
    public long size(int d) {
        int dd = Shapes.normalizeDim("size", d, dim());
        requireDims("size");
        return shape[dd];
    }

    /** Ops that pick along a dim need one: a zero-dimensional array has none. */
    private void requireDims(String op) {
        if (dim() == 0) throw new IndexOutOfBoundsException(op + ": expected an array with at least 1 dim, got a zero-dimensional one");
    }

    /** The storage this array is a view of; for backends. */
    public Storage storage() {
        checkOpen("storage");
        return storage;
    }

    /** Address of element 0 of this view. */
    public long dataAddress() {
        checkOpen("dataAddress");
        return storage.address() + offset * dtype.byteSize();
    }

    public Backend backend() { return Backends.of(storage.device()); }

    public boolean isContiguous() {
        if (numel() == 0) return true; // like PyTorch: an empty array has no layout to violate
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    public boolean isClosed() { return closed || storage.isReleased(); }

    // ------------------------------------------------------------------ lifetime

    @Override public void close() {
        if (!CLOSED.compareAndSet(this, false, true)) return;
        storage.release();
    }

    /** Detaches this array from any open MemoryScope so that it outlives it; returns this. */
    public NDArray keep() {
        MemoryScope.untrack(this);
        return this;
    }

    private void checkOpen(String op) {
        if (closed || storage.isReleased()) throw closedError(op);
    }

    private IllegalStateException closedError(String op) {
        return new IllegalStateException(op + ": the array " + Arrays.toString(shape) + " " + dtype + " was closed");
    }

    /**
     * Takes a reference to this array's storage for an op that is about to read or write it. A check that the array
     * is open is not enough on its own: another thread may close it (and free the block) while the kernel runs.
     * Holding a reference makes that close() drop only the caller's reference; the op's release frees the block.
     */
    private void retainFor(String op) {
        if (closed || !storage.tryRetain()) throw closedError(op);
    }

    /**
     * Runs kernel while holding the storage of every array in {@code held} (null entries skipped): the one way an op
     * hands arrays it did not allocate itself to a backend. On CUDA the release after the launch is enough, since a
     * block freed by the caching allocator is reused only in its stream's order, after the kernel.
     */
    private static void holding(String op, Runnable kernel, NDArray... held) {
        int n = 0;
        try {
            for (; n < held.length; n++) if (held[n] != null) held[n].retainFor(op);
            kernel.run();
        } finally {
            for (int i = 0; i < n; i++) if (held[i] != null) held[i].storage.release();
        }
    }

    /**
     * A new array over this storage. Every element the view can reach must lie inside the storage: kernels trust
     * an array's layout (the GEMM and convolution address memory from it directly), so this is the one place that
     * keeps the public API from reaching memory it does not own.
     */
    private NDArray viewOf(String op, long[] newShape, long[] newStrides, long newOffset) {
        checkOpen(op);
        Shapes.checkedNumel(op, newShape);
        checkInsideStorage(op, newShape, newStrides, newOffset);
        retainFor(op);
        return new NDArray(storage, dtype, newShape, newStrides, newOffset);
    }

    private void checkInsideStorage(String op, long[] sh, long[] st, long off) {
        for (long s : sh) if (s == 0) return; // no element is reachable, whatever the other sizes and strides
        long lo = off, hi = off;
        try {
            for (int i = 0; i < sh.length; i++) {
                if (sh[i] < 0) throw new IllegalStateException(op + ": negative size in view shape " + Arrays.toString(sh));
                if (sh[i] == 0) return; // no element is reachable
                long reach = Math.multiplyExact(sh[i] - 1, st[i]);
                if (reach < 0) lo = Math.addExact(lo, reach);
                else hi = Math.addExact(hi, reach);
            }
        } catch (ArithmeticException e) {
            hi = Long.MAX_VALUE;
        }
        long capacity = storage.byteSize() / dtype.byteSize();
        if (lo < 0 || hi >= capacity) {
            throw new IllegalStateException(op + ": a view of shape " + Arrays.toString(sh) + ", strides " + Arrays.toString(st)
                    + " and offset " + off + " would reach elements outside its storage of " + capacity + " elements");
        }
    }

    /** A new array reference to the same data, with its own lifetime. */
    public NDArray share() { return viewOf("share", shape.clone(), strides.clone(), offset); }

    // ------------------------------------------------------------------ host transfer

    /** A contiguous array of this data in dtype t; the intermediate cast, if any, is closed here. */
    private NDArray contiguousAs(DType t) {
        try (NDArray cast = to(t)) {
            return cast.contiguous();
        }
    }

    /** Largest Java array the JVM allocates (a few header words below 2^31). */
    private static final long MAX_HOST_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * The length of the Java array that holds this array's elements at {@code perElement} entries each, checked
     * before any copy is made: an expanded view can name more elements than a Java array holds, and finding out after
     * copying them (gigabytes) is too late.
     */
    private int hostLength(String op, int perElement) {
        checkOpen(op);
        long n = numel();
        if (n > MAX_HOST_ARRAY / perElement) {
            throw new IllegalStateException(op + ": " + n + " elements of shape " + Arrays.toString(shape) + " do not fit a Java array (at most "
                    + MAX_HOST_ARRAY / perElement + " " + (perElement == 1 ? "elements" : "elements of " + perElement + " bytes") + ")");
        }
        return (int) (n * perElement);
    }

    public float[] toFloatArray() {
        int n = hostLength("toFloatArray", 1);
        try (NDArray c = contiguousAs(DType.F32)) {
            float[] out = new float[n];
            c.backend().copyToHost(c, MemorySegment.ofArray(out));
            return out;
        }
    }

    public double[] toDoubleArray() {
        int n = hostLength("toDoubleArray", 1);
        try (NDArray c = contiguousAs(DType.F64)) {
            double[] out = new double[n];
            c.backend().copyToHost(c, MemorySegment.ofArray(out));
            return out;
        }
    }

    public long[] toLongArray() {
        int n = hostLength("toLongArray", 1);
        try (NDArray c = contiguousAs(DType.I64)) {
            long[] out = new long[n];
            c.backend().copyToHost(c, MemorySegment.ofArray(out));
            return out;
        }
    }

    public int[] toIntArray() {
        int n = hostLength("toIntArray", 1);
        try (NDArray c = contiguousAs(DType.I32)) {
            int[] out = new int[n];
            c.backend().copyToHost(c, MemorySegment.ofArray(out));
            return out;
        }
    }

    public boolean[] toBooleanArray() {
        int n = hostLength("toBooleanArray", 1);
        try (NDArray c = contiguousAs(DType.BOOL)) {
            byte[] raw = new byte[n];
            c.backend().copyToHost(c, MemorySegment.ofArray(raw));
            boolean[] out = new boolean[raw.length];
            for (int i = 0; i < raw.length; i++) out[i] = raw[i] != 0;
            return out;
        }
    }

    /** The raw little-endian bytes of the elements in row-major order. */
    public byte[] toBytes() {
        int n = hostLength("toBytes", dtype.byteSize());
        try (NDArray c = contiguous()) {
            byte[] out = new byte[n];
            c.backend().copyToHost(c, MemorySegment.ofArray(out));
            return out;
        }
    }

    /** The single value of a one-element array. */
    public double item() {
        checkOpen("item");
        if (numel() != 1) throw new IllegalStateException("item: expected one element, got shape " + Arrays.toString(shape));
        return toDoubleArray()[0];
    }

    /**
     * A copy on another device (or this array's data, shared, when already there). Between two devices of one kind
     * (cuda:i -> cuda:j, cpu:i -> cpu:j) the backend copies directly ({@link Backend#copyBetweenDevices}: one
     * context, peer to peer, or staged through pinned memory), ordered after the work that made this array on its
     * device and before later work on the target device, without blocking the host.
     */
    public NDArray to(Device device) {
        checkOpen("to");
        if (device.equals(device())) return share();
        try (NDArray c = contiguous()) {
            return runInto(allocate("to", dtype, device, shape), out -> {
                if (device.type() == c.device().type()) {
                    out.backend().copyBetweenDevices(c, out);
                } else if (device.isCpu()) {
                    c.backend().copyToHost(c, out.storage.segment().asSlice(0, c.numel() * dtype.byteSize()));
                } else {
                    out.backend().copyFromHost(c.storage.segment().asSlice(c.offset * dtype.byteSize(), c.numel() * dtype.byteSize()), out);
                }
            });
        }
    }

    /** This array cast to dtype (shared when it already has it). */
    public NDArray to(DType target) {
        checkOpen("to");
        if (target == dtype) return share();
        NDArray out = allocate("to", target, device(), shape);
        return runInto(out, () -> holding("to", () -> backend().copy(this, out), this));
    }

    /** A contiguous copy, or this data shared when already contiguous. */
    public NDArray contiguous() {
        checkOpen("contiguous");
        if (isContiguous()) return share();
        return copy();
    }

    /** Always a fresh contiguous copy. */
    public NDArray copy() {
        checkOpen("copy");
        NDArray out = allocate("copy", dtype, device(), shape);
        return runInto(out, () -> holding("copy", () -> backend().copy(this, out), this));
    }

    // ------------------------------------------------------------------ views

    public NDArray reshape(long... newShape) {
        checkOpen("reshape");
        long[] sh = Shapes.inferShape("reshape", newShape, numel());
        long[] st = Shapes.viewStrides(shape, strides, sh);
        if (st != null) return viewOf("reshape", sh, st, offset);
        try (NDArray c = copy()) {
            return c.viewOf("reshape", sh, Shapes.contiguousStrides(sh), 0);
        }
    }

    /** Like reshape, but fails instead of copying when the strides do not allow a view. */
    public NDArray view(long... newShape) {
        checkOpen("view");
        long[] sh = Shapes.inferShape("view", newShape, numel());
        long[] st = Shapes.viewStrides(shape, strides, sh);
        if (st == null) {
            throw new IllegalStateException("view: shape " + Arrays.toString(newShape) + " is incompatible with strides "
                    + Arrays.toString(strides) + "; use reshape(), which copies");
        }
        return viewOf("view", sh, st, offset);
    }

    public NDArray flatten() {
        checkOpen("flatten");
        return OpErrors.as("flatten", () -> reshape(-1));
    }

    /** Flattens dims start..end (inclusive) into one. */
    public NDArray flatten(int start, int end) {
        checkOpen("flatten");
        int s = Shapes.normalizeDim("flatten", start, dim()), e = Shapes.normalizeDim("flatten", end, dim());
        if (dim() == 0) return OpErrors.as("flatten", () -> reshape(1));
        if (s > e) throw new IllegalArgumentException("flatten: start dim " + start + " is after end dim " + end);
        long[] sh = new long[dim() - (e - s)];
        int j = 0;
        for (int i = 0; i < s; i++) sh[j++] = shape[i];
        long m = 1;
        // a product of existing sizes; it can pass a long only when another dim is 0 (then there is nothing to view)
        for (int i = s; i <= e; i++) m = Shapes.checkedNumel("flatten", new long[] {m, shape[i]});
        sh[j++] = m;
        for (int i = e + 1; i < dim(); i++) sh[j++] = shape[i];
        return OpErrors.as("flatten", () -> reshape(sh));
    }

    public NDArray permute(int... dims) {
        checkOpen("permute");
        if (dims.length != dim()) {
            throw new IllegalArgumentException("permute: expected " + dim() + " dims, got " + Arrays.toString(dims));
        }
        long[] sh = new long[dims.length], st = new long[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.normalizeDim("permute", dims[i], dim());
            if (seen[d]) throw new IllegalArgumentException("permute: dim " + d + " repeated in " + Arrays.toString(dims));
            seen[d] = true;
            sh[i] = shape[d];
            st[i] = strides[d];
        }
        return viewOf("permute", sh, st, offset);
    }

    public NDArray transpose(int a, int b) {
        checkOpen("transpose");
        int da = Shapes.normalizeDim("transpose", a, dim()), db = Shapes.normalizeDim("transpose", b, dim());
        if (dim() == 0) return viewOf("transpose", shape, strides, offset);
        long[] sh = shape.clone(), st = strides.clone();
        sh[da] = shape[db];
        sh[db] = shape[da];
        st[da] = strides[db];
        st[db] = strides[da];
        return viewOf("transpose", sh, st, offset);
    }

    /** Transpose of a matrix (rank <= 2). */
    public NDArray t() {
        checkOpen("t");
        if (dim() > 2) throw new IllegalArgumentException("t: expected a tensor of rank <= 2, got rank " + dim() + "; use transpose");
        return dim() < 2 ? viewOf("t", shape, strides, offset) : transpose(0, 1);
    }

    /** Broadcasts to a larger shape without copying (size-1 dims get stride 0; -1 keeps a size). */
    public NDArray expand(long... newShape) {
        checkOpen("expand");
        if (newShape.length < dim()) {
            throw new IllegalArgumentException("expand: target " + Arrays.toString(newShape) + " has fewer dims than " + Arrays.toString(shape));
        }
        int lead = newShape.length - dim();
        long[] sh = new long[newShape.length], st = new long[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            if (newShape[i] < -1 || (i < lead && newShape[i] == -1)) {
                throw new IllegalArgumentException("expand: expected sizes >= 0 (or -1 to keep an existing dim), got " + newShape[i]
                        + " at dim " + i + " of target " + Arrays.toString(newShape) + " for shape " + Arrays.toString(shape));
            }
            if (i < lead) {
                sh[i] = newShape[i];
                st[i] = 0;
            } else {
                long cur = shape[i - lead];
                long want = newShape[i] == -1 ? cur : newShape[i];
                if (cur == want) {
                    sh[i] = cur;
                    st[i] = strides[i - lead];
                } else if (cur == 1) {
                    sh[i] = want;
                    st[i] = 0;
                } else {
                    throw new IllegalArgumentException("expand: cannot expand " + Arrays.toString(shape) + " to " + Arrays.toString(newShape)
                            + " (dim " + i + " has size " + cur + ")");
                }
            }
        }
        return viewOf("expand", sh, st, offset);
    }

    public NDArray broadcastTo(long... newShape) { return OpErrors.as("broadcastTo", () -> expand(newShape)); }

    public NDArray squeeze() {
        checkOpen("squeeze");
        int n = 0;
        for (long s : shape) if (s != 1) n++;
        long[] sh = new long[n], st = new long[n];
        int j = 0;
        for (int i = 0; i < dim(); i++) {
            if (shape[i] != 1) {
                sh[j] = shape[i];
                st[j++] = strides[i];
            }
        }
        return viewOf("squeeze", sh, st, offset);
    }

    public NDArray squeeze(int d) {
        checkOpen("squeeze");
        int dd = Shapes.normalizeDim("squeeze", d, dim());
        if (dim() == 0 || shape[dd] != 1) return viewOf("squeeze", shape, strides, offset);
        return viewOf("squeeze", remove(shape, dd), remove(strides, dd), offset);
    }

    public NDArray unsqueeze(int d) {
        checkOpen("unsqueeze");
        int dd = Shapes.normalizeDim("unsqueeze", d, dim() + 1);
        long stride = dd < dim() ? strides[dd] * shape[dd] : 1;
        return viewOf("unsqueeze", insert(shape, dd, 1), insert(strides, dd, stride), offset);
    }

    /** Elements start..start+length-1 of dim d. */
    public NDArray narrow(int d, long start, long length) {
        checkOpen("narrow");
        int dd = Shapes.normalizeDim("narrow", d, dim());
        requireDims("narrow");
        long n = shape[dd];
        long s = start < 0 ? start + n : start;
        // Written as "length > n - s" so that a huge length cannot overflow past the check.
        if (s < 0 || s > n || length < 0 || length > n - s) {
            throw new IndexOutOfBoundsException("narrow: expected start in [" + (-n) + ", " + n + "] and length in [0, size - start] for dim "
                    + dd + " of size " + n + ", got start " + start + ", length " + length);
        }
        long[] sh = shape.clone();
        sh[dd] = length;
        return viewOf("narrow", sh, strides.clone(), offset + s * strides[dd]);
    }

    /** Python-style slice of dim d: start (inclusive), end (exclusive), step > 0; negatives count from the end. */
    public NDArray slice(int d, long start, long end, long step) {
        checkOpen("slice");
        int dd = Shapes.normalizeDim("slice", d, dim());
        requireDims("slice");
        if (step <= 0) throw new IllegalArgumentException("slice: step must be positive, got " + step);
        long n = shape[dd];
        long s = start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
        long e = end < 0 ? Math.max(end + n, 0) : Math.min(end, n);
        long len = e > s ? (e - s - 1) / step + 1 : 0; // no "+ step - 1": a huge step must not overflow
        long[] sh = shape.clone(), st = strides.clone();
        sh[dd] = len;
        st[dd] = len > 1 ? strides[dd] * step : strides[dd]; // (len - 1) * step < n, so the product fits when len > 1
        return viewOf("slice", sh, st, offset + s * strides[dd]);
    }

    /** The slice at index i of dim d, with d removed. */
    public NDArray select(int d, long i) {
        checkOpen("select");
        int dd = Shapes.normalizeDim("select", d, dim());
        requireDims("select");
        long idx = i < 0 ? i + shape[dd] : i;
        if (idx < 0 || idx >= shape[dd]) {
            throw new IndexOutOfBoundsException("select: index " + i + " out of bounds for dim " + dd + " of size " + shape[dd]
                    + " (expected " + (-shape[dd]) + ".." + (shape[dd] - 1) + ")");
        }
        return viewOf("select", remove(shape, dd), remove(strides, dd), offset + idx * strides[dd]);
    }

    public static NDArray cat(List<NDArray> parts, int d) {
        if (parts.isEmpty()) throw new IllegalArgumentException("cat: expected at least one array");
        NDArray first = parts.get(0);
        for (NDArray p : parts) p.checkOpen("cat");
        int dd = Shapes.normalizeDim("cat", d, first.dim());
        DType dt = first.dtype;
        long total = 0;
        for (int k = 0; k < parts.size(); k++) {
            NDArray p = parts.get(k);
            if (p.dim() == 0) throw new IllegalArgumentException("cat: expected arrays with at least 1 dim, got a zero-dimensional one at position " + k);
            if (p.dim() != first.dim()) {
                throw new IllegalArgumentException("cat: expected arrays of rank " + first.dim() + ", got " + Arrays.toString(p.shape)
                        + " at position " + k);
            }
            if (!p.device().equals(first.device())) {
                throw new IllegalArgumentException("cat: expected all arrays on " + first.device() + ", got one on " + p.device());
            }
            for (int i = 0; i < first.dim(); i++) {
                if (i != dd && p.shape[i] != first.shape[i]) {
                    throw new IllegalArgumentException("cat: sizes must match except in dim " + dd + ", got "
                            + Arrays.toString(first.shape) + " and " + Arrays.toString(p.shape));
                }
            }
            dt = DType.promote(dt, p.dtype);
            if (p.shape[dd] > Long.MAX_VALUE - total) {
                throw new IllegalArgumentException("cat: the sizes of dim " + dd + " add up to more than 2^63-1 (numel: integer multiplication overflow)");
            }
            total += p.shape[dd];
        }
        long[] sh = first.shape.clone();
        sh[dd] = total;
        NDArray out = allocate("cat", dt, first.device(), sh);
        try {
            long at = 0;
            for (NDArray p : parts) {
                try (NDArray dst = out.narrow(dd, at, p.shape[dd])) {
                    holding("cat", () -> out.backend().copy(p, dst), p);
                }
                at += p.shape[dd];
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    public static NDArray stack(List<NDArray> parts, int d) {
        if (parts.isEmpty()) throw new IllegalArgumentException("stack: expected at least one array");
        requireSameDevice("stack", parts.toArray(new NDArray[0]));
        int dd = Shapes.normalizeDim("stack", d, parts.get(0).dim() + 1);
        List<NDArray> us = new ArrayList<>();
        try {
            for (NDArray p : parts) {
                if (!Arrays.equals(p.shape, parts.get(0).shape)) {
                    throw new IllegalArgumentException("stack: expected equal shapes, got " + Arrays.toString(parts.get(0).shape)
                            + " and " + Arrays.toString(p.shape));
                }
                us.add(p.unsqueeze(dd));
            }
            return OpErrors.as("stack", () -> cat(us, dd));
        } finally {
            us.forEach(NDArray::close);
        }
    }

    /** Views of consecutive pieces of dim d of the given sizes. */
    public List<NDArray> split(int d, long... sizes) {
        checkOpen("split");
        int dd = Shapes.normalizeDim("split", d, dim());
        requireDims("split");
        long sum = 0;
        for (long s : sizes) {
            if (s < 0 || s > shape[dd]) {
                throw new IllegalArgumentException("split: expected sizes in [0, " + shape[dd] + "] adding to " + shape[dd] + ", got " + Arrays.toString(sizes));
            }
            sum += s; // each term is at most the dim's size, so the sum cannot overflow before it exceeds it
            if (sum > shape[dd]) break;
        }
        if (sum != shape[dd]) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " must add to " + shape[dd]
                    + ", the size of dim " + dd + ", got " + (sum > shape[dd] ? "more" : String.valueOf(sum)));
        }
        List<NDArray> out = new ArrayList<>();
        long at = 0;
        for (long s : sizes) {
            out.add(narrow(dd, at, s));
            at += s;
        }
        return out;
    }

    /** Views of pieces of dim d of size {@code size} each (the last may be smaller); one empty piece for an empty dim. */
    public List<NDArray> split(long size, int d) {
        checkOpen("split");
        int dd = Shapes.normalizeDim("split", d, dim());
        requireDims("split");
        if (size <= 0) throw new IllegalArgumentException("split: size must be positive, got " + size);
        List<NDArray> out = new ArrayList<>();
        if (shape[dd] == 0) out.add(narrow(dd, 0, 0));
        for (long at = 0; at < shape[dd]; at += size) out.add(narrow(dd, at, Math.min(size, shape[dd] - at)));
        return out;
    }

    public List<NDArray> chunk(int chunks, int d) {
        checkOpen("chunk");
        int dd = Shapes.normalizeDim("chunk", d, dim());
        requireDims("chunk");
        if (chunks <= 0) throw new IllegalArgumentException("chunk: chunks must be positive, got " + chunks);
        long size = shape[dd] / chunks + (shape[dd] % chunks == 0 ? 0 : 1); // no "+ chunks - 1": a huge dim must not overflow
        return split(Math.max(size, 1), dd);
    }

    // ------------------------------------------------------------------ elementwise

    public NDArray add(NDArray o) { return binary(BinaryOp.ADD, o); }
    public NDArray sub(NDArray o) { return binary(BinaryOp.SUB, o); }
    public NDArray mul(NDArray o) { return binary(BinaryOp.MUL, o); }
    public NDArray div(NDArray o) { return binary(BinaryOp.DIV, o); }
    public NDArray pow(NDArray o) { return binary(BinaryOp.POW, o); }
    public NDArray maximum(NDArray o) { return binary(BinaryOp.MAXIMUM, o); }
    public NDArray minimum(NDArray o) { return binary(BinaryOp.MINIMUM, o); }
    public NDArray eq(NDArray o) { return binary(BinaryOp.EQ, o); }
    public NDArray ne(NDArray o) { return binary(BinaryOp.NE, o); }
    public NDArray lt(NDArray o) { return binary(BinaryOp.LT, o); }
    public NDArray le(NDArray o) { return binary(BinaryOp.LE, o); }
    public NDArray gt(NDArray o) { return binary(BinaryOp.GT, o); }
    public NDArray ge(NDArray o) { return binary(BinaryOp.GE, o); }
    public NDArray logicalAnd(NDArray o) { return binary("logicalAnd", BinaryOp.LOGICAL_AND, o); }
    public NDArray logicalOr(NDArray o) { return binary("logicalOr", BinaryOp.LOGICAL_OR, o); }
    public NDArray logicalXor(NDArray o) { return binary("logicalXor", BinaryOp.LOGICAL_XOR, o); }

    public NDArray add(double s) { return scalarOp("add", UnaryOp.ADD_SCALAR, s); }
    public NDArray sub(double s) { return scalarOp("sub", UnaryOp.ADD_SCALAR, -s); }
    public NDArray mul(double s) { return scalarOp("mul", UnaryOp.MUL_SCALAR, s); }

    /**
     * this / s, correctly rounded in the result dtype as PyTorch's true division is (a multiplication by the
     * rounded reciprocal is off by one ulp for about half of all byte values over 255). Like PyTorch, the scalar
     * becomes a zero-dimensional operand of the binary division: F32 for an integer array, else this dtype.
     */
    public NDArray div(double s) {
        checkOpen("div");
        try (NDArray divisor = scalar(s, dtype.isFloating() ? dtype : DType.F32, device())) {
            return binary("div", BinaryOp.DIV, divisor);
        }
    }

    /** s - this. */
    public NDArray rsub(double s) { return scalarOp("rsub", UnaryOp.RSUB_SCALAR, s); }
    /** s / this. */
    public NDArray rdiv(double s) { return floatScalarOp("rdiv", UnaryOp.RDIV_SCALAR, s); }
    /** this^e; an integer array with a fractional exponent is computed in F32 (PyTorch promotes it too). */
    public NDArray pow(double e) {
        if (!dtype.isFloating() && e != Math.rint(e)) return floatUnary("pow", UnaryOp.POW, e, 0);
        return unary("pow", UnaryOp.POW, e, 0);
    }

    public NDArray eq(double s) { return compareScalar(BinaryOp.EQ, s); }
    public NDArray ne(double s) { return compareScalar(BinaryOp.NE, s); }
    public NDArray lt(double s) { return compareScalar(BinaryOp.LT, s); }
    public NDArray le(double s) { return compareScalar(BinaryOp.LE, s); }
    public NDArray gt(double s) { return compareScalar(BinaryOp.GT, s); }
    public NDArray ge(double s) { return compareScalar(BinaryOp.GE, s); }

    public NDArray neg() { return unary(UnaryOp.NEG, 0, 0); }
    public NDArray abs() { return unary(UnaryOp.ABS, 0, 0); }
    public NDArray sign() { return unary(UnaryOp.SIGN, 0, 0); }
    public NDArray exp() { return floatUnary(UnaryOp.EXP); }
    public NDArray log() { return floatUnary(UnaryOp.LOG); }
    public NDArray log1p() { return floatUnary(UnaryOp.LOG1P); }
    public NDArray expm1() { return floatUnary(UnaryOp.EXPM1); }
    public NDArray sqrt() { return floatUnary(UnaryOp.SQRT); }
    public NDArray rsqrt() { return floatUnary(UnaryOp.RSQRT); }
    public NDArray reciprocal() { return floatUnary(UnaryOp.RECIPROCAL); }
    public NDArray square() { return unary(UnaryOp.SQUARE, 0, 0); }
    public NDArray sin() { return floatUnary(UnaryOp.SIN); }
    public NDArray cos() { return floatUnary(UnaryOp.COS); }
    public NDArray tanh() { return floatUnary(UnaryOp.TANH); }
    public NDArray sigmoid() { return floatUnary(UnaryOp.SIGMOID); }
    public NDArray relu() { return unary(UnaryOp.RELU, 0, 0); }
    public NDArray leakyRelu(double slope) { return floatUnary("leakyRelu", UnaryOp.LEAKY_RELU, slope, 0); }
    public NDArray elu(double alpha) { return floatUnary(UnaryOp.ELU, alpha, 0); }
    /** GELU, exact (erf) form as PyTorch's default. */
    public NDArray gelu() { return floatUnary(UnaryOp.GELU); }
    public NDArray floor() { return unary(UnaryOp.FLOOR, 0, 0); }
    public NDArray ceil() { return unary(UnaryOp.CEIL, 0, 0); }
    public NDArray round() { return unary(UnaryOp.ROUND, 0, 0); }
    public NDArray isnan() { return boolUnary("isnan", UnaryOp.ISNAN); }
    /** 1 where an element is +-inf or NaN. */
    public NDArray isNonFinite() { return boolUnary("isNonFinite", UnaryOp.NONFINITE); }
    public NDArray logicalNot() { return boolUnary("logicalNot", UnaryOp.LOGICAL_NOT); }

    /** Clamps into [min, max]; pass NaN for an unbounded side. */
    public NDArray clamp(double min, double max) { return unary(UnaryOp.CLAMP, min, max); }

    /** cond ? a : b, broadcast, with a and b promoted to one dtype. */
    public static NDArray where(NDArray cond, NDArray a, NDArray b) {
        requireSameDevice("where", cond, a, b);
        DType dt = promoteOperands(a, b);
        long[] sh = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
        try (NDArray c = cond.to(DType.BOOL); NDArray ce = c.expand(sh);
             NDArray ac = a.to(dt); NDArray ae = ac.expand(sh);
             NDArray bc = b.to(dt); NDArray be = bc.expand(sh)) {
            NDArray out = allocate("where", dt, a.device(), sh);
            return runInto(out, () -> out.backend().where(ce, ae, be, out));
        }
    }

    /** out = op(this) with op-specific parameters; the dtype is kept. */
    public NDArray unary(UnaryOp op, double p1, double p2) { return unary(op.name().toLowerCase(), op, p1, p2); }

    /**
     * The primitive behind every one-input op, failing under {@code name}: the op the user called, which may differ
     * from the primitive (sub(s) is ADD_SCALAR of -s). Composed ops pass their own name down instead of calling
     * another public op, so that a message never names an op the user did not call.
     */
    private NDArray unary(String name, UnaryOp op, double p1, double p2) {
        checkOpen(name);
        NDArray out = allocate(name, dtype, device(), shape);
        // holding(), written out: the hot path of every one-input op, where two lambdas cost a tenth of a tiny op
        try {
            retainFor(name);
            try {
                backend().unary(op, this, out, p1, p2);
            } finally {
                storage.release();
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    private NDArray floatUnary(UnaryOp op) { return floatUnary(op.name().toLowerCase(), op, 0, 0); }

    private NDArray floatUnary(UnaryOp op, double p1, double p2) { return floatUnary(op.name().toLowerCase(), op, p1, p2); }

    private NDArray floatUnary(String name, UnaryOp op, double p1, double p2) {
        checkOpen(name);
        if (dtype.isFloating()) return unary(name, op, p1, p2);
        try (NDArray f = to(DType.F32)) {
            return f.unary(name, op, p1, p2);
        }
    }

    private NDArray boolUnary(String name, UnaryOp op) {
        checkOpen(name);
        NDArray out = allocate(name, DType.BOOL, device(), shape);
        return runInto(out, () -> holding(name, () -> backend().unary(op, this, out, 0, 0), this));
    }

    private NDArray scalarOp(String name, UnaryOp op, double s) {
        checkOpen(name);
        DType.Category cat = s == Math.rint(s) && !Double.isInfinite(s) ? DType.Category.INTEGER : DType.Category.FLOATING;
        DType dt = DType.resultType(dtype, null, cat);
        if (dt == dtype) return unary(name, op, s, 0);
        try (NDArray c = to(dt)) {
            return c.unary(name, op, s, 0);
        }
    }

    private NDArray floatScalarOp(String name, UnaryOp op, double s) { return floatUnary(name, op, s, 0); }

    private NDArray compareScalar(BinaryOp op, double s) {
        String name = op.name().toLowerCase();
        checkOpen(name);
        try (NDArray sc = scalar(s, dtype.isFloating() || s != Math.rint(s) ? (dtype.isFloating() ? dtype : DType.F32) : dtype, device())) {
            return binary(name, op, sc);
        }
    }

    /**
     * this op o elementwise with broadcasting and promotion; public for the fused gradient helpers
     * ({@link BinaryOp#RELU_BACKWARD} and the like) that autograd calls.
     */
    public NDArray binary(BinaryOp op, NDArray o) { return binary(op.name().toLowerCase(), op, o); }

    private NDArray binary(String name, BinaryOp op, NDArray o) {
        checkOpen(name);
        o.checkOpen(name);
        requireSameDevice(name, this, o);
        DType common = promoteOperands(this, o);
        if (op == BinaryOp.DIV && !common.isFloating()) common = DType.F32;
        long[] sh = Shapes.broadcast(name, shape, o.shape);
        DType outType = op.isComparison() ? DType.BOOL : common;
        if (dtype == common && o.dtype == common && Arrays.equals(shape, sh) && Arrays.equals(o.shape, sh)) {
            // already in the backend's form: hold the two arrays instead of making four views of them (a third of
            // the time of an op on a few elements went into making and closing those views)
            NDArray out = allocate(name, outType, device(), sh);
            return runInto(out, () -> holding(name, () -> backend().binary(op, this, o, out), this, o));
        }
        try (NDArray a = to(common); NDArray ae = a.expand(sh); NDArray b = o.to(common); NDArray be = b.expand(sh)) {
            NDArray out = allocate(name, outType, device(), sh);
            return runInto(out, () -> backend().binary(op, ae, be, out));
        }
    }

    /** The dtype PyTorch would compute a binary op of a and b in. */
    public static DType promoteOperands(NDArray a, NDArray b) {
        DType dimT = null, zeroT = null;
        for (NDArray x : new NDArray[] {a, b}) {
            if (x.dim() > 0) dimT = dimT == null ? x.dtype : DType.promote(dimT, x.dtype);
            else zeroT = zeroT == null ? x.dtype : DType.promote(zeroT, x.dtype);
        }
        return DType.resultType(dimT, zeroT, null);
    }

    static void requireSameDevice(String op, NDArray... arrays) {
        Device d = arrays[0].device();
        for (NDArray a : arrays) {
            a.checkOpen(op);
            if (!a.device().equals(d)) {
                throw new IllegalArgumentException(op + ": expected all arrays on one device, got " + d + " and " + a.device());
            }
        }
    }

    // ------------------------------------------------------------------ in place (for optimizers and accumulation)

    /** this += alpha * o (o broadcast to this shape); returns this. */
    public NDArray addInPlace(NDArray o, double alpha) { return addInPlace("addInPlace", o, alpha); }

    private NDArray addInPlace(String name, NDArray o, double alpha) {
        checkInPlace(name, o);
        return OpErrors.as(name, () -> {
            try (NDArray scaled = alpha == 1 ? o.share() : o.mul(alpha); NDArray sum = add(scaled)) {
                return writeFrom(name, sum, true);
            }
        });
    }

    public NDArray addInPlace(NDArray o) { return addInPlace(o, 1); }

    public NDArray mulInPlace(double s) {
        checkInPlace("mulInPlace", null);
        try (NDArray r = mul(s)) {
            return writeFrom("mulInPlace", r, true);
        }
    }

    public NDArray mulInPlace(NDArray o) {
        checkInPlace("mulInPlace", o);
        try (NDArray r = mul(o)) {
            return writeFrom("mulInPlace", r, true);
        }
    }

    public NDArray subInPlace(NDArray o) { return addInPlace("subInPlace", o, -1); }

    public NDArray divInPlace(NDArray o) {
        checkInPlace("divInPlace", o);
        try (NDArray r = div(o)) {
            return writeFrom("divInPlace", r, true);
        }
    }

    public NDArray addInPlace(double s) {
        checkInPlace("addInPlace", null);
        try (NDArray r = add(s)) {
            return writeFrom("addInPlace", r, true);
        }
    }

    /** Copies (with broadcasting and casting) src into this array's elements; returns this. */
    public NDArray copyFrom(NDArray src) { return writeFrom("copyFrom", src, false); }

    public NDArray fill(double value) { return fill("fill", value); }

    private NDArray fill(String name, double value) {
        checkOpen(name);
        checkWritable(name);
        holding(name, () -> backend().fill(this, value), this);
        return this;
    }

    /** Fails before any work when an in-place op could not store its result in this array. */
    private void checkInPlace(String op, NDArray o) {
        checkOpen(op);
        checkWritable(op);
        if (o == null) return;
        requireSameDevice(op, this, o);
        long[] sh = Shapes.broadcast(op, shape, o.shape);
        if (!Arrays.equals(sh, shape)) {
            throw new IllegalArgumentException(op + ": the result of shape " + Arrays.toString(sh) + " does not fit into this array of shape "
                    + Arrays.toString(shape) + " (operand " + Arrays.toString(o.shape) + ")");
        }
    }

    /**
     * Writing one memory location through several elements (an expanded dim) would give a result that depends on the
     * order of the writes; like PyTorch, refuse it.
     */
    private void checkWritable(String op) {
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > 1 && strides[i] == 0) {
                throw new IllegalStateException(op + ": cannot write into an array whose elements share memory (dim " + i + " of shape "
                        + Arrays.toString(shape) + " has stride 0, e.g. from expand); write into a copy() instead");
            }
        }
    }

    /**
     * Writes src, broadcast, into this array. A src that overlaps this array's memory in another layout is copied
     * first, so that no element is read after it was overwritten. {@code result} says that src is the computed
     * result of an in-place op, which must not be narrowed into this dtype as PyTorch's can_cast forbids.
     */
    private NDArray writeFrom(String op, NDArray src, boolean result) {
        checkOpen(op);
        requireSameDevice(op, this, src);
        checkWritable(op);
        if (!broadcastsTo(src.shape, shape)) {
            throw new IllegalArgumentException(op + ": cannot expand the source of shape " + Arrays.toString(src.shape)
                    + " to this array's shape " + Arrays.toString(shape));
        }
        if (result && !canCast(src.dtype, dtype)) {
            throw new IllegalArgumentException(op + ": the result type " + src.dtype + " cannot be stored in this array of type " + dtype);
        }
        try (NDArray from = overlapsInAnotherLayout(src) ? src.copy() : src.share(); NDArray e = from.expand(shape)) {
            holding(op, () -> backend().copy(e, this), this);
        }
        return this;
    }

    /** Whether an array of shape from can be expanded to shape to (sizes equal or 1, aligned at the right). */
    private static boolean broadcastsTo(long[] from, long[] to) {
        if (from.length > to.length) return false;
        for (int i = 1; i <= from.length; i++) {
            long f = from[from.length - i];
            if (f != 1 && f != to[to.length - i]) return false;
        }
        return true;
    }

    /** PyTorch's can_cast: no floating to integral or bool, no integral to bool. */
    private static boolean canCast(DType from, DType to) {
        return from.category().compareTo(to.category()) <= 0;
    }

    private boolean overlapsInAnotherLayout(NDArray o) {
        if (o.storage != storage) return false;
        if (o.offset == offset && Arrays.equals(o.shape, shape) && Arrays.equals(o.strides, strides) && o.dtype == dtype) return false;
        long[] mine = elementRange(), theirs = o.elementRange();
        return mine != null && theirs != null && mine[0] <= theirs[1] && theirs[0] <= mine[1];
    }

    /** The lowest and highest storage element this view reaches, or null when it has no elements. */
    private long[] elementRange() {
        long lo = offset, hi = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0) return null;
            long reach = (shape[i] - 1) * strides[i]; // fits: checked when the view was made
            if (reach < 0) lo += reach;
            else hi += reach;
        }
        return new long[] {lo, hi};
    }

    public NDArray zero() { return fill("zero", 0); }

    // ------------------------------------------------------------------ reductions

    public NDArray sum() { return reduce(ReduceOp.SUM, allDims(), false, "sum"); }
    public NDArray sum(int dim, boolean keepDim) { return reduce(ReduceOp.SUM, new int[] {dim}, keepDim, "sum"); }
    public NDArray sum(int[] dims, boolean keepDim) { return reduce(ReduceOp.SUM, dims, keepDim, "sum"); }
    public NDArray prod(int dim, boolean keepDim) { return reduce(ReduceOp.PROD, new int[] {dim}, keepDim, "prod"); }
    public NDArray any() { return reduce(ReduceOp.ANY, allDims(), false, "any"); }
    public NDArray all() { return reduce(ReduceOp.ALL, allDims(), false, "all"); }
    public NDArray max() { return reduce(ReduceOp.MAX, allDims(), false, "max"); }
    public NDArray min() { return reduce(ReduceOp.MIN, allDims(), false, "min"); }
    public NDArray amax(int[] dims, boolean keepDim) { return reduce(ReduceOp.MAX, dims, keepDim, "amax"); }
    public NDArray amin(int[] dims, boolean keepDim) { return reduce(ReduceOp.MIN, dims, keepDim, "amin"); }
    public NDArray argmax(int dim, boolean keepDim) { return reduce(ReduceOp.ARGMAX, new int[] {dim}, keepDim, "argmax"); }
    public NDArray argmin(int dim, boolean keepDim) { return reduce(ReduceOp.ARGMIN, new int[] {dim}, keepDim, "argmin"); }
    public NDArray logsumexp(int dim, boolean keepDim) { return reduce(ReduceOp.LOGSUMEXP, new int[] {dim}, keepDim, "logsumexp"); }
    public NDArray logsumexp(int[] dims, boolean keepDim) { return reduce(ReduceOp.LOGSUMEXP, dims, keepDim, "logsumexp"); }

    /** Values and their indices along one dim. */
    public record ValuesIndices(NDArray values, NDArray indices) implements AutoCloseable {
        @Override public void close() {
            values.close();
            indices.close();
        }
    }

    public ValuesIndices max(int dim, boolean keepDim) { return extremeWithIndex(ReduceOp.MAX, dim, keepDim); }
    public ValuesIndices min(int dim, boolean keepDim) { return extremeWithIndex(ReduceOp.MIN, dim, keepDim); }

    private ValuesIndices extremeWithIndex(ReduceOp op, int dim, boolean keepDim) {
        String name = op.name().toLowerCase();
        checkOpen(name);
        int d = Shapes.normalizeDim(name, dim, dim());
        if (dim() > 0 && shape[d] == 0) throw new IllegalArgumentException(name + ": cannot reduce an empty dim " + d);
        // a zero-dimensional array is its own extreme, at index 0 (PyTorch): there is no dim to keep
        long[] kept = dim() == 0 ? new long[0] : keptShape(new int[] {d});
        NDArray values = allocate(name, dtype, device(), kept);
        NDArray idx;
        try {
            idx = runInto(allocate(name, DType.I64, device(), kept),
                    i -> holding(name, () -> backend().reduce(op, this, dim() == 0 ? new int[0] : new int[] {d}, values, i), this));
        } catch (RuntimeException | Error e) {
            values.close();
            throw e;
        }
        if (keepDim || dim() == 0) return new ValuesIndices(values, idx);
        try (values; idx) {
            return new ValuesIndices(values.squeeze(d), idx.squeeze(d));
        }
    }

    public NDArray mean() { return mean(allDims(), false); }
    public NDArray mean(int dim, boolean keepDim) { return mean(new int[] {dim}, keepDim); }

    public NDArray mean(int[] dims, boolean keepDim) {
        checkOpen("mean");
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("mean: expected a floating dtype, got " + dtype + "; convert with to(DType.F32)");
        }
        long n = countOver(dims, "mean");
        try (NDArray s = reduce(ReduceOp.SUM, dims, keepDim, "mean")) {
            return s.scalarOp("mean", UnaryOp.MUL_SCALAR, 1.0 / n);
        }
    }

    /** Variance with Bessel's correction {@code correction} (1 = unbiased, PyTorch's default). */
    public NDArray var(int[] dims, boolean keepDim, int correction) {
        checkOpen("var");
        if (!dtype.isFloating()) throw new IllegalArgumentException("var: expected a floating dtype, got " + dtype);
        long n = countOver(dims, "var");
        return OpErrors.as("var", () -> {
            try (NDArray m = mean(dims, true); NDArray d = sub(m); NDArray sq = d.square(); NDArray s = sq.sum(dims, keepDim)) {
                return s.mul(1.0 / Math.max(n - correction, 0));
            }
        });
    }

    public NDArray var(int dim, boolean keepDim) { return var(new int[] {dim}, keepDim, 1); }

    public NDArray std(int[] dims, boolean keepDim, int correction) {
        checkOpen("std");
        if (!dtype.isFloating()) throw new IllegalArgumentException("std: expected a floating dtype, got " + dtype);
        normalizeDims("std", dims);
        return OpErrors.as("std", () -> {
            try (NDArray v = var(dims, keepDim, correction)) {
                return v.sqrt();
            }
        });
    }

    public NDArray std(int dim, boolean keepDim) { return std(new int[] {dim}, keepDim, 1); }

    /** The p-norm over dims: p > 0, or +-infinity for the largest or smallest magnitude. */
    public NDArray norm(double p, int[] dims, boolean keepDim) {
        checkOpen("norm");
        if (!dtype.isFloating()) throw new IllegalArgumentException("norm: expected a floating dtype, got " + dtype);
        // p = 0 (a count of non-zeros in PyTorch) and other p <= 0 would silently give something else through pow.
        if (!(p > 0) && p != Double.NEGATIVE_INFINITY) throw new IllegalArgumentException("norm: expected p > 0 or +-infinity, got " + p);
        normalizeDims("norm", dims);
        return OpErrors.as("norm", () -> normOf(p, dims, keepDim));
    }

    private NDArray normOf(double p, int[] dims, boolean keepDim) {
        try (NDArray a = abs()) {
            if (p == Double.POSITIVE_INFINITY) return a.amax(dims, keepDim);
            if (p == Double.NEGATIVE_INFINITY) return a.amin(dims, keepDim);
            if (p == 1) return a.sum(dims, keepDim);
            if (p == 2) {
                try (NDArray sq = a.square(); NDArray s = sq.sum(dims, keepDim)) {
                    return s.sqrt();
                }
            }
            try (NDArray pw = a.pow(p); NDArray s = pw.sum(dims, keepDim)) {
                return s.pow(1.0 / p);
            }
        }
    }

    /** The Euclidean norm of all elements. */
    public NDArray norm() { return norm(2, allDims(), false); }

    private long countOver(int[] dims, String op) {
        long n = 1;
        for (int d : normalizeDims(op, dims)) n *= shape[d];
        return n;
    }

    private int[] allDims() {
        int[] d = new int[dim()];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return d;
    }

    private int[] normalizeDims(String op, int[] dims) {
        if (dim() == 0) { // a scalar accepts dim 0 and -1, and reduces over nothing
            for (int d : dims) Shapes.normalizeDim(op, d, 0);
            return new int[0];
        }
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) out[i] = Shapes.normalizeDim(op, dims[i], dim());
        Arrays.sort(out);
        for (int i = 1; i < out.length; i++) {
            if (out[i] == out[i - 1]) throw new IllegalArgumentException(op + ": dim " + out[i] + " appears twice in " + Arrays.toString(dims));
        }
        return out;
    }

    private long[] keptShape(int[] sortedDims) {
        long[] k = shape.clone();
        for (int d : sortedDims) k[d] = 1;
        return k;
    }

    private NDArray reduce(ReduceOp op, int[] dims, boolean keepDim, String name) {
        checkOpen(name);
        int[] d = normalizeDims(name, dims);
        DType outType = switch (op) {
            case SUM, PROD -> dtype.isFloating() ? dtype : DType.I64;
            case ARGMAX, ARGMIN -> DType.I64;
            case ANY, ALL -> DType.BOOL;
            case LOGSUMEXP -> dtype.isFloating() ? dtype : DType.F32;
            default -> dtype;
        };
        // an extreme of nothing is undefined; reducing a non-empty dim of an empty array gives an empty result (PyTorch)
        boolean emptyGroups = numel() == 0 && (dim() == 0 || Arrays.stream(d).anyMatch(k -> shape[k] == 0));
        if ((op == ReduceOp.MAX || op == ReduceOp.MIN || op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN) && emptyGroups) {
            throw new IllegalArgumentException(name + ": cannot reduce an empty array of shape " + Arrays.toString(shape));
        }
        NDArray src = op == ReduceOp.LOGSUMEXP && !dtype.isFloating() ? to(DType.F32) : share();
        try (src) {
            NDArray out = runInto(allocate(name, outType, device(), keptShape(d)), o -> backend().reduce(op, src, d, o, null));
            if (keepDim) return out;
            try (out) {
                long[] sq = new long[dim() - d.length];
                int j = 0;
                for (int i = 0, k = 0; i < dim(); i++) {
                    if (k < d.length && d[k] == i) k++;
                    else sq[j++] = shape[i];
                }
                return out.reshape(sq);
            }
        }
    }

    // ------------------------------------------------------------------ linear algebra

    /** torch.matmul: 1-D and 2-D products, and batched products with broadcast batch dims. */
    public NDArray matmul(NDArray o) {
        checkOpen("matmul");
        requireSameDevice("matmul", this, o);
        if (dim() == 0 || o.dim() == 0) {
            throw new IllegalArgumentException("matmul: both arguments need at least 1 dim, got " + Arrays.toString(shape)
                    + " and " + Arrays.toString(o.shape));
        }
        DType dt = promoteOperands(this, o);
        if (!dt.isFloating()) throw new IllegalArgumentException("matmul: expected floating dtypes, got " + dtype + " and " + o.dtype);
        try (NDArray a0 = to(dt); NDArray b0 = o.to(dt);
             NDArray a = a0.dim() == 1 ? a0.unsqueeze(0) : a0.share();
             NDArray b = b0.dim() == 1 ? b0.unsqueeze(1) : b0.share()) {
            long m = a.shape[a.dim() - 2], k = a.shape[a.dim() - 1];
            long k2 = b.shape[b.dim() - 2], n = b.shape[b.dim() - 1];
            if (k != k2) {
                throw new IllegalArgumentException("matmul: inner dims differ: " + Arrays.toString(shape) + " @ " + Arrays.toString(o.shape)
                        + " (" + k + " vs " + k2 + ")");
            }
            long[] batchA = Arrays.copyOf(a.shape, a.dim() - 2), batchB = Arrays.copyOf(b.shape, b.dim() - 2);
            long[] batch;
            try {
                batch = Shapes.broadcast("matmul", batchA, batchB);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("matmul: batch dims " + Arrays.toString(batchA) + " and " + Arrays.toString(batchB)
                        + " of " + Arrays.toString(shape) + " @ " + Arrays.toString(o.shape) + " cannot be broadcast", e);
            }
            long bn = Shapes.numel(batch);
            NDArray out3;
            if (b.dim() == 2 && batch.length > 0) {
                // Weight-style right operand: fold the batch into the rows instead of repeating the matrix.
                try (NDArray a2 = a.reshape(bn * m, k); NDArray a3 = a2.unsqueeze(0); NDArray b3 = b.unsqueeze(0)) {
                    out3 = runInto(allocate("matmul", dt, device(), new long[] {1, bn * m, n}), r -> matmulInto(a3, b3, r));
                }
            } else {
                long[] fullA = concat(batch, m, k), fullB = concat(batch, k, n);
                try (NDArray ae = a.expand(fullA); NDArray be = b.expand(fullB);
                     NDArray a3 = ae.reshape(bn, m, k); NDArray b3 = be.reshape(bn, k, n)) {
                    out3 = runInto(allocate("matmul", dt, device(), new long[] {bn, m, n}), r -> matmulInto(a3, b3, r));
                }
            }
            try (out3) {
                List<Long> outShape = new ArrayList<>();
                for (long s : batch) outShape.add(s);
                if (dim() > 1) outShape.add(m);
                if (o.dim() > 1) outShape.add(n);
                return out3.reshape(outShape.stream().mapToLong(Long::longValue).toArray());
            }
        }
    }

    /** The product into r; nothing to compute when r has no elements (a huge M or batch with N = 0 is no work). */
    private static void matmulInto(NDArray a3, NDArray b3, NDArray r) {
        if (r.numel() != 0) r.backend().matmul(a3, b3, r);
    }

    private static long[] concat(long[] head, long... tail) {
        long[] r = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, r, head.length, tail.length);
        return r;
    }

    // ------------------------------------------------------------------ convolution and pooling

    public static NDArray conv2d(NDArray x, NDArray w, NDArray bias, ConvParams p) {
        if (bias == null) requireSameDevice("conv2d", x, w);
        else requireSameDevice("conv2d", x, w, bias);
        if (x.dim() != 4) throw new IllegalArgumentException("conv2d: expected input [N,C,H,W], got " + Arrays.toString(x.shape));
        if (w.dim() != 4) throw new IllegalArgumentException("conv2d: expected weight [O,C/groups,KH,KW], got " + Arrays.toString(w.shape));
        if (x.shape[1] != w.shape[1] * p.groups()) {
            throw new IllegalArgumentException("conv2d: input has " + x.shape[1] + " channels but weight " + Arrays.toString(w.shape)
                    + " with groups=" + p.groups() + " expects " + w.shape[1] * p.groups());
        }
        if (w.shape[0] % p.groups() != 0) {
            throw new IllegalArgumentException("conv2d: out channels " + w.shape[0] + " not divisible by groups " + p.groups());
        }
        if (x.dtype != w.dtype) throw new IllegalArgumentException("conv2d: input is " + x.dtype + " but weight is " + w.dtype);
        if (!x.dtype.isFloating()) throw new IllegalArgumentException("conv2d: expected a floating dtype, got " + x.dtype);
        if (w.shape[2] > Integer.MAX_VALUE || w.shape[3] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("conv2d: expected kernel sizes below 2^31, got " + w.shape[2] + "x" + w.shape[3]);
        }
        if (bias != null && (bias.dim() != 1 || bias.shape[0] != w.shape[0])) {
            throw new IllegalArgumentException("conv2d: expected bias of shape [" + w.shape[0] + "], got " + Arrays.toString(bias.shape));
        }
        long oh = ConvParams.outSize(x.shape[2], (int) w.shape[2], p.strideH(), p.padH(), p.dilationH());
        long ow = ConvParams.outSize(x.shape[3], (int) w.shape[3], p.strideW(), p.padW(), p.dilationW());
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("conv2d: kernel " + w.shape[2] + "x" + w.shape[3] + " does not fit input "
                    + x.shape[2] + "x" + x.shape[3] + " with padding " + p.padH() + "x" + p.padW());
        }
        NDArray out = runInto(allocate("conv2d", x.dtype, x.device(), new long[] {x.shape[0], w.shape[0], oh, ow}),
                o -> holding("conv2d", () -> x.backend().conv2d(x, w, o, p), x, w));
        if (bias == null) return out;
        try (out; NDArray b = bias.reshape(1, w.shape[0], 1, 1)) {
            return out.add(b);
        }
    }

    public static NDArray conv2dBackwardInput(NDArray gradOut, NDArray w, long[] inputShape, ConvParams p) {
        requireSameDevice("conv2dBackwardInput", gradOut, w);
        NDArray gi = filled("conv2dBackwardInput", 0, gradOut.dtype, gradOut.device(), inputShape);
        return runInto(gi, () -> holding("conv2dBackwardInput", () -> gradOut.backend().conv2dBackwardInput(gradOut, w, gi, p), gradOut, w));
    }

    public static NDArray conv2dBackwardWeight(NDArray x, NDArray gradOut, long[] weightShape, ConvParams p) {
        requireSameDevice("conv2dBackwardWeight", x, gradOut);
        NDArray gw = filled("conv2dBackwardWeight", 0, x.dtype, x.device(), weightShape);
        return runInto(gw, () -> holding("conv2dBackwardWeight", () -> x.backend().conv2dBackwardWeight(x, gradOut, gw, p), x, gradOut));
    }

    /** Runs a kernel that fills out and returns out; closes out when the kernel rejects its arguments. */
    private static NDArray runInto(NDArray out, Runnable kernel) {
        try {
            kernel.run();
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    private static NDArray runInto(NDArray out, java.util.function.Consumer<NDArray> kernel) {
        return runInto(out, () -> kernel.accept(out));
    }

    /**
     * Runs allocateAndRun, which fills outs (any entry may stay null) and launches the kernel that writes them, and
     * returns outs; if anything in it fails, every array it allocated is closed before the failure goes on.
     */
    private static NDArray[] runIntoAll(NDArray[] outs, Runnable allocateAndRun) {
        try {
            allocateAndRun.run();
            return outs;
        } catch (RuntimeException | Error e) {
            for (NDArray a : outs) if (a != null) a.close();
            throw e;
        }
    }

    /** Max pooling with the index (h*W+w within its plane) of each maximum. */
    public ValuesIndices maxPool2d(int kH, int kW, ConvParams p) {
        checkPoolInput("maxPool2d", kH, kW, p, p.dilationH(), p.dilationW());
        long oh = ConvParams.outSize(shape[2], kH, p.strideH(), p.padH(), p.dilationH());
        long ow = ConvParams.outSize(shape[3], kW, p.strideW(), p.padW(), p.dilationW());
        long[] outShape = {shape[0], shape[1], oh, ow};
        NDArray out = allocate("maxPool2d", dtype, device(), outShape);
        try {
            NDArray idx = runInto(allocate("maxPool2d", DType.I64, device(), outShape), i -> holding("maxPool2d", () -> backend().maxPool2d(this, kH, kW, p, out, i), this));
            return new ValuesIndices(out, idx);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    public static NDArray maxPool2dBackward(NDArray gradOut, NDArray indices, long[] inputShape) {
        requireSameDevice("maxPool2dBackward", gradOut, indices);
        requireFloatingGradient("maxPool2dBackward", gradOut);
        NDArray gi = filled("maxPool2dBackward", 0, gradOut.dtype, gradOut.device(), inputShape);
        return runInto(gi, () -> holding("maxPool2dBackward", () -> gradOut.backend().maxPool2dBackward(gradOut, indices, gi), gradOut, indices));
    }

    public NDArray avgPool2d(int kH, int kW, ConvParams p, boolean countIncludePad) {
        checkPoolInput("avgPool2d", kH, kW, p, 1, 1); // average pooling has no dilation: the params' is not used
        long oh = ConvParams.outSize(shape[2], kH, p.strideH(), p.padH(), 1);
        long ow = ConvParams.outSize(shape[3], kW, p.strideW(), p.padW(), 1);
        NDArray out = allocate("avgPool2d", dtype, device(), new long[] {shape[0], shape[1], oh, ow});
        return runInto(out, () -> holding("avgPool2d", () -> backend().avgPool2d(this, kH, kW, p, countIncludePad, out), this));
    }

    public static NDArray avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, long[] inputShape) {
        requireSameDevice("avgPool2dBackward", gradOut);
        requireFloatingGradient("avgPool2dBackward", gradOut);
        NDArray gi = filled("avgPool2dBackward", 0, gradOut.dtype, gradOut.device(), inputShape);
        return runInto(gi, () -> holding("avgPool2dBackward", () -> gradOut.backend().avgPool2dBackward(gradOut, kH, kW, p, countIncludePad, gi), gradOut));
    }

    private static void requireFloatingGradient(String op, NDArray gradOut) {
        if (!gradOut.dtype.isFloating()) throw new IllegalArgumentException(op + ": expected a floating gradOut, got " + gradOut.dtype);
    }

    private void checkPoolInput(String op, int kH, int kW, ConvParams p, int dilationH, int dilationW) {
        checkOpen(op);
        if (dim() != 4) throw new IllegalArgumentException(op + ": expected input [N,C,H,W], got " + Arrays.toString(shape));
        if (!dtype.isFloating()) throw new IllegalArgumentException(op + ": expected a floating dtype, got " + dtype);
        // As in PyTorch only the batch may be empty: a window over an empty plane has no element to report.
        if (shape[1] == 0 || shape[2] == 0 || shape[3] == 0) {
            throw new IllegalArgumentException(op + ": expected non-zero channels, height and width, got " + Arrays.toString(shape));
        }
        if (kH < 1 || kW < 1) throw new IllegalArgumentException(op + ": kernel must be >= 1, got " + kH + "x" + kW);
        if (2L * p.padH() > kH || 2L * p.padW() > kW) {
            throw new IllegalArgumentException(op + ": padding " + p.padH() + "x" + p.padW() + " must be at most half the kernel " + kH + "x" + kW);
        }
        if (ConvParams.outSize(shape[2], kH, p.strideH(), p.padH(), dilationH) <= 0
                || ConvParams.outSize(shape[3], kW, p.strideW(), p.padW(), dilationW) <= 0) {
            throw new IllegalArgumentException(op + ": kernel " + kH + "x" + kW + " larger than input " + shape[2] + "x" + shape[3]);
        }
    }

    // ------------------------------------------------------------------ softmax and losses

    public NDArray softmax(int dim) { return softmaxImpl(dim, false); }
    public NDArray logSoftmax(int dim) { return softmaxImpl(dim, true); }

    private NDArray softmaxImpl(int dim, boolean log) {
        String name = log ? "logSoftmax" : "softmax";
        checkOpen(name);
        int d = Shapes.normalizeDim(name, dim, dim());
        NDArray src = dtype.isFloating() ? share() : to(DType.F32);
        try (src) {
            return runInto(allocate(name, src.dtype, device(), shape), o -> backend().softmax(src, dim() == 0 ? 0 : d, log, o));
        }
    }

    public static NDArray softmaxBackward(NDArray y, NDArray gy, int dim, boolean log) {
        requireSameDevice("softmaxBackward", y, gy);
        int d = Shapes.normalizeDim("softmaxBackward", dim, y.dim());
        NDArray gx = allocate("softmaxBackward", y.dtype, y.device(), y.shape);
        return runInto(gx, () -> holding("softmaxBackward", () -> y.backend().softmaxBackward(y, gy, d, log, gx), y, gy));
    }

    // ------------------------------------------------------------------ batch norm

    /**
     * Batch normalisation in training mode over dim 1 of this [N, C, ...] array: {out, mean, var}, out in this
     * (floating) dtype and shape, mean and biased var of shape [C] in F32 (F64 for F64 input), for
     * {@link #batchNormBackward} and running statistics. weight and bias ([C], any dtype) may be null. The caller
     * owns all three arrays.
     */
    public NDArray[] batchNorm(NDArray weight, NDArray bias, double eps) {
        checkOpen("batchNorm");
        long channels = batchNormChannels("batchNorm", shape);
        DType dt = dtype.isFloating() ? dtype : DType.F32;
        DType st = dt == DType.F64 ? DType.F64 : DType.F32;
        try (NDArray cast = to(dt); NDArray xc = cast.contiguous();
             NDArray w = perChannelParam("batchNorm", "weight", weight, xc, channels);
             NDArray b = perChannelParam("batchNorm", "bias", bias, xc, channels)) {
            NDArray[] r = new NDArray[3];
            return runIntoAll(r, () -> {
                r[0] = allocate("batchNorm", dt, device(), shape);
                r[1] = allocate("batchNorm", st, device(), new long[] {channels});
                r[2] = allocate("batchNorm", st, device(), new long[] {channels});
                backend().batchNorm(xc, w, b, eps, r[0], r[1], r[2]);
            });
        }
    }

    /**
     * Gradients of {@link #batchNorm} given its saved mean and var: {gradX, gradWeight, gradBias} in x's dtype,
     * each null where its need flag is false. weight may be null (ones).
     */
    public static NDArray[] batchNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray var, NDArray weight, double eps,
                                              boolean needX, boolean needWeight, boolean needBias) {
        requireSameDevice("batchNormBackward", gradOut, x, mean, var);
        long channels = batchNormChannels("batchNormBackward", x.shape);
        if (!Arrays.equals(gradOut.shape, x.shape)) {
            throw new IllegalArgumentException("batchNormBackward: expected gradOut of shape " + Arrays.toString(x.shape) + ", got " + Arrays.toString(gradOut.shape));
        }
        if (mean.numel() != channels || var.numel() != channels) {
            throw new IllegalArgumentException("batchNormBackward: expected mean and var of " + channels + " channels, got "
                    + Arrays.toString(mean.shape) + " and " + Arrays.toString(var.shape));
        }
        DType dt = x.dtype;
        NDArray[] r = new NDArray[3];
        try (NDArray gCast = gradOut.to(dt); NDArray g = gCast.contiguous(); NDArray xc = x.contiguous();
             NDArray w = perChannelParam("batchNormBackward", "weight", weight, xc, channels);
             NDArray m = savedStatistic(mean, x); NDArray v = savedStatistic(var, x)) {
            return runIntoAll(r, () -> {
                if (needX) r[0] = allocate("batchNormBackward", dt, x.device(), x.shape);
                if (needWeight) r[1] = allocate("batchNormBackward", dt, x.device(), new long[] {channels});
                if (needBias) r[2] = allocate("batchNormBackward", dt, x.device(), new long[] {channels});
                x.backend().batchNormBackward(g, xc, m, v, w, eps, r[0], r[1], r[2]);
            });
        }
    }

    /**
     * A saved statistic (mean, var, rstd) as the kernels read it: contiguous, in the statistics dtype of x (F64 for
     * F64, else F32). The backends index it as a dense vector; a narrowed or transposed view passed straight through
     * was read as if contiguous and gave wrong gradients without an error.
     */
    private static NDArray savedStatistic(NDArray stat, NDArray x) {
        try (NDArray cast = stat.to(x.dtype == DType.F64 ? DType.F64 : DType.F32)) {
            return cast.contiguous();
        }
    }

    private static long batchNormChannels(String op, long[] shape) {
        if (shape.length < 2) throw new IllegalArgumentException(op + ": expected input [N, C, ...], got " + Arrays.toString(shape));
        if (shape[1] > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + shape[1] + " channels are too many");
        return shape[1];
    }

    /** A per-channel weight or bias ([C] elements) as a contiguous array of x's dtype on x's device, or null. */
    private static NDArray perChannelParam(String op, String what, NDArray p, NDArray x, long channels) {
        if (p == null) return null;
        requireSameDevice(op, x, p);
        if (p.numel() != channels) {
            throw new IllegalArgumentException(op + ": expected " + what + " of " + channels + " elements, got " + Arrays.toString(p.shape));
        }
        try (NDArray cast = p.to(x.dtype)) {
            return cast.contiguous();
        }
    }

    // ------------------------------------------------------------------ layer norm

    /**
     * Layer normalisation over the last {@code normalizedSize} elements of each row (the trailing dims whose sizes
     * multiply to it): {out, mean, rstd}, out in x's (floating) dtype and shape, mean and rstd of shape [rows] in F32
     * (F64 for F64 input) for {@link #layerNormBackward}. weight and bias ([normalizedSize] elements, any dtype) may
     * be null. The caller owns all three arrays.
     */
    public NDArray[] layerNorm(int normalizedSize, NDArray weight, NDArray bias, double eps) {
        checkOpen("layerNorm");
        long rows = layerNormRows("layerNorm", shape, normalizedSize);
        DType dt = dtype.isFloating() ? dtype : DType.F32;
        DType st = dt == DType.F64 ? DType.F64 : DType.F32;
        try (NDArray cast = to(dt); NDArray xc = cast.contiguous();
             NDArray w = perChannelParam("layerNorm", "weight", weight, xc, normalizedSize);
             NDArray b = perChannelParam("layerNorm", "bias", bias, xc, normalizedSize)) {
            NDArray[] r = new NDArray[3];
            return runIntoAll(r, () -> {
                r[0] = allocate("layerNorm", dt, device(), shape);
                r[1] = allocate("layerNorm", st, device(), new long[] {rows});
                r[2] = allocate("layerNorm", st, device(), new long[] {rows});
                backend().layerNorm(xc, normalizedSize, w, b, eps, r[0], r[1], r[2]);
            });
        }
    }

    /**
     * Gradients of {@link #layerNorm} given its saved mean and rstd: {gradX, gradWeight, gradBias} in x's dtype,
     * each null where its need flag is false. weight may be null (ones).
     */
    public static NDArray[] layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight,
                                              int normalizedSize, boolean needX, boolean needWeight, boolean needBias) {
        requireSameDevice("layerNormBackward", gradOut, x, mean, rstd);
        long rows = layerNormRows("layerNormBackward", x.shape, normalizedSize);
        if (!Arrays.equals(gradOut.shape, x.shape)) {
            throw new IllegalArgumentException("layerNormBackward: expected gradOut of shape " + Arrays.toString(x.shape) + ", got " + Arrays.toString(gradOut.shape));
        }
        if (mean.numel() != rows || rstd.numel() != rows) {
            throw new IllegalArgumentException("layerNormBackward: expected mean and rstd of " + rows + " rows (one per row of "
                    + normalizedSize + " elements of " + Arrays.toString(x.shape) + "), got " + Arrays.toString(mean.shape)
                    + " and " + Arrays.toString(rstd.shape));
        }
        if (!x.dtype.isFloating()) throw new IllegalArgumentException("layerNormBackward: expected a floating x, got " + x.dtype);
        DType dt = x.dtype;
        NDArray[] r = new NDArray[3];
        try (NDArray gCast = gradOut.to(dt); NDArray g = gCast.contiguous(); NDArray xc = x.contiguous();
             NDArray w = perChannelParam("layerNormBackward", "weight", weight, xc, normalizedSize);
             NDArray m = savedStatistic(mean, x); NDArray rs = savedStatistic(rstd, x)) {
            return runIntoAll(r, () -> {
                if (needX) r[0] = allocate("layerNormBackward", dt, x.device(), x.shape);
                if (needWeight) r[1] = allocate("layerNormBackward", dt, x.device(), new long[] {normalizedSize});
                if (needBias) r[2] = allocate("layerNormBackward", dt, x.device(), new long[] {normalizedSize});
                x.backend().layerNormBackward(g, xc, m, rs, w, r[0], r[1], r[2]);
            });
        }
    }

    private static long layerNormRows(String op, long[] shape, int normalizedSize) {
        long n = Shapes.numel(shape);
        if (normalizedSize < 1 || (n > 0 && n % normalizedSize != 0)) {
            throw new IllegalArgumentException(op + ": normalizedSize " + normalizedSize + " does not divide the input " + Arrays.toString(shape));
        }
        return n / normalizedSize;
    }


    /**
     * Mean cross-entropy of logits [N, C, ...] against integer class indices [N, ...] over the positions whose target
     * is not -100 (PyTorch's cross_entropy with its defaults; NaN when every target is -100).
     */
    public NDArray crossEntropy(NDArray targets) {
        NDArray[] r = crossEntropyPerPosition(targets, -100, 0);
        try (NDArray loss = r[0]; NDArray lse = r[1]; NDArray valid = targets.ne(-100); NDArray count = valid.sum(); NDArray total = loss.sum()) {
            return total.div(count);
        }
    }

    /**
     * Cross-entropy per position of floating logits [N, C, ...] against integer class indices [N, ...] (PyTorch's
     * cross_entropy with reduction "none"): {loss, lse}, both [N, ...]: loss in the logits' dtype, 0 where the target
     * is ignoreIndex; lse (F64 for F64 logits, else F32) each position's log-sum-exp, which
     * {@link #crossEntropyBackward} takes. labelSmoothing in [0, 1] mixes the one-hot target with the uniform
     * distribution over classes. A target outside [0, C) that is not ignoreIndex throws IndexOutOfBoundsException.
     */
    public NDArray[] crossEntropyPerPosition(NDArray targets, long ignoreIndex, double labelSmoothing) {
        checkOpen("crossEntropy");
        checkClassTargets("crossEntropy", targets);
        checkLabelSmoothing("crossEntropy", labelSmoothing);
        DType st = dtype == DType.F64 ? DType.F64 : DType.F32;
        try (NDArray x = contiguous(); NDArray t64 = targets.to(DType.I64); NDArray t = t64.contiguous()) {
            NDArray[] r = new NDArray[2];
            return runIntoAll(r, () -> {
                r[0] = allocate("crossEntropy", dtype, device(), targets.shape);
                r[1] = allocate("crossEntropy", st, device(), targets.shape);
                backend().crossEntropy(x, t, ignoreIndex, labelSmoothing, r[0], r[1]);
            });
        }
    }

    /**
     * Gradient of {@link #crossEntropyPerPosition} with respect to the logits, given the gradient of each position's
     * loss (gradLoss, targets' shape) and the lse it returned; same ignoreIndex and labelSmoothing.
     */
    public static NDArray crossEntropyBackward(NDArray logits, NDArray targets, NDArray lse, NDArray gradLoss, long ignoreIndex,
                                               double labelSmoothing) {
        logits.checkOpen("crossEntropyBackward");
        logits.checkClassTargets("crossEntropyBackward", targets);
        checkLabelSmoothing("crossEntropyBackward", labelSmoothing);
        DType st = logits.dtype == DType.F64 ? DType.F64 : DType.F32;
        for (NDArray a : new NDArray[] {lse, gradLoss}) {
            requireSameDevice("crossEntropyBackward", logits, a);
            if (!Arrays.equals(a.shape, targets.shape)) {
                throw new IllegalArgumentException("crossEntropyBackward: expected lse and gradLoss of shape " + Arrays.toString(targets.shape)
                        + ", got " + Arrays.toString(a.shape));
            }
        }
        if (lse.dtype != st) throw new IllegalArgumentException("crossEntropyBackward: expected lse of " + st + ", got " + lse.dtype);
        try (NDArray x = logits.contiguous(); NDArray t64 = targets.to(DType.I64); NDArray t = t64.contiguous(); NDArray l = lse.contiguous();
             NDArray g0 = gradLoss.to(logits.dtype); NDArray g = g0.contiguous()) {
            // the backend checks the targets as the forward does; its message names the forward
            return OpErrors.as("crossEntropyBackward", () -> runInto(allocate("crossEntropyBackward", logits.dtype, logits.device(), logits.shape),
                    out -> logits.backend().crossEntropyBackward(x, t, l, g, ignoreIndex, labelSmoothing, out)));
        }
    }

    /** Throws unless labelSmoothing is in [0, 1]. */
    public static void checkLabelSmoothing(String op, double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
    }

    /**
     * Checks that this array holds floating scores [N, C, d1...] (C >= 1 unless there are no positions) for integer
     * class indices targets [N, d1...] on the same device.
     */
    public void checkClassTargets(String op, NDArray targets) {
        requireSameDevice(op, this, targets);
        if (dim() < 2) throw new IllegalArgumentException(op + ": expected scores [N, C] or [N, C, ...], got " + Arrays.toString(shape));
        long[] expected = new long[shape.length - 1];
        expected[0] = shape[0];
        System.arraycopy(shape, 2, expected, 1, shape.length - 2);
        if (!Arrays.equals(targets.shape, expected)) {
            throw new IllegalArgumentException(op + ": expected targets of shape " + Arrays.toString(expected) + " for scores "
                    + Arrays.toString(shape) + ", got " + Arrays.toString(targets.shape));
        }
        if (targets.dtype.isFloating() || targets.dtype == DType.BOOL) {
            throw new IllegalArgumentException(op + ": expected integer class indices, got " + targets.dtype);
        }
        if (!dtype.isFloating()) throw new IllegalArgumentException(op + ": expected floating scores, got " + dtype);
        if (shape[1] == 0 && targets.numel() > 0) {
            throw new IllegalArgumentException(op + ": expected at least one class, got scores " + Arrays.toString(shape));
        }
    }

    /** Rows of a one-hot encoding of integer classes in [0, numClasses), I64. */
    public NDArray oneHot(long numClasses) {
        checkOpen("oneHot");
        if (dtype.isFloating() || dtype == DType.BOOL) throw new IllegalArgumentException("oneHot: expected integer class indices, got " + dtype);
        if (numClasses < 0) throw new IllegalArgumentException("oneHot: expected numClasses >= 0, got " + numClasses);
        try (NDArray idx = to(DType.I64); NDArray u = idx.unsqueeze(-1);
             NDArray zero = filled("oneHot", 0, DType.I64, device(), concat(shape, numClasses)); NDArray src = ones(DType.I64, device(), u.shape)) {
            zero.backend().scatterAdd(zero, dim(), u, src);
            return zero.share();
        } catch (IndexOutOfBoundsException e) {
            throw renamed("oneHot", "expected class indices in [0, " + numClasses + ")", e);
        }
    }

    /** A backend's index error restated as the op the user called, keeping the offending value in the message. */
    private static IndexOutOfBoundsException renamed(String op, String expected, IndexOutOfBoundsException e) {
        IndexOutOfBoundsException r = new IndexOutOfBoundsException(op + ": " + expected + ", but " + e.getMessage());
        r.initCause(e);
        return r;
    }

    // ------------------------------------------------------------------ indexing

    /** out[i][j][k] = this[index[i][j][k]][j][k] for dim 0 (and so on): index has this rank, I64. */
    public NDArray gather(int dim, NDArray index) {
        checkOpen("gather");
        int d = Shapes.normalizeDim("gather", dim, dim());
        checkIndex("gather", index, d);
        NDArray out = allocate("gather", dtype, device(), index.shape);
        try (NDArray idx = index.to(DType.I64)) {
            return runInto(out, () -> holding("gather", () -> backend().gather(this, d, idx, out), this));
        }
    }

    /** A copy of this array with src added at index along dim (PyTorch's scatter_add, out of place). */
    public NDArray scatterAdd(int dim, NDArray index, NDArray src) {
        checkOpen("scatterAdd");
        int d = Shapes.normalizeDim("scatterAdd", dim, dim());
        checkIndex("scatterAdd", index, d);
        requireSameDevice("scatterAdd", this, src);
        if (!Arrays.equals(index.shape, src.shape)) {
            throw new IllegalArgumentException("scatterAdd: index " + Arrays.toString(index.shape) + " and src " + Arrays.toString(src.shape) + " must have one shape");
        }
        NDArray out = copy();
        try (NDArray idx = index.to(DType.I64); NDArray s = src.to(dtype)) {
            return runInto(out, () -> backend().scatterAdd(out, d, idx, s));
        }
    }

    public NDArray indexSelect(int dim, NDArray index) {
        checkOpen("indexSelect");
        int d = Shapes.normalizeDim("indexSelect", dim, dim());
        requireDims("indexSelect");
        requireSameDevice("indexSelect", this, index);
        if (index.dim() != 1 || index.dtype.isFloating() || index.dtype == DType.BOOL) {
            throw new IllegalArgumentException("indexSelect: expected a 1-D integer index, got " + Arrays.toString(index.shape) + " " + index.dtype);
        }
        long[] sh = shape.clone();
        sh[d] = index.shape[0];
        NDArray out = allocate("indexSelect", dtype, device(), sh);
        try (NDArray idx = index.to(DType.I64)) {
            return runInto(out, () -> holding("indexSelect", () -> backend().indexSelect(this, d, idx, out), this));
        }
    }

    /** Rows of this [V, D] table picked by integer ids of any shape: result ids.shape + [D]. */
    public NDArray embedding(NDArray ids) {
        checkOpen("embedding");
        requireSameDevice("embedding", this, ids);
        if (dim() != 2) throw new IllegalArgumentException("embedding: expected a table [V, D], got " + Arrays.toString(shape));
        if (ids.dtype.isFloating() || ids.dtype == DType.BOOL) {
            throw new IllegalArgumentException("embedding: expected integer ids, got " + ids.dtype);
        }
        try (NDArray flat = ids.reshape(-1); NDArray rows = indexSelect(0, flat)) {
            return rows.reshape(concat(ids.shape, shape[1]));
        } catch (IndexOutOfBoundsException e) {
            throw renamed("embedding", "expected ids in [0, " + shape[0] + ")", e);
        }
    }

    private void checkIndex(String op, NDArray index, int d) {
        requireSameDevice(op, this, index);
        if (index.dtype.isFloating() || index.dtype == DType.BOOL) {
            throw new IllegalArgumentException(op + ": expected an integer index, got " + index.dtype);
        }
        if (index.dim() != dim()) {
            throw new IllegalArgumentException(op + ": index rank " + index.dim() + " must equal input rank " + dim());
        }
        for (int i = 0; i < dim(); i++) {
            if (i != d && index.shape[i] > shape[i]) {
                throw new IllegalArgumentException(op + ": index " + Arrays.toString(index.shape) + " larger than input "
                        + Arrays.toString(shape) + " in dim " + i);
            }
        }
    }

    // ------------------------------------------------------------------ misc

    private static long[] remove(long[] a, int i) {
        long[] r = new long[a.length - 1];
        System.arraycopy(a, 0, r, 0, i);
        System.arraycopy(a, i + 1, r, i, a.length - i - 1);
        return r;
    }

    private static long[] insert(long[] a, int i, long v) {
        long[] r = new long[a.length + 1];
        System.arraycopy(a, 0, r, 0, i);
        r[i] = v;
        System.arraycopy(a, i, r, i + 1, a.length - i);
        return r;
    }

    @Override public String toString() { return TensorPrinter.format(this, "NDArray(", List.of()); }

    /** Reads one element by index; for tests and debugging, not for loops. */
    public double getDouble(long... index) {
        checkOpen("getDouble");
        if (index.length != dim()) throw new IllegalArgumentException("getDouble: expected " + dim() + " indices, got " + index.length);
        long off = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("getDouble: index " + Arrays.toString(index) + " out of bounds for " + Arrays.toString(shape));
            }
            off += index[i] * strides[i];
        }
        try (NDArray one = viewOf("getDouble", new long[0], new long[0], off)) {
            return one.item();
        }
    }
}
