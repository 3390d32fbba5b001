package io.jtensor.autograd.badinput;

import static io.jtensor.badinput.BadInput.fails;
import static io.jtensor.badinput.BadInput.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.autograd.GradMode;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;
import io.jtensor.memory.MemoryScope;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input at the Tensor level: misuse of the graph (freed, non-scalar, no grad), of requiresGrad, and the op errors
 * that autograd adds or renames (losses, embedding, pooling parameters). Each fails at once naming the op, what it
 * expected and what it got, and leaves the leaves' gradients untouched.
 */
class AutogradBadInputTest {
    private static final Device D1 = Device.cpu(1);
    private MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    private static Tensor leaf(double... v) { return Tensor.of(v, v.length).requiresGrad(true); }

    private static Tensor matrix(int rows, int cols) {
        double[] v = new double[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = 0.1 * i - 0.3;
        return Tensor.of(v, rows, cols);
    }

    // ------------------------------------------------------------------ the graph

    @Test
    void backwardThroughAFreedGraphFailsAndAddsNothing() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(x).sum();
        y.backward();
        fails(IllegalStateException.class, y::backward, "backward", "freed", "retainGraph", "sum");
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray());
    }

    @Test
    void aSecondLossThroughAFreedSharedSubgraphFails() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(x);
        Tensor l1 = h.sum(), l2 = h.exp().sum();
        l1.backward();
        // l2's own node is intact; the shared node "mul" below it was freed by the first pass.
        fails(IllegalStateException.class, l2::backward, "freed", "mul");
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray());
    }

    @Test
    void backwardNeedsAScalarOrAGradientOfTheOutputsShapeAndDevice() {
        Tensor x = leaf(1, 2, 3, 4, 5, 6);
        Tensor y = x.reshape(2, 3).mul(2.0);
        fails(IllegalStateException.class, y::backward, "backward", "scalar", shape(2, 3));
        fails(IllegalArgumentException.class, () -> y.backward(Tensor.ones(3, 2)), "backward", shape(3, 2), shape(2, 3));
        fails(IllegalArgumentException.class, () -> y.backward(Tensor.ones(DType.F32, D1, 2, 3)), "backward", "cpu:1", "cpu:0");
        Tensor closed = Tensor.ones(2, 3);
        closed.close();
        fails(IllegalStateException.class, () -> y.backward(closed), "backward", "closed", shape(2, 3));
        assertNull(x.grad(), "failed calls must not touch the leaves");
        y.backward(Tensor.ones(2, 3));
        assertArrayEquals(new double[] {2, 2, 2, 2, 2, 2}, x.grad().toDoubleArray());
    }

    @Test
    void backwardOnSomethingThatDoesNotRequireGradFails() {
        fails(IllegalStateException.class, () -> Tensor.randn(3).sum().backward(), "backward", "does not require grad");
        Tensor x = leaf(1, 2);
        Tensor y;
        try (GradMode.Guard g = GradMode.noGrad()) {
            y = x.mul(x).sum();
        }
        assertFalse(y.requiresGrad());
        fails(IllegalStateException.class, y::backward, "backward", "does not require grad");
    }

    @Test
    void onlyFloatingLeavesCanRequireGrad() {
        fails(IllegalArgumentException.class, () -> Tensor.of(new long[] {1, 2}, 2).requiresGrad(true), "requiresGrad", "floating", "I64");
        fails(IllegalArgumentException.class, () -> Tensor.of(new int[] {1}, 1).requiresGrad(true), "requiresGrad", "I32");
        fails(IllegalArgumentException.class, () -> Tensor.of(new boolean[] {true}, 1).requiresGrad(true), "requiresGrad", "BOOL");
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(2.0);
        fails(IllegalStateException.class, () -> y.requiresGrad(false), "requiresGrad", "leaf", "mul");
        // Integer results of differentiable inputs simply do not require grad.
        assertFalse(x.argmax(0, false).requiresGrad());
        assertFalse(x.gt(1.0).requiresGrad());
    }

    @Test
    void gradientBookkeepingRejectsMismatches() {
        Tensor x = leaf(1, 2);
        fails(IllegalArgumentException.class, () -> x.setGrad(Tensor.ones(3)), "setGrad", shape(2), shape(3));
        fails(IllegalArgumentException.class, () -> x.setGrad(Tensor.ones(DType.F32, D1, 2)), "setGrad", "cpu:0", "cpu:1");
        fails(IllegalStateException.class, () -> Tensor.randn(2).retainGrad(), "retainGrad", "does not require grad");
        fails(IllegalStateException.class, () -> x.mul(2.0).registerHook(g -> {}), "registerHook", "leaf");
        Tensor h = x.mul(2.0);
        h.registerGradHook(g -> Tensor.ones(3));
        fails(IllegalStateException.class, () -> h.sum().backward(), "grad hook", shape(3), shape(2));
        // a gradient on another device is caught at the hook, for an intermediate and for a leaf
        Tensor h2 = x.mul(3.0);
        h2.registerGradHook(g -> Tensor.ones(DType.F32, D1, 2));
        fails(IllegalStateException.class, () -> h2.sum().backward(), "grad hook", "cpu:1", "cpu:0");
        Tensor leaf = leaf(1, 2);
        leaf.registerGradHook(g -> g.to(D1));
        fails(IllegalStateException.class, () -> leaf.mul(2.0).sum().backward(), "grad hook", "cpu:1", "cpu:0");
    }

    /** Composed autograd ops and the accumulation into a leaf's .grad report the op the user called. */
    @Test
    void composedOpsAndAccumulationNameWhatTheUserCalled() {
        Tensor m = leaf(1, 2, 3, 4);
        fails(IndexOutOfBoundsException.class, () -> m.std(new int[] {3}, false, 1), "std:", "dim 3");
        fails(IndexOutOfBoundsException.class, () -> m.var(new int[] {-2}, false, 1), "var:", "dim -2");
        fails(IndexOutOfBoundsException.class, () -> m.norm(2, new int[] {5}, false), "norm:", "dim 5");
        fails(IndexOutOfBoundsException.class, () -> m.norm(3, new int[] {5}, false), "norm:", "dim 5");
        Tensor closed = leaf(1, 2);
        closed.data().close();
        fails(IllegalStateException.class, () -> closed.std(new int[] {0}, false, 1), "std:", "closed");
        Tensor a = leaf(1, 2), b = leaf(3, 4);
        b.data().close();
        fails(IllegalStateException.class, () -> Tensor.stack(List.of(a, b), 0), "stack:", "closed");
        Tensor c = leaf(1, 2), d = leaf(5, 6);
        fails(IllegalArgumentException.class, () -> Tensor.stack(List.of(c, d.to(D1)), 0), "stack:");
        Tensor x = leaf(1, 2);
        x.mul(2.0).sum().backward();
        x.grad().data().close(); // the user closed the leaf's gradient instead of zeroing it
        fails(IllegalStateException.class, () -> x.mul(2.0).sum().backward(), "backward:", ".grad", "closed");
    }

    // ------------------------------------------------------------------ losses and lookups

    @Test
    void crossEntropyAndNllLossCheckTheirTargets() {
        Tensor logits = matrix(2, 3).requiresGrad(true);
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(Tensor.of(new float[] {0, 1}, 2)), "crossEntropy", "integer class indices", "F32");
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(Tensor.of(new boolean[] {true, false}, 2)), "crossEntropy", "BOOL");
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(Tensor.of(new long[] {0, 1, 2}, 3)), "crossEntropy", shape(2), shape(3));
        fails(IllegalArgumentException.class, () -> Tensor.randn(3).crossEntropy(Tensor.of(new long[] {0}, 1)), "crossEntropy", "[N, C, ...]", shape(3));
        fails(IllegalArgumentException.class, () -> Tensor.of(new long[] {1, 2, 3, 4}, 2, 2).crossEntropy(Tensor.of(new long[] {0, 1}, 2)),
                "crossEntropy", "floating", "I64");
        fails(IndexOutOfBoundsException.class, () -> logits.crossEntropy(Tensor.of(new long[] {0, 3}, 2)), "crossEntropy", "[0, 3)", "index 3");
        fails(IndexOutOfBoundsException.class, () -> logits.crossEntropy(Tensor.of(new long[] {-2, 0}, 2)), "crossEntropy", "[0, 3)", "index -2");
        fails(IndexOutOfBoundsException.class, () -> logits.nllLoss(Tensor.of(new long[] {7, 0}, 2)), "nllLoss", "[0, 3)", "index 7");
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(Tensor.of(new long[] {0, 1}, 2).to(D1)), "crossEntropy", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> logits.crossEntropy(Tensor.of(new long[] {0, 1}, 2), -100, 1.5), "crossEntropy", "labelSmoothing", "1.5");
        assertNull(logits.grad());
        // The ignore index is not out of range: that row is left out of the mean.
        Tensor loss = logits.crossEntropy(Tensor.of(new long[] {-100, 2}, 2));
        double[] row = {0.0, 0.1, 0.2};
        double lse = Math.log(Math.exp(row[0]) + Math.exp(row[1]) + Math.exp(row[2]));
        assertEquals(lse - row[2], loss.item(), 1e-6);
    }

    @Test
    void embeddingChecksIdsAndTable() {
        Tensor table = matrix(4, 2).requiresGrad(true);
        fails(IllegalArgumentException.class, () -> Tensor.embedding(table, Tensor.of(new float[] {0}, 1)), "embedding", "integer ids", "F32");
        fails(IndexOutOfBoundsException.class, () -> Tensor.embedding(table, Tensor.of(new long[] {1, 4}, 2)), "embedding", "[0, 4)", "index 4");
        fails(IndexOutOfBoundsException.class, () -> Tensor.embedding(table, Tensor.of(new long[] {-1}, 1)), "embedding", "[0, 4)", "index -1");
        fails(IllegalArgumentException.class, () -> Tensor.embedding(table, Tensor.of(new long[] {0}, 1).to(D1)), "embedding", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> Tensor.embedding(Tensor.randn(4), Tensor.of(new long[] {0}, 1)), "embedding", "[V, D]", shape(4));
        fails(IndexOutOfBoundsException.class, () -> table.gather(1, Tensor.of(new long[] {0, 2, 1, 0}, 4, 1)), "gather", "index 2", "size 2");
        fails(IndexOutOfBoundsException.class, () -> table.indexSelect(0, Tensor.of(new long[] {5}, 1)), "indexSelect", "index 5", "size 4");
        assertNull(table.grad());
    }

    @Test
    void convolutionAndPoolingParametersAreChecked() {
        Tensor x = Tensor.randn(1, 2, 4, 4).requiresGrad(true), w = Tensor.randn(3, 2, 2, 2);
        fails(IllegalArgumentException.class, () -> Tensor.maxPool2d(x, 2, 0), "maxPool2d", "stride", "0");
        fails(IllegalArgumentException.class, () -> Tensor.avgPool2d(x, 2, -1), "avgPool2d", "stride", "-1");
        fails(IllegalArgumentException.class, () -> Tensor.conv2d(x, w, null, 0, 0), "conv2d", "stride", "0");
        fails(IllegalArgumentException.class, () -> Tensor.conv2d(x, w, null, 1, -1), "conv2d", "padding", "-1");
        fails(IllegalArgumentException.class, () -> Tensor.conv2d(x, w, Tensor.randn(2), 1, 0), "conv2d", "bias", "[3]", shape(2));
        fails(IllegalArgumentException.class, () -> Tensor.conv2d(x, w, Tensor.randn(DType.F32, D1, 3), 1, 0), "conv2d", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> Tensor.conv2d(x, Tensor.randn(3, 3, 2, 2), null, 1, 0), "conv2d", "2 channels", "expects 3");
        fails(IllegalArgumentException.class, () -> Tensor.maxPool2d(x, 5, 1), "maxPool2d", "5x5", "4x4");
        fails(IllegalArgumentException.class, () -> Tensor.maxPool2d(x, 1, 1, new ConvParams(1, 1, 1, 1, 1, 1, 1)), "maxPool2d", "padding 1x1");
        fails(IllegalArgumentException.class, () -> x.dropout(1.5, true), "dropout", "1.5");
        assertNull(x.grad());
    }

    // ------------------------------------------------------------------ shapes, devices, closed tensors

    @Test
    void opsRejectMixedDevicesAndShapes() {
        Tensor a = matrix(2, 3).requiresGrad(true), b = matrix(2, 3).to(D1), c = matrix(2, 2);
        fails(IllegalArgumentException.class, () -> a.add(b), "add", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> a.matmul(b.transpose(0, 1)), "matmul", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> Tensor.where(a.gt(0.0), a, b), "where", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> Tensor.cat(List.of(a, b), 0), "cat", "cpu:0", "cpu:1");
        fails(IllegalArgumentException.class, () -> a.mul(c), "mul", shape(2, 3), shape(2, 2));
        fails(IllegalArgumentException.class, () -> a.matmul(c), "matmul", shape(2, 3), shape(2, 2));
        fails(IllegalArgumentException.class, () -> a.reshape(4, 2), "reshape", shape(4, 2), "6 elements");
        fails(IndexOutOfBoundsException.class, () -> a.sum(2, false), "sum", "dim 2", "rank 2");
        fails(IndexOutOfBoundsException.class, () -> a.softmax(-3), "softmax", "dim -3");
        fails(IndexOutOfBoundsException.class, () -> a.narrow(1, 2, 2), "narrow", "size 3");
        fails(IllegalArgumentException.class, () -> a.split(new long[] {4, -1}, 1), "split", "[4, -1]");
        fails(IllegalArgumentException.class, () -> Tensor.stack(List.of(a, c), 0), "stack", shape(2, 3), shape(2, 2));
        fails(IllegalArgumentException.class, () -> a.norm(0, new int[] {0}, false), "norm", "p > 0", "0.0");
        fails(IllegalStateException.class, a::item, "item", "one element", shape(2, 3));
        // A failed op leaves no half-recorded node behind: the next backward is exact.
        a.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {3, 3, 3, 3, 3, 3}, a.grad().toDoubleArray());
    }

    @Test
    void opsOnAClosedTensorFailNamingTheOp() {
        Tensor x = leaf(1, 2), y = leaf(3, 4);
        x.close();
        fails(IllegalStateException.class, () -> x.add(y), "add:", "closed");
        fails(IllegalStateException.class, () -> y.mul(x), "mul:", "closed");
        fails(IllegalStateException.class, x::relu, "relu:", "closed");
        fails(IllegalStateException.class, x::sum, "sum:", "closed");
        fails(IllegalStateException.class, () -> x.reshape(2, 1), "reshape:", "closed");
        fails(IllegalStateException.class, () -> x.matmul(y), "matmul:", "closed");
        fails(IllegalStateException.class, x::toFloatArray, "toFloatArray:", "closed");
        fails(IllegalStateException.class, x::item, "item:", "closed");
        Tensor logits = matrix(2, 3), targets = Tensor.of(new long[] {0, 1}, 2);
        targets.close();
        fails(IllegalStateException.class, () -> logits.crossEntropy(targets), "crossEntropy:", "closed");
        fails(IllegalStateException.class, () -> Tensor.embedding(matrix(3, 2), targets), "embedding:", "closed");
    }

    @Test
    void closingInputsAfterTheForwardPassDoesNotBreakBackward() {
        // Saved arrays are references of their own: the graph keeps what backward needs.
        Tensor x = leaf(1, 2), w = leaf(3, 4);
        Tensor prod = x.mul(w);
        Tensor loss = prod.exp().sum();
        prod.close();
        Tensor xs = x.detach();
        loss.backward();
        double[] gx = x.grad().toDoubleArray(), gw = w.grad().toDoubleArray();
        assertEquals(3 * Math.exp(3), gx[0], 1e-3);
        assertEquals(4 * Math.exp(8), gx[1], 1e-2);
        assertEquals(1 * Math.exp(3), gw[0], 1e-3);
        assertEquals(2 * Math.exp(8), gw[1], 1e-2);
        assertArrayEquals(new float[] {1, 2}, xs.toFloatArray());
    }
}
