package io.jtensor.nn.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.autograd.AutocastOp;
import io.jtensor.autograd.Tensor;
import io.jtensor.badinput.BadInput;
import io.jtensor.nn.Functional;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Reduction;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** The precision table under autocast (F16 and BF16), the cast cache, nesting, disable and the hand-over to a thread. */
class AutocastTest {
    private static Tensor f32(long... shape) { return Tensor.randn(new Generator(shape.length * 31L + shape[0]), DType.F32, Device.cpu(), shape); }

    private static Tensor positive(long... shape) { return f32(shape).abs().add(0.5); }

    /** Every op of the table with F32 inputs (and, for the fp32 row, half inputs) and the dtype it must give. */
    private static Map<AutocastOp, Supplier<Tensor>> opsWithF32Inputs(DType half) {
        Map<AutocastOp, Supplier<Tensor>> m = new LinkedHashMap<>();
        Tensor a = f32(4, 8), b = f32(8, 3), w = f32(5, 8), bias = f32(5);
        Tensor h = f32(4, 8).to(half);
        Tensor targets = Tensor.of(new long[] {0, 2, 1, 7}, 4);
        m.put(AutocastOp.MATMUL, () -> a.matmul(b));
        m.put(AutocastOp.LINEAR, () -> Tensor.linear(a, w, bias));
        m.put(AutocastOp.CONV2D, () -> Tensor.conv2d(f32(2, 3, 6, 6), f32(4, 3, 3, 3), f32(4), 1, 1));
        m.put(AutocastOp.SOFTMAX, () -> h.softmax(1));
        m.put(AutocastOp.LOG_SOFTMAX, () -> h.logSoftmax(1));
        m.put(AutocastOp.CROSS_ENTROPY, () -> h.crossEntropy(targets));
        m.put(AutocastOp.NLL_LOSS, () -> h.nllLoss(targets));
        m.put(AutocastOp.LOSS, () -> Functional.mseLoss(h, h.mul(0.5), Reduction.MEAN));
        m.put(AutocastOp.LAYER_NORM, () -> h.layerNorm(1, null, null, 1e-5));
        m.put(AutocastOp.BATCH_NORM, () -> h.batchNorm(null, null, 1e-5).out());
        m.put(AutocastOp.SUM, () -> h.sum());
        m.put(AutocastOp.MEAN, () -> h.mean());
        m.put(AutocastOp.NORM, () -> h.norm());
        m.put(AutocastOp.EXP, () -> h.exp());
        m.put(AutocastOp.LOG, () -> h.abs().add(1).log());
        m.put(AutocastOp.POW, () -> h.pow(2.0));
        m.put(AutocastOp.RSQRT, () -> h.abs().add(1).rsqrt());
        m.put(AutocastOp.ADD, () -> h.add(a));
        m.put(AutocastOp.SUB, () -> h.sub(a));
        m.put(AutocastOp.MUL, () -> h.mul(a));
        m.put(AutocastOp.DIV, () -> h.div(positive(4, 8)));
        m.put(AutocastOp.MAXIMUM, () -> h.maximum(a));
        m.put(AutocastOp.MINIMUM, () -> h.minimum(a));
        m.put(AutocastOp.CAT, () -> Tensor.cat(List.of(h, a), 0));
        m.put(AutocastOp.STACK, () -> Tensor.stack(List.of(h, a), 0));
        m.put(AutocastOp.WHERE, () -> Tensor.where(a.gt(0), h, a));
        return m;
    }

