package io.jtensor.autograd;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One recorded op: where its input gradients go, its backward rule and the arrays that rule saved. Each node has
 * exactly one output tensor, so the gradient that reaches a node is the gradient of that tensor.
 */
final class Node {
    static final String FREED_MESSAGE = "backward through a graph that was already freed; pass retainGraph=true";
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /**
     * Where one input's gradient goes: into another node, or into a leaf's {@code grad}; the input's shape, dtype
     * and device, so the engine can reduce a broadcast gradient and cast it back.
     */
    record Edge(Node node, Tensor leaf, long[] shape, DType dtype, Device device) {}

    final String op;
    /** Creation order: later nodes run first when several are ready, as in PyTorch. */
    final long sequence = SEQUENCE.incrementAndGet();
    /** One entry per input; null where that input needs no gradient. */
    final Edge[] edges;
    final long[] outShape;
    final DType outDType;
    final Device outDevice;
    /** The output tensor, referenced only once it retains its grad or has grad hooks. */
    Tensor output;

    private BackwardFn fn;
    private SavedArrays saved;
    private boolean freed;

    Node(String op, Tensor[] inputs, NDArray result, BackwardFn fn, SavedArrays saved) {
        this.op = op;
        this.fn = fn;
        this.saved = saved;
        this.outShape = result.shape();
        this.outDType = result.dtype();
        this.outDevice = result.device();
        this.edges = new Edge[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (!t.requiresGrad()) continue;
            Node producer = t.gradFnNode();
            edges[i] = new Edge(producer, producer == null ? t : null, t.shape(), t.dtype(), t.device());
        }
    }

    boolean isFreed() { return freed; }

    /**
     * The name PyTorch gives such a node's class, for printing: the op capitalised + "Backward0" ({@code add} ->
     * {@code AddBackward0}); where PyTorch splits an op by shape (matmul: MmBackward0, BmmBackward0) this keeps one.
     */
    String pytorchName() { return Character.toUpperCase(op.charAt(0)) + op.substring(1) + "Backward0"; }

    /** Runs the rule; the result has one entry per input. */
    NDArray[] apply(NDArray gradOut) {
        if (freed) throw new IllegalStateException(FREED_MESSAGE);
        boolean[] needs = new boolean[edges.length];
        for (int i = 0; i < edges.length; i++) needs[i] = edges[i] != null;
        NDArray[] grads;
        try {
            grads = fn.apply(gradOut, needs);
        } catch (RuntimeException e) {
            throw new IllegalStateException("backward of " + op + " failed: " + e.getMessage(), e);
        }
        if (grads == null || grads.length != edges.length) {
            if (grads != null) for (NDArray g : grads) if (g != null) g.close();
            throw new IllegalStateException("backward of " + op + " returned " + (grads == null ? "null" : grads.length + " gradients")
                    + " for " + edges.length + " inputs");
        }
        return grads;
    }

    /** Closes the saved arrays and drops the rule; a later backward through this node fails. */
    void release() {
        if (freed) return;
        freed = true;
        saved.release();
        saved = null;
        fn = null;
    }

    @Override public String toString() { return op; }
}
