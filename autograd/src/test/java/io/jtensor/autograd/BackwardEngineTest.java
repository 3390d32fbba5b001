package io.jtensor.autograd;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackwardEngineTest {

    private static Tensor leaf(double... v) { return Tensor.of(v, v.length).requiresGrad(true); }

    @Test void gradientsAccumulateAcrossBackwardCalls() {
        Tensor x = leaf(1, 2);
        x.mul(3.0).sum().backward();
        x.mul(x).sum().backward();
        // 3 + 2x
        assertArrayEquals(new double[] {5, 7}, x.grad().toDoubleArray());
        x.zeroGrad();
        assertNull(x.grad());
        x.mul(3.0).sum().backward();
        assertArrayEquals(new double[] {3, 3}, x.grad().toDoubleArray());
    }

    @Test void secondBackwardThroughAFreedGraphFails() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(x).sum();
        y.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("backward through a graph that was already freed; pass retainGraph=true"), e.getMessage());
        assertArrayEquals(new double[] {2, 4}, x.grad().toDoubleArray(), "the failed call added nothing");
    }

    @Test void retainGraphAllowsASecondBackward() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(x).sum();
        y.backward(true);
        y.backward();
        assertArrayEquals(new double[] {4, 8}, x.grad().toDoubleArray());
    }

    @Test void sharedSubgraphGetsTheSumOfBothPaths() {
        // z = x*x is used twice: y = z*3 + z.exp(); dy/dx = (3 + e^(x^2)) * 2x
        Tensor x = leaf(0.5, -1);
        Tensor z = x.mul(x);
        z.mul(3.0).add(z.exp()).sum().backward();
        double[] g = x.grad().toDoubleArray();
        assertEquals((3 + Math.exp(0.25)) * 1.0, g[0], 1e-12);
        assertEquals((3 + Math.exp(1)) * -2.0, g[1], 1e-12);
    }

    @Test void backwardOfALeafSeedsItsGradient() {
        Tensor x = Tensor.scalar(2, DType.F64, io.jtensor.Device.cpu()).requiresGrad(true);
        x.backward();
        assertEquals(1.0, x.grad().item());
    }

    @Test void explicitGradientForNonScalarOutput() {
        Tensor x = leaf(1, 2, 3);
        x.mul(2.0).backward(Tensor.of(new double[] {1, 10, 100}, 3));
        assertArrayEquals(new double[] {2, 20, 200}, x.grad().toDoubleArray());
    }

    @Test void gradientKeepsTheLeafsDtypeUnderPromotion() {
        Tensor x = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor w = Tensor.of(new double[] {0.5, 4}, 2);
        Tensor y = x.mul(w).sum();
        assertEquals(DType.F64, y.dtype());
        y.backward();
        assertEquals(DType.F32, x.grad().dtype());
        assertArrayEquals(new float[] {0.5f, 4}, x.grad().toFloatArray());
    }

    @Test void detachCutsTheGraph() {
        Tensor x = leaf(1, 2);
        Tensor d = x.detach();
        assertFalse(d.requiresGrad());
        assertTrue(d.isLeaf());
        d.mul(x).sum().backward();
        assertArrayEquals(new double[] {1, 2}, x.grad().toDoubleArray(), "only the non-detached factor is differentiated");
    }

    @Test void inputsThatDoNotRequireGradGetNone() {
        Tensor x = leaf(1, 2);
        Tensor c = Tensor.of(new double[] {3, 4}, 2);
        x.mul(c).sum().backward();
        assertNull(c.grad());
    }

    @Test void nonLeafGradientsAreOnlyKeptWhenRetained() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(3.0);
        Tensor k = x.mul(2.0).retainGrad();
        h.mul(h).add(k).sum().backward();
        assertNull(h.grad());
        assertArrayEquals(new double[] {1, 1}, k.grad().toDoubleArray());
        assertFalse(h.isLeaf());
        assertEquals("mul", h.gradFnName());
    }

    @Test void readyHookFiresOncePerBackwardWithTheCompleteGradient() {
        Tensor x = leaf(1, 2);
        List<double[]> seen = new ArrayList<>();
        x.registerHook(g -> seen.add(g.toDoubleArray()));
        // x reaches the loss along three paths; the hook must see their sum: 2 + 2x + 1
        Tensor loss = x.mul(2.0).sum().add(x.mul(x).sum()).add(x.sum());
        loss.backward();
        assertEquals(1, seen.size());
        assertArrayEquals(new double[] {5, 7}, seen.get(0));
        x.mul(x).sum().backward();
        assertEquals(2, seen.size());
        assertArrayEquals(new double[] {7, 11}, seen.get(1), "after the second pass the hook sees the accumulated grad");
    }

    @Test void readyHookMayRewriteTheGradientInPlace() {
        Tensor x = leaf(1, 2);
        x.registerHook(g -> g.data().mulInPlace(0.5));
        x.mul(4.0).sum().backward();
        assertArrayEquals(new double[] {2, 2}, x.grad().toDoubleArray());
    }

    @Test void gradHookTransformsTheGradientOfALeaf() {
        Tensor x = leaf(1, 2);
        x.registerGradHook(g -> g.mul(10.0));
        x.mul(x).sum().backward();
        assertArrayEquals(new double[] {20, 40}, x.grad().toDoubleArray());
    }

    @Test void gradHookOnAnIntermediateChangesWhatFlowsOn() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(3.0);
        List<double[]> seen = new ArrayList<>();
        h.registerGradHook(g -> {
            seen.add(g.toDoubleArray());
            return g.mul(0.0);
        });
        h.mul(h).sum().backward();
        assertArrayEquals(new double[] {6, 12}, seen.get(0), "the hook sees d(h^2)/dh = 2h");
        assertArrayEquals(new double[] {0, 0}, x.grad().toDoubleArray());
    }

    @Test void noGradRecordsNothing() {
        Tensor x = leaf(1, 2);
        Tensor y;
        try (var g = GradMode.noGrad()) {
            assertFalse(GradMode.isEnabled());
            y = x.mul(2.0).exp();
        }
        assertTrue(GradMode.isEnabled());
        assertFalse(y.requiresGrad());
        assertTrue(y.isLeaf());
        assertNull(y.gradFnName());
    }

    @Test void gradModeScopesNestAndAreThreadLocal() throws Exception {
        try (var outer = GradMode.noGrad()) {
            try (var inner = GradMode.enableGrad()) {
                assertTrue(GradMode.isEnabled());
                assertTrue(leaf(1).mul(2.0).requiresGrad());
            }
            assertFalse(GradMode.isEnabled());
            boolean[] other = new boolean[1];
            Thread t = new Thread(() -> other[0] = GradMode.isEnabled());
            t.start();
            t.join();
            assertTrue(other[0], "another thread keeps its own mode");
        }
        assertTrue(GradMode.isEnabled());
    }

    // ------------------------------------------------------------------ errors

    @Test void backwardOfNonScalarNeedsAGradient() {
        Tensor y = leaf(1, 2).mul(2.0);
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("scalar") && e.getMessage().contains("[2]"), e.getMessage());
    }

    @Test void backwardGradientMustMatchTheShape() {
        Tensor y = leaf(1, 2).mul(2.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> y.backward(Tensor.of(new double[] {1, 2, 3}, 3)));
        assertTrue(e.getMessage().contains("backward") && e.getMessage().contains("[3]"), e.getMessage());
    }

    @Test void backwardWithoutGradFails() {
        Tensor y = Tensor.of(new double[] {1}, 1).mul(2.0);
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
    }

    @Test void shapeMismatchNamesTheOp() {
        Tensor a = Tensor.zeros(2, 3).requiresGrad(true);
        IllegalArgumentException add = assertThrows(IllegalArgumentException.class, () -> a.add(Tensor.zeros(4)));
        assertTrue(add.getMessage().contains("add"), add.getMessage());
        IllegalArgumentException mm = assertThrows(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(2, 3)));
        assertTrue(mm.getMessage().contains("matmul") && mm.getMessage().contains("[2, 3]"), mm.getMessage());
        IllegalArgumentException ce = assertThrows(IllegalArgumentException.class, () -> a.crossEntropy(Tensor.of(new long[] {0, 1, 2}, 3)));
        assertTrue(ce.getMessage().contains("crossEntropy"), ce.getMessage());
        IllegalArgumentException conv = assertThrows(IllegalArgumentException.class,
                () -> Tensor.conv2d(Tensor.zeros(1, 3, 4, 4), Tensor.zeros(2, 2, 3, 3), null, 1, 0));
        assertTrue(conv.getMessage().contains("conv2d"), conv.getMessage());
    }

    @Test void onlyFloatingLeavesCanRequireGrad() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new long[] {1}, 1).requiresGrad(true));
        assertTrue(e.getMessage().contains("I64"), e.getMessage());
        Tensor y = leaf(1).mul(2.0);
        assertThrows(IllegalStateException.class, () -> y.requiresGrad(false));
    }

    @Test void readyHooksAreForLeavesOnly() {
        Tensor y = leaf(1).mul(2.0);
        assertThrows(IllegalStateException.class, () -> y.registerHook(g -> {}));
    }

    @Test void ruleFailureNamesTheOp() {
        Tensor x = leaf(1, 2);
        Tensor bad = Recorder.record("badOp", x.data().mul(1.0), x, s -> (g, need) -> {
            throw new IllegalArgumentException("boom");
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.sum().backward());
        assertTrue(e.getMessage().contains("badOp") && e.getMessage().contains("boom"), e.getMessage());
    }

    @Test void wrongGradientShapeFromARuleNamesTheOp() {
        Tensor x = leaf(1, 2);
        Tensor bad = Recorder.record("badShape", x.data().mul(1.0), x, s -> (g, need) -> new NDArray[] {NDArray.zeros(DType.F64, g.device(), 3)});
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.sum().backward());
        assertTrue(e.getMessage().contains("badShape"), e.getMessage());
    }
}