    /** What each row gives for these inputs: half for products of F32, F32 for the fp32 row of half, F32 for half+F32. */
    private static DType expected(AutocastOp op, DType half) {
        return switch (op.precision()) {
            case HALF -> half;
            case FP32 -> DType.F32;
            case WIDEST -> DType.F32;
        };
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16"})
    void everyOpOfTheTableRunsInItsRowsPrecision(DType half) {
        Map<AutocastOp, Supplier<Tensor>> ops = opsWithF32Inputs(half);
        assertEquals(EnumSet.allOf(AutocastOp.class), EnumSet.copyOf(ops.keySet()), "every table entry is tested");
        try (Autocast ac = Autocast.enable(half)) {
            for (var e : ops.entrySet()) assertEquals(expected(e.getKey(), half), e.getValue().get().dtype(), e.getKey() + " under " + half);
            // widest of two halves stays half; the products of half inputs stay half
            Tensor h = f32(4, 8).to(half);
            assertEquals(half, h.add(h).dtype());
            assertEquals(half, Tensor.cat(List.of(h, h), 1).dtype());
            // batched matmul and the attention products
            assertEquals(half, f32(2, 4, 8).matmul(f32(2, 8, 3)).dtype(), "batched matmul");
            var att = Functional.scaledDotProductAttention(f32(2, 4, 8), f32(2, 5, 8), f32(2, 5, 8), null, 0, false, null);
            assertEquals(half, att.output().dtype(), "attention output");
            assertEquals(DType.F32, att.weights().dtype(), "attention weights (softmax)");
            // batch norm in eval mode (running statistics) is in the same row
            io.jtensor.nn.BatchNorm1d bn = new io.jtensor.nn.BatchNorm1d(8);
            bn.eval();
            assertEquals(DType.F32, bn.forward(h).dtype(), "eval-mode batch norm");
            // F64 is never narrowed
            assertEquals(DType.F64, f32(3, 3).to(DType.F64).exp().dtype());
        }
        // outside: ops run as given
        assertEquals(DType.F32, f32(4, 8).matmul(f32(8, 3)).dtype());
        assertEquals(half, f32(4, 8).to(half).exp().dtype());
    }

    @Test
    void gradientsFlowThroughTheCastsToFp32ParametersAndMatchFp32() {
        Linear lin = new Linear(8, 5, true, new Generator(3));
        Tensor x = f32(4, 8);
        lin.forward(x).square().sum().backward();
        float[] ref = lin.weight().grad().toFloatArray();
        lin.zeroGrad();
        try (Autocast ac = Autocast.enable(DType.F16)) {
            Tensor y = lin.forward(x);
            assertEquals(DType.F16, y.dtype());
            y.square().sum().backward();
        }
        Tensor g = lin.weight().grad();
        assertNotNull(g);
        assertEquals(DType.F32, g.dtype());
        float[] got = g.toFloatArray();
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 0.02 * (1 + Math.abs(ref[i])), "weight grad " + i);
    }

