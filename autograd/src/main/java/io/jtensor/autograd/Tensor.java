package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.TensorPrinter;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The user-facing array: an engine {@link NDArray} plus what autograd needs, whether it requires a gradient, the
 * gradient accumulated so far, and the node of the op that produced it. Every op computes its result at once (define
 * by run) and, when grad mode is on and an input requires grad, records a node whose rule runs on {@link #backward()}.
 * The rules live in the op-family classes of this package ({@link Pointwise}, {@link Reductions}, {@link Views},
 * {@link Linalg}, {@link Convolution}, {@link Indexing}, {@link Losses}); the methods here only dispatch to them.
 *
 * <p>Lifetime: a tensor owns its array (and its grad); {@link #close()} releases both. Arrays made inside a
 * {@link MemoryScope} are closed with it, except the gradients accumulated into leaves, which belong to the leaf
 * (a parameter usually outlives the step) and live until {@link #zeroGrad()}, {@link #setGrad} or {@link #close()}.
 */
public final class Tensor implements AutoCloseable {
    private NDArray data;
    private boolean requiresGrad;
    private final Node gradFn;
    private Tensor grad;
    private boolean retainsGrad;
    private List<Function<Tensor, Tensor>> gradHooks;
    private List<Consumer<Tensor>> readyHooks;

    Tensor(NDArray data, boolean requiresGrad, Node gradFn) {
        this.data = data;
        this.requiresGrad = requiresGrad;
        this.gradFn = gradFn;
    }

    // ------------------------------------------------------------------ creation

    public static Tensor of(float[] data, long... shape) { return wrap(NDArray.of(data, shape)); }
    public static Tensor of(double[] data, long... shape) { return wrap(NDArray.of(data, shape)); }
    /** I64 values. */
    public static Tensor of(long[] data, long... shape) { return wrap(NDArray.of(data, shape)); }
    /** I32 values. */
    public static Tensor of(int[] data, long... shape) { return wrap(NDArray.of(data, shape)); }
    public static Tensor of(boolean[] data, long... shape) { return wrap(NDArray.of(data, shape)); }

    /** Same as {@link #wrap}: the tensor takes over this reference to the array (no copy). */
    public static Tensor of(NDArray data) { return wrap(data); }

    /** A leaf tensor that takes over this reference to the array (no copy); {@code share()} it first to keep yours. */
    public static Tensor wrap(NDArray data) {
        if (data == null) throw new IllegalArgumentException("wrap: data is null");
        return new Tensor(data, false, null);
    }

    /** A zero-dimensional F32 tensor. */
    public static Tensor scalar(double value) { return scalar(value, DType.F32, Device.cpu()); }
    public static Tensor scalar(double value, DType dtype, Device device) { return wrap(NDArray.scalar(value, dtype, device)); }

    public static Tensor zeros(long... shape) { return wrap(NDArray.zeros(shape)); }
    public static Tensor zeros(DType dtype, Device device, long... shape) { return wrap(NDArray.zeros(dtype, device, shape)); }
    public static Tensor ones(long... shape) { return wrap(NDArray.ones(shape)); }
    public static Tensor ones(DType dtype, Device device, long... shape) { return wrap(NDArray.ones(dtype, device, shape)); }
    public static Tensor full(double value, long... shape) { return full(value, DType.F32, Device.cpu(), shape); }
    public static Tensor full(double value, DType dtype, Device device, long... shape) { return wrap(NDArray.full(value, dtype, device, shape)); }
    public static Tensor zerosLike(Tensor t) { return zeros(t.dtype(), t.device(), t.shape()); }
    public static Tensor onesLike(Tensor t) { return ones(t.dtype(), t.device(), t.shape()); }

    /** Uniform in [0, 1), F32 on the CPU, from the default generator. */
    public static Tensor rand(long... shape) { return wrap(NDArray.rand(shape)); }
    public static Tensor rand(DType dtype, Device device, long... shape) { return rand(Generator.defaultGenerator(), dtype, device, shape); }
    public static Tensor rand(Generator g, DType dtype, Device device, long... shape) { return wrap(NDArray.rand(g, dtype, device, shape)); }

    /** Standard normal, F32 on the CPU, from the default generator. */
    public static Tensor randn(long... shape) { return wrap(NDArray.randn(shape)); }
    public static Tensor randn(DType dtype, Device device, long... shape) { return randn(Generator.defaultGenerator(), dtype, device, shape); }
    public static Tensor randn(Generator g, DType dtype, Device device, long... shape) { return wrap(NDArray.randn(g, dtype, device, shape)); }

    /** 0, 1, ..., n-1 as I64. */
    public static Tensor arange(long n) { return wrap(NDArray.arange(n)); }
    public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
        return wrap(NDArray.arange(start, end, step, dtype, device));
    }

    // ------------------------------------------------------------------ what it is

    /** The array this tensor owns (not a copy). */
    public NDArray data() { return data; }
    public long[] shape() { return data.shape(); }
    public DType dtype() { return data.dtype(); }
    public Device device() { return data.device(); }
    public int dim() { return data.dim(); }
    public long numel() { return data.numel(); }
    /** Size of one dim; negative dims count from the end. */
    public long size(int dim) { return data.size(dim); }
    public boolean isContiguous() { return data.isContiguous(); }

    /** The single value of a one-element tensor. */
    public double item() { return data.item(); }
    public float[] toFloatArray() { return data.toFloatArray(); }
    public double[] toDoubleArray() { return data.toDoubleArray(); }
    public long[] toLongArray() { return data.toLongArray(); }
    public int[] toIntArray() { return data.toIntArray(); }
    public boolean[] toBooleanArray() { return data.toBooleanArray(); }

    /** Copies to another device, differentiably. */
    public Tensor to(Device device) { return Views.toDevice(this, device); }

    /** Converts to another dtype, differentiably when both are floating. */
    public Tensor to(DType dtype) { return Views.toDType(this, dtype); }

    // ------------------------------------------------------------------ autograd state

    public boolean requiresGrad() { return requiresGrad; }

    /**
     * Marks a leaf as needing a gradient (or not); returns this. Only floating tensors can require grad, and a
     * tensor computed by a recorded op always does.
     */
    public Tensor requiresGrad(boolean on) {
        if (on == requiresGrad) return this;
        if (gradFn != null) {
            throw new IllegalStateException("requiresGrad: only leaf tensors can change requiresGrad (this one was computed by "
                    + gradFn.op + "); use detach()");
        }
        if (on && !dtype().isFloating()) {
            throw new IllegalArgumentException("requiresGrad: only floating-point tensors can require gradients, got " + dtype());
        }
        requiresGrad = on;
        return this;
    }

    /** Whether this tensor was made by the user rather than by a recorded op. */
    public boolean isLeaf() { return gradFn == null; }

    /** The op that computed this tensor, or null for a leaf. */
    public String gradFnName() { return gradFn == null ? null : gradFn.op; }

    Node gradFnNode() { return gradFn; }

    /** The accumulated gradient (for leaves, and non-leaves that {@link #retainGrad()}), or null before any. */
    public Tensor grad() { return grad; }

    /** Drops the gradient (PyTorch's {@code zero_grad(set_to_none=True)}); the next backward starts from nothing. */
    public void zeroGrad() {
        if (grad != null) grad.close();
        grad = null;
    }

    /** Replaces the gradient by a reference to {@code g}'s data (cast to this dtype), or drops it for null. */
    public void setGrad(Tensor g) {
        if (g == null) {
            zeroGrad();
            return;
        }
        if (!Arrays.equals(g.shape(), shape())) {
            throw new IllegalArgumentException("setGrad: expected a gradient of shape " + Arrays.toString(shape()) + ", got " + Arrays.toString(g.shape()));
        }
        if (!g.device().equals(device())) {
            throw new IllegalArgumentException("setGrad: expected a gradient on " + device() + ", got one on " + g.device());
        }
        NDArray mine = g.data().to(dtype()).keep();
        zeroGrad();
        grad = new Tensor(mine, false, null);
    }

    /**
     * Replaces the array of a leaf (e.g. to move a parameter to another device), closing the old one; a gradient
     * that no longer fits is dropped.
     */
    public void setData(NDArray newData) {
        if (gradFn != null) throw new IllegalStateException("setData: only leaf tensors can have their data replaced (this one was computed by " + gradFn.op + ")");
        if (newData == data) return;
        if (requiresGrad && !newData.dtype().isFloating()) {
            throw new IllegalArgumentException("setData: a tensor that requires grad needs floating data, got " + newData.dtype());
        }
        NDArray old = data;
        data = newData;
        old.close();
        if (grad != null && (!Arrays.equals(grad.shape(), shape()) || grad.dtype() != dtype() || !grad.device().equals(device()))) zeroGrad();
    }

    /** Keeps the gradient of this non-leaf in {@link #grad()} after backward (a no-op on leaves); returns this. */
    public Tensor retainGrad() {
        if (!requiresGrad) throw new IllegalStateException("retainGrad: this tensor does not require grad");
        if (gradFn != null) {
            retainsGrad = true;
            gradFn.output = this;
        }
        return this;
    }

    public boolean retainsGrad() { return retainsGrad; }

    /** A tensor sharing this data, cut from the graph: it does not require grad. */
    public Tensor detach() { return new Tensor(data.share(), false, null); }

    // ------------------------------------------------------------------ hooks

    /**
     * On a leaf that requires grad: calls {@code onGradReady} with this leaf's {@link #grad()} once per backward
     * pass, as soon as the pass has added its last contribution to it (while the rest of the pass may still run),
     * so that data-parallel training can reduce gradients as they become ready. The hook may change the gradient's
     * data in place. Returns this.
     */
    public Tensor registerHook(Consumer<Tensor> onGradReady) {
        if (gradFn != null || !requiresGrad) {
            throw new IllegalStateException("registerHook: only leaf tensors that require grad accumulate a gradient; "
                    + "use registerGradHook on intermediate results");
        }
        if (readyHooks == null) readyHooks = new ArrayList<>(1);
        readyHooks.add(onGradReady);
        return this;
    }

    /**
     * Transforms the gradient with respect to this tensor before it is used (accumulated into a leaf's grad, or
     * passed on to the inputs of a non-leaf). The hook receives the complete gradient of the pass; it may return it,
     * null (unchanged), or a new tensor of the same shape, which the engine then owns. Returns this.
     */
    public Tensor registerGradHook(Function<Tensor, Tensor> hook) {
        if (!requiresGrad) throw new IllegalStateException("registerGradHook: this tensor does not require grad");
        if (gradHooks == null) gradHooks = new ArrayList<>(1);
        gradHooks.add(hook);
        if (gradFn != null) gradFn.output = this;
        return this;
    }

    /** Applies the grad hooks to {@code g} (owned), returning the gradient to use (owned). */
    NDArray runGradHooks(NDArray g) {
        if (gradHooks == null) return g;
        NDArray cur = g;
        for (Function<Tensor, Tensor> hook : gradHooks) {
            Tensor in = new Tensor(cur, false, null);
            Tensor out;
            try {
                out = hook.apply(in);
            } catch (RuntimeException e) {
                cur.close();
                throw e;
            }
            if (out == null || out == in || out.data() == cur) continue;
            NDArray next = out.data();
            if (!Arrays.equals(next.shape(), shape())) {
                cur.close();
                throw new IllegalStateException("grad hook returned a gradient of shape " + Arrays.toString(next.shape())
                        + " for a tensor of shape " + Arrays.toString(shape()));
            }
            // checked here, like the shape: otherwise it fails later, inside another op's backward, naming that op
            if (!next.device().equals(device())) {
                cur.close();
                throw new IllegalStateException("grad hook returned a gradient on " + next.device() + " for a tensor on " + device()
                        + " (shape " + Arrays.toString(shape()) + "); move it with .to(" + device() + ")");
            }
            cur.close();
            cur = next.dtype() == dtype() ? next : castOwned(next, dtype());
        }
        return cur;
    }

    private static NDArray castOwned(NDArray a, DType t) {
        try (a) {
            return a.to(t);
        }
    }

    /** Adds a complete pass gradient (not owned) to {@link #grad()}; a leaf's first gradient is kept out of scopes. */
    void accumulateGrad(NDArray g) {
        if (grad == null) {
            NDArray fresh = g.dtype() == dtype() ? g.copy() : g.to(dtype());
            if (gradFn == null) fresh.keep();
            grad = new Tensor(fresh, false, null);
        } else {
            if (grad.data().isClosed()) {
                throw new IllegalStateException("backward: the .grad of a tensor of shape " + Arrays.toString(shape())
                        + " was closed, so the new gradient cannot be added to it; set it to zero or clear it instead of closing it");
            }
            grad.data().addInPlace(g);
        }
    }

    void runReadyHooks() {
        if (readyHooks == null) return;
        for (Consumer<Tensor> h : readyHooks) h.accept(grad);
    }

    // ------------------------------------------------------------------ backward

    /** Backpropagates from this scalar; the graph is freed afterwards. */
    public void backward() { backward(null, false); }

    /** Backpropagates from this scalar, keeping the graph for another backward when {@code retainGraph}. */
    public void backward(boolean retainGraph) { backward(null, retainGraph); }

    /** Backpropagates {@code gradient} (of this tensor's shape) from this tensor; the graph is freed afterwards. */
    public void backward(Tensor gradient) { backward(gradient, false); }

    /**
     * Backpropagates {@code gradient} (null: 1 for a scalar output) from this tensor, adding into the {@code grad}
     * of every leaf that requires grad. Unless {@code retainGraph}, the graph's saved arrays are released and a
     * second backward through it fails.
     */
    public void backward(Tensor gradient, boolean retainGraph) {
        if (!requiresGrad) {
            throw new IllegalStateException("backward: this tensor does not require grad and has no grad function "
                    + "(computed under noGrad, or from inputs that do not require grad?)");
        }
        NDArray seed;
        if (gradient == null) {
            if (numel() != 1) {
                throw new IllegalStateException("backward: a gradient can only be created implicitly for a scalar output, got shape "
                        + Arrays.toString(shape()) + "; pass a gradient of that shape to backward(gradient)");
            }
            seed = NDArray.ones(dtype(), device(), shape());
        } else {
            Losses.checkOpen("backward", gradient);
            if (!Arrays.equals(gradient.shape(), shape())) {
                throw new IllegalArgumentException("backward: gradient of shape " + Arrays.toString(gradient.shape())
                        + " does not match the output's shape " + Arrays.toString(shape()));
            }
            if (!gradient.device().equals(device())) {
                throw new IllegalArgumentException("backward: gradient on " + gradient.device() + " but the output is on " + device());
            }
            seed = gradient.data().to(dtype());
        }
        BackwardEngine.run(this, seed, retainGraph);
    }

    // ------------------------------------------------------------------ arithmetic

    public Tensor add(Tensor o) { return Pointwise.add(this, o); }
    public Tensor sub(Tensor o) { return Pointwise.sub(this, o); }
    public Tensor mul(Tensor o) { return Pointwise.mul(this, o); }
    public Tensor div(Tensor o) { return Pointwise.div(this, o); }
    public Tensor pow(Tensor exponent) { return Pointwise.pow(this, exponent); }
    public Tensor maximum(Tensor o) { return Pointwise.maximum(this, o); }
    public Tensor minimum(Tensor o) { return Pointwise.minimum(this, o); }

    public Tensor add(double v) { return Pointwise.addScalar(this, v); }
    public Tensor sub(double v) { return Pointwise.subScalar(this, v); }
    public Tensor mul(double v) { return Pointwise.mulScalar(this, v); }
    public Tensor div(double v) { return Pointwise.divScalar(this, v); }
    /** v - this. */
    public Tensor rsub(double v) { return Pointwise.rsubScalar(this, v); }
    /** v / this. */
    public Tensor rdiv(double v) { return Pointwise.rdivScalar(this, v); }
    public Tensor pow(double exponent) { return Pointwise.powScalar(this, exponent); }

    /** cond ? a : b elementwise, broadcast; cond is BOOL (or converted to it). */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return Pointwise.where(cond, a, b); }

    /** This tensor with {@code value} wherever {@code mask} is true. */
    public Tensor maskedFill(Tensor mask, double value) {
        try (Tensor v = scalar(value, dtype(), device())) {
            return Pointwise.where(mask, v, this);
        }
    }

    // ------------------------------------------------------------------ elementwise math

    public Tensor neg() { return Pointwise.neg(this); }
    public Tensor abs() { return Pointwise.abs(this); }
    public Tensor exp() { return Pointwise.exp(this); }
    public Tensor log() { return Pointwise.log(this); }
    public Tensor log1p() { return Pointwise.log1p(this); }
    public Tensor expm1() { return Pointwise.expm1(this); }
    public Tensor sqrt() { return Pointwise.sqrt(this); }
    public Tensor rsqrt() { return Pointwise.rsqrt(this); }
    public Tensor reciprocal() { return Pointwise.reciprocal(this); }
    public Tensor square() { return Pointwise.square(this); }
    public Tensor sin() { return Pointwise.sin(this); }
    public Tensor cos() { return Pointwise.cos(this); }
    /** Clamps into [min, max]; NaN leaves a side open. */
    public Tensor clamp(double min, double max) { return Pointwise.clamp(this, min, max); }
    public Tensor clampMin(double min) { return Pointwise.clamp(this, min, Double.NaN); }
    public Tensor clampMax(double max) { return Pointwise.clamp(this, Double.NaN, max); }

    /** Not differentiable (the derivative is zero almost everywhere): the results do not require grad. */
    public Tensor sign() { return wrap(data.sign()); }
    public Tensor floor() { return wrap(data.floor()); }
    public Tensor ceil() { return wrap(data.ceil()); }
    public Tensor round() { return wrap(data.round()); }

    // ------------------------------------------------------------------ activations

    public Tensor relu() { return Pointwise.relu(this); }
    public Tensor sigmoid() { return Pointwise.sigmoid(this); }
    public Tensor tanh() { return Pointwise.tanh(this); }
    /** GELU, exact (erf) form. */
    public Tensor gelu() { return Pointwise.gelu(this); }
    public Tensor leakyRelu(double negativeSlope) { return Pointwise.leakyRelu(this, negativeSlope); }
    public Tensor elu(double alpha) { return Pointwise.elu(this, alpha); }
    public Tensor softmax(int dim) { return Losses.softmax(this, dim, false); }
    public Tensor logSoftmax(int dim) { return Losses.softmax(this, dim, true); }
    /**
     * Layer normalisation over the last {@code normalizedDims} dims (fused: one kernel forward, one backward);
     * weight and bias have those dims' shape and may be null.
     */
    /**
     * Batch normalisation in training mode over dim 1 of this [N, C, ...] tensor with the batch's statistics:
     * (x - mean) / sqrt(var + eps) * weight + bias, weight and bias ([C]) may be null. Fused into one node; the
     * result also carries the batch mean and biased variance (close it, or them, when done).
     */
    public BatchNormResult batchNorm(Tensor weight, Tensor bias, double eps) {
        return Normalization.batchNorm(this, weight, bias, eps);
    }

    public Tensor layerNorm(int normalizedDims, Tensor weight, Tensor bias, double eps) {
        return Normalization.layerNorm(this, normalizedDims, weight, bias, eps);
    }

    // ------------------------------------------------------------------ comparisons (BOOL results, no grad)

    public Tensor eq(Tensor o) { return wrap(data.eq(o.data)); }
    public Tensor ne(Tensor o) { return wrap(data.ne(o.data)); }
    public Tensor lt(Tensor o) { return wrap(data.lt(o.data)); }
    public Tensor le(Tensor o) { return wrap(data.le(o.data)); }
    public Tensor gt(Tensor o) { return wrap(data.gt(o.data)); }
    public Tensor ge(Tensor o) { return wrap(data.ge(o.data)); }
    public Tensor eq(double v) { return wrap(data.eq(v)); }
    public Tensor ne(double v) { return wrap(data.ne(v)); }
    public Tensor lt(double v) { return wrap(data.lt(v)); }
    public Tensor le(double v) { return wrap(data.le(v)); }
    public Tensor gt(double v) { return wrap(data.gt(v)); }
    public Tensor ge(double v) { return wrap(data.ge(v)); }
    public Tensor logicalNot() { return wrap(data.logicalNot()); }
    public Tensor logicalAnd(Tensor o) { return wrap(data.logicalAnd(o.data)); }
    public Tensor logicalOr(Tensor o) { return wrap(data.logicalOr(o.data)); }
    public Tensor isnan() { return wrap(data.isnan()); }

    // ------------------------------------------------------------------ reductions

    public Tensor sum() { return Reductions.sum(this, Reductions.allDims(dim()), false); }
    public Tensor sum(int dim, boolean keepDim) { return Reductions.sum(this, new int[] {dim}, keepDim); }
    public Tensor sum(int[] dims, boolean keepDim) { return Reductions.sum(this, dims, keepDim); }
    public Tensor mean() { return Reductions.mean(this, Reductions.allDims(dim()), false); }
    public Tensor mean(int dim, boolean keepDim) { return Reductions.mean(this, new int[] {dim}, keepDim); }
    public Tensor mean(int[] dims, boolean keepDim) { return Reductions.mean(this, dims, keepDim); }

    /** The largest element (ties share the gradient). */
    public Tensor max() { return Reductions.amax(this, Reductions.allDims(dim()), false, true); }
    public Tensor min() { return Reductions.amax(this, Reductions.allDims(dim()), false, false); }
    /** Largest values along dim (differentiable) and their I64 indices. */
    public ValuesIndices max(int dim, boolean keepDim) { return Reductions.maxWithIndices(this, dim, keepDim, true); }
    public ValuesIndices min(int dim, boolean keepDim) { return Reductions.maxWithIndices(this, dim, keepDim, false); }
    public Tensor amax(int[] dims, boolean keepDim) { return Reductions.amax(this, dims, keepDim, true); }
    public Tensor amin(int[] dims, boolean keepDim) { return Reductions.amax(this, dims, keepDim, false); }
    public Tensor argmax(int dim, boolean keepDim) { return wrap(data.argmax(dim, keepDim)); }
    public Tensor argmin(int dim, boolean keepDim) { return wrap(data.argmin(dim, keepDim)); }

    /** Unbiased variance of all elements. */
    public Tensor var() { return Reductions.var(this, Reductions.allDims(dim()), false, 1); }
    public Tensor var(int dim, boolean keepDim) { return Reductions.var(this, new int[] {dim}, keepDim, 1); }
    /** Variance over dims with Bessel's {@code correction} (1 unbiased, 0 population). */
    public Tensor var(int[] dims, boolean keepDim, int correction) { return Reductions.var(this, dims, keepDim, correction); }
    public Tensor std() { return Reductions.std(this, Reductions.allDims(dim()), false, 1); }
    public Tensor std(int dim, boolean keepDim) { return Reductions.std(this, new int[] {dim}, keepDim, 1); }
    public Tensor std(int[] dims, boolean keepDim, int correction) { return Reductions.std(this, dims, keepDim, correction); }
    public Tensor logsumexp(int dim, boolean keepDim) { return Reductions.logsumexp(this, new int[] {dim}, keepDim); }
    public Tensor logsumexp(int[] dims, boolean keepDim) { return Reductions.logsumexp(this, dims, keepDim); }
    /** The Euclidean norm of all elements. */
    public Tensor norm() { return Reductions.norm(this, 2, Reductions.allDims(dim()), false); }
    /** The p-norm over dims (p > 0, or +-infinity). */
    public Tensor norm(double p, int[] dims, boolean keepDim) { return Reductions.norm(this, p, dims, keepDim); }

    // ------------------------------------------------------------------ shape

    public Tensor reshape(long... shape) { return Views.reshapeLike("reshape", this, data.reshape(shape)); }
    /** Like reshape but never copies: fails when the strides do not allow it. */
    public Tensor view(long... shape) { return Views.reshapeLike("view", this, data.view(shape)); }
    public Tensor flatten() { return Views.reshapeLike("flatten", this, data.flatten()); }
    public Tensor flatten(int startDim, int endDim) { return Views.reshapeLike("flatten", this, data.flatten(startDim, endDim)); }
    public Tensor squeeze() { return Views.reshapeLike("squeeze", this, data.squeeze()); }
    public Tensor squeeze(int dim) { return Views.reshapeLike("squeeze", this, data.squeeze(dim)); }
    public Tensor unsqueeze(int dim) { return Views.reshapeLike("unsqueeze", this, data.unsqueeze(dim)); }
    public Tensor permute(int... dims) { return Views.permute(this, dims); }
    public Tensor transpose(int a, int b) { return Views.transpose(this, a, b); }
    /** Transpose of a matrix; vectors and scalars are returned as they are. */
    public Tensor t() {
        if (dim() > 2) throw new IllegalArgumentException("t: expected a tensor of rank <= 2, got rank " + dim() + "; use transpose");
        return dim() < 2 ? Views.alias("t", this, data.share()) : Views.transpose(this, 0, 1);
    }
    /** Broadcasts to a larger shape without copying; -1 keeps a size. */
    public Tensor expand(long... shape) { return Views.expand(this, shape); }
    public Tensor contiguous() { return Views.alias("contiguous", this, data.contiguous()); }
    /** A differentiable copy with its own storage. */
    @Override public Tensor clone() { return Views.alias("clone", this, data.copy()); }
    public Tensor narrow(int dim, long start, long length) { return Views.narrow(this, dim, start, length); }
    /** Python-style slice start:end:step of dim (step > 0; negative positions count from the end). */
    public Tensor slice(int dim, long start, long end, long step) { return Views.slice(this, dim, start, end, step); }
    public Tensor slice(int dim, long start, long end) { return Views.slice(this, dim, start, end, 1); }
    /** The slice at index of dim, with that dim removed. */
    public Tensor select(int dim, long index) { return Views.select(this, dim, index); }

    public static Tensor cat(List<Tensor> parts, int dim) { return Views.cat(parts, dim); }
    public static Tensor stack(List<Tensor> parts, int dim) { return Views.stack(parts, dim); }
    /** Pieces of {@code splitSize} along dim (the last may be smaller). */
    public List<Tensor> split(long splitSize, int dim) { return Views.split(this, splitSize, dim); }
    /** Consecutive pieces of the given sizes along dim. */
    public List<Tensor> split(long[] sizes, int dim) { return Views.split(this, sizes, dim); }
    public List<Tensor> chunk(int chunks, int dim) { return Views.chunk(this, chunks, dim); }

    // ------------------------------------------------------------------ linear algebra, convolution, pooling

    /** torch.matmul: vector and matrix products, batched with broadcast batch dims. */
    public Tensor matmul(Tensor o) { return Linalg.matmul(this, o); }

    /** x @ W^T + b for x [..., in], W [out, in], b [out] or null (one op, one autocast decision). */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) { return Linalg.linear(x, weight, bias); }

    /** x [N,C,H,W], w [O,C,KH,KW], optional bias [O] (null for none). */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int padding) {
        return Convolution.conv2d(x, w, b, params("conv2d", stride, padding));
    }

    /** With groups and dilation in {@code p}. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, ConvParams p) { return Convolution.conv2d(x, w, b, p); }

    public static Tensor maxPool2d(Tensor x, int kernel, int stride) { return Convolution.maxPool2d(x, kernel, kernel, params("maxPool2d", stride, 0)); }
    public static Tensor maxPool2d(Tensor x, int kH, int kW, ConvParams p) { return Convolution.maxPool2d(x, kH, kW, p); }
    /** Average pooling; padding counts in the divisor, as PyTorch's default. */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride) { return Convolution.avgPool2d(x, kernel, kernel, params("avgPool2d", stride, 0), true); }
    public static Tensor avgPool2d(Tensor x, int kH, int kW, ConvParams p, boolean countIncludePad) {
        return Convolution.avgPool2d(x, kH, kW, p, countIncludePad);
    }

    /** Square-window parameters, checked here so that the error names the op the user called. */
    private static ConvParams params(String op, int stride, int padding) {
        if (stride < 1) throw new IllegalArgumentException(op + ": expected stride >= 1, got " + stride);
        if (padding < 0) throw new IllegalArgumentException(op + ": expected padding >= 0, got " + padding);
        return ConvParams.of(stride, padding);
    }

    // ------------------------------------------------------------------ indexing

    /** out[..i..] = this[..index[..i..]..] along dim; index is an integer tensor of this rank. */
    public Tensor gather(int dim, Tensor index) { return Indexing.gather(this, dim, index); }
    /** Slices along dim at the positions of a 1-D integer index. */
    public Tensor indexSelect(int dim, Tensor index) { return Indexing.indexSelect(this, dim, index); }
    /** Rows of {@code weight} [V, D] at integer {@code ids} of any shape: result ids.shape + [D]. */
    public static Tensor embedding(Tensor weight, Tensor ids) { return Indexing.embedding(weight, ids); }

    // ------------------------------------------------------------------ losses and regularisation

    /** Mean cross-entropy of logits [N, C, ...] against class indices [N, ...]. */
    public Tensor crossEntropy(Tensor targets) { return Losses.crossEntropy(this, targets, Losses.DEFAULT_IGNORE_INDEX, 0); }

    /** Mean over targets != ignoreIndex, with label smoothing in [0, 1]. */
    public Tensor crossEntropy(Tensor targets, long ignoreIndex, double labelSmoothing) {
        return Losses.crossEntropy(this, targets, ignoreIndex, labelSmoothing);
    }

    /** Mean negative log-likelihood of log-probabilities [N, C, ...] at class indices [N, ...]. */
    public Tensor nllLoss(Tensor targets) { return Losses.nllLoss(this, targets, Losses.DEFAULT_IGNORE_INDEX); }
    public Tensor nllLoss(Tensor targets, long ignoreIndex) { return Losses.nllLoss(this, targets, ignoreIndex); }

    /** Cross-entropy per position, unreduced ([N, ...]; 0 where the target is ignoreIndex): reduction "none". */
    public Tensor crossEntropyPerPosition(Tensor targets, long ignoreIndex, double labelSmoothing) {
        return Losses.perPositionLoss("crossEntropy", this, true, targets, ignoreIndex, labelSmoothing);
    }

    /** Negative log-likelihood per position, unreduced ([N, ...]; 0 where the target is ignoreIndex). */
    public Tensor nllLossPerPosition(Tensor targets, long ignoreIndex) {
        return Losses.perPositionLoss("nllLoss", this, false, targets, ignoreIndex, 0);
    }

    /** Inverted dropout with the default generator. */
    public Tensor dropout(double p, boolean training) { return Losses.dropout(this, p, training, Generator.defaultGenerator()); }
    public Tensor dropout(double p, boolean training, Generator generator) { return Losses.dropout(this, p, training, generator); }

    // ------------------------------------------------------------------ lifetime

    /** Closes this tensor's array and its gradient. The graph that made it is released by backward or its scope. */
    @Override public void close() {
        data.close();
        if (grad != null) {
            grad.close();
            grad = null;
        }
    }

    public boolean isClosed() { return data.isClosed(); }

    /** As PyTorch prints it (see {@link TensorPrinter}), e.g. {@code tensor([1.5000, 2.0000], grad_fn=<AddBackward0>)}. */
    @Override public String toString() {
        return TensorPrinter.format(data, "tensor(", gradFn != null ? List.of("grad_fn=<" + gradFn.pytorchName() + ">")
                : requiresGrad ? List.of("requires_grad=True") : List.of());
    }
}