    @Test
    void recurrentCellsRunTheirMatmulsInHalfAndTrainTheirFp32Weights() {
        io.jtensor.nn.GRU gru = new io.jtensor.nn.GRU(4, 6);
        Tensor x = f32(2, 5, 4);
        float[] ref;
        {
            gru.forward(x).square().sum().backward();
            ref = gru.parameters().get(0).grad().toFloatArray();
            gru.zeroGrad();
        }
        try (Autocast ac = Autocast.enable(DType.BF16)) {
            Tensor y = gru.forward(x);
            assertTrue(ac.cachedCasts() > 0, "the cell's weights were cast once for all steps");
            y.to(DType.F32).square().sum().backward();
        }
        Tensor g = gru.parameters().get(0).grad();
        assertEquals(DType.F32, g.dtype());
        float[] got = g.toFloatArray();
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 0.05 * (1 + Math.abs(ref[i])), "GRU weight grad " + i);
    }

    @Test
    void aParameterIsCastOncePerScopeAndTheCacheIsReleasedOnClose() {
        Tensor w = f32(8, 8).requiresGrad(true);
        Tensor x = f32(2, 8);
        Tensor cast;
        try (Autocast ac = Autocast.enable(DType.F16)) {
            Tensor y = x.matmul(w).matmul(w).matmul(w);
            assertEquals(1, ac.cachedCasts(), "one cast of w for three uses");
            assertEquals(DType.F16, y.dtype());
            y.sum().backward();
            assertEquals(DType.F32, w.grad().dtype());
            ac.close();
            assertEquals(0, ac.cachedCasts());
        }
        try (Autocast ac = Autocast.enable(DType.F16)) {
            x.matmul(w);
            assertEquals(1, ac.cachedCasts(), "a new scope casts again");
        }
        // two forward and backward passes in one scope (gradient accumulation): the second pass recasts
        w.zeroGrad();
        try (Autocast ac = Autocast.enable(DType.F16)) {
            x.matmul(w).sum().backward();
            float[] once = w.grad().toFloatArray();
            x.matmul(w).sum().backward();
            float[] twice = w.grad().toFloatArray();
            for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], twice[i], 1e-3 * (1 + Math.abs(once[i])), "accumulated " + i);
        }
        // tensors outside the graph (no grad) are not cached
        try (Autocast ac = Autocast.enable(DType.F16)) {
            Tensor act = x.mul(2.0);
            act.matmul(f32(8, 2));
            assertEquals(0, ac.cachedCasts());
        }
    }

    @Test
    void nestedScopesAndDisableWorkAsInPyTorch() {
        Tensor a = f32(3, 4), b = f32(4, 2);
        assertFalse(Autocast.isEnabled());
        try (Autocast outer = Autocast.enable(DType.F16)) {
            assertEquals(DType.F16, a.matmul(b).dtype());
            try (Autocast inner = Autocast.enable(DType.BF16)) {
                assertEquals(DType.BF16, a.matmul(b).dtype());
            }
            assertEquals(DType.F16, a.matmul(b).dtype());
            try (Autocast off = Autocast.disable()) {
                assertFalse(Autocast.isEnabled());
                assertEquals(DType.F32, a.matmul(b).dtype());
                try (Autocast again = Autocast.enable(DType.BF16)) {
                    assertEquals(DType.BF16, a.matmul(b).dtype());
                }
                assertEquals(DType.F32, a.matmul(b).dtype());
            }
            assertEquals(DType.F16, a.matmul(b).dtype());
            BadInput.fails(IllegalStateException.class, () -> {
                Autocast inner = Autocast.enable(DType.BF16);
                try {
                    outer.close();
                } finally {
                    inner.close();
                }
            }, "Autocast.close", "reverse order");
        }
        assertFalse(Autocast.isEnabled());
        assertEquals(DType.F32, a.matmul(b).dtype());
    }

    @Test
    void aSnapshotReopensTheStateOnAnotherThread() throws InterruptedException {
        Tensor a = f32(3, 4), b = f32(4, 2);
        Autocast.Snapshot snap;
        AtomicReference<Object> inWorker = new AtomicReference<>(), bareWorker = new AtomicReference<>();
        try (Autocast ac = Autocast.enable(DType.BF16)) {
            snap = Autocast.current();
            Thread bare = new Thread(() -> bareWorker.set(a.matmul(b).dtype()), "bare-replica");
            bare.start();
            bare.join(10_000);
            assertFalse(bare.isAlive(), "bare-replica thread stalled");
        }
        assertTrue(snap.enabled());
        Thread worker = new Thread(() -> {
            try (Autocast ac = snap.open()) {
                inWorker.set(a.matmul(b).dtype());
            } catch (Throwable t) {
                inWorker.set(t);
            }
        }, "replica-0");
        worker.start();
        worker.join(10_000);
        assertFalse(worker.isAlive(), "replica-0 thread stalled");
        assertEquals(DType.F32, bareWorker.get(), "autocast is thread-local");
        assertEquals(DType.BF16, inWorker.get(), "the snapshot re-opened on the replica");
        assertFalse(Autocast.current().enabled());
    }

    @Test
    void autocastWithANonHalfTypeFails() {
        BadInput.fails(IllegalArgumentException.class, () -> Autocast.enable(DType.F32), "Autocast.enable", "F16 or BF16", "F32");
        BadInput.fails(IllegalArgumentException.class, () -> Autocast.enable(DType.I64), "Autocast.enable", "I64");
        Set<AutocastOp.Precision> rows = EnumSet.noneOf(AutocastOp.Precision.class);
        for (AutocastOp op : AutocastOp.values()) rows.add(op.precision());
        assertArrayEquals(AutocastOp.Precision.values(), rows.toArray());
    }
}
