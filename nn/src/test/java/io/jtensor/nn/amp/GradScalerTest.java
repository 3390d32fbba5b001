package io.jtensor.nn.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.badinput.BadInput;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.Linear;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.GradClip;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.SGD;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dynamic loss scaling: skipped steps, backoff and growth, unscale before clipping, checkpoints, pass-through, DDP. */
class GradScalerTest {
    private static Linear model(long seed) { return new Linear(6, 3, true, new Generator(seed)); }

    private static Tensor x() { return Tensor.randn(new Generator(9), DType.F32, Device.cpu(), 5, 6); }

    /** Sets every parameter's gradient to {@code value} (inf or NaN to plant an overflow in one element). */
    private static void plantGradient(Linear m, double value) {
        Tensor w = m.weight();
        float[] g = new float[(int) w.numel()];
        java.util.Arrays.fill(g, 0.25f);
        g[3] = (float) value;
        w.setGrad(Tensor.of(g, w.shape()));
        m.bias().setGrad(Tensor.full(0.5, m.bias().shape()));
    }

    private static List<float[]> snapshot(Optimizer opt) {
        List<float[]> out = new ArrayList<>();
        for (Tensor p : opt.params()) out.add(p.toFloatArray());
        for (NDArray a : opt.stateDict().values()) out.add(a.toFloatArray());
        return out;
    }

    @Test
    void anInfOrNanGradientSkipsTheStepHalvesTheScaleAndLeavesEverythingUntouched() {
        for (double bad : new double[] {Double.POSITIVE_INFINITY, Double.NaN}) {
            Linear m = model(1);
            Optimizer opt = new Adam(m.parameters(), 0.01);
            GradScaler scaler = new GradScaler();
            // a clean step first, so that there is optimizer state to leave alone
            plantGradient(m, 0.25);
            assertTrue(scaler.step(opt));
            scaler.update();
            assertEquals(65536.0, scaler.getScale());
            List<float[]> before = snapshot(opt);
            plantGradient(m, bad);
            assertFalse(scaler.step(opt), "skipped on " + bad);
            scaler.update();
            assertEquals(32768.0, scaler.getScale(), "backoff x0.5 on " + bad);
            assertEquals(1, scaler.skippedSteps());
            List<float[]> after = snapshot(opt);
            for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i), after.get(i), "weights and state untouched, entry " + i);
        }
    }

    @Test
    void cleanStepsForTheGrowthIntervalDoubleTheScale() {
        Linear m = model(2);
        Optimizer opt = new SGD(m.parameters(), 0.0);
        GradScaler scaler = new GradScaler(1024, 2, 0.5, 5, true);
        for (int i = 0; i < 4; i++) {
            plantGradient(m, 0.25);
            assertTrue(scaler.step(opt));
            scaler.update();
            assertEquals(1024, scaler.getScale(), "after " + (i + 1) + " clean steps");
        }
        plantGradient(m, 0.25);
        scaler.step(opt);
        scaler.update();
        assertEquals(2048, scaler.getScale(), "doubled after 5 clean steps");
        assertEquals(0, scaler.growthTracker());
        // an overflow resets the count
        for (int i = 0; i < 3; i++) {
            plantGradient(m, 0.25);
            scaler.step(opt);
            scaler.update();
        }
        plantGradient(m, Double.POSITIVE_INFINITY);
        scaler.step(opt);
        scaler.update();
        assertEquals(1024, scaler.getScale());
        assertEquals(0, scaler.growthTracker());
        // the default interval is PyTorch's 2000
        GradScaler defaults = new GradScaler();
        Linear m2 = model(3);
        Optimizer opt2 = new SGD(m2.parameters(), 0.0);
        for (int i = 0; i < 1999; i++) {
            plantGradient(m2, 0.25);
            defaults.step(opt2);
            defaults.update();
        }
        assertEquals(65536.0, defaults.getScale());
        plantGradient(m2, 0.25);
        defaults.step(opt2);
        defaults.update();
        assertEquals(131072.0, defaults.getScale(), "doubled after 2000 clean steps");
    }

    @Test
    void unscaleThenClipThenStepEqualsClippingTheTrueGradients() {
        Linear scaled = model(4), plain = model(4);
        Optimizer optS = new SGD(scaled.parameters(), 0.1, 0.9), optP = new SGD(plain.parameters(), 0.1, 0.9);
        GradScaler scaler = new GradScaler(4096, 2, 0.5, 2000, true);
        Tensor x = x();
        for (int step = 0; step < 3; step++) {
            optS.zeroGrad();
            optP.zeroGrad();
            scaler.scale(scaled.forward(x).square().sum()).backward();
            scaler.unscale(optS);
            double normS = GradClip.clipGradNorm(optS.params(), 0.5);
            assertTrue(scaler.step(optS));
            scaler.update();
            plain.forward(x).square().sum().backward();
            double normP = GradClip.clipGradNorm(optP.params(), 0.5);
            optP.step();
            assertEquals(normP, normS, 1e-4 * normP, "clipping saw the true norm at step " + step);
            assertTrue(normP > 0.5, "the test clips");
        }
        float[] a = scaled.weight().toFloatArray(), b = plain.weight().toFloatArray();
        for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-5, "weight " + i);
    }

    @Test
    void misuseFailsNamingTheExpectedOrder() {
        Linear m = model(5);
        Optimizer opt = new SGD(m.parameters(), 0.1);
        GradScaler scaler = new GradScaler();
        BadInput.fails(IllegalStateException.class, scaler::update, "GradScaler.update", "no step");
        plantGradient(m, 0.25);
        scaler.unscale(opt);
        BadInput.fails(IllegalStateException.class, () -> scaler.unscale(opt), "GradScaler.unscale", "already called");
        scaler.step(opt);
        BadInput.fails(IllegalStateException.class, () -> scaler.step(opt), "GradScaler.step", "already called", "update()");
        scaler.update();
        plantGradient(m, 0.25);
        assertTrue(scaler.step(opt), "after update a new step is allowed");
        BadInput.fails(IllegalArgumentException.class, () -> new GradScaler(0, 2, 0.5, 10, true), "GradScaler", "initScale");
        BadInput.fails(IllegalArgumentException.class, () -> new GradScaler(1, 2, 1.5, 10, true), "GradScaler", "backoffFactor");
    }

    @Test
    void disabledScalerIsAPassThrough() {
        Linear m = model(6), ref = model(6);
        Optimizer opt = new SGD(m.parameters(), 0.1), optR = new SGD(ref.parameters(), 0.1);
        GradScaler off = new GradScaler(false);
        Tensor loss = m.forward(x()).sum();
        assertSame(loss, off.scale(loss));
        assertEquals(1.0, off.getScale());
        loss.backward();
        off.unscale(opt);
        assertTrue(off.step(opt));
        off.update();
        off.step(opt); // no order checks either: every call is the optimizer's or nothing
        ref.forward(x()).sum().backward();
        optR.step();
        optR.step();
        assertArrayEquals(ref.weight().toFloatArray(), m.weight().toFloatArray());
    }

    @Test
    void stateDictRoundTrip() {
        Linear m = model(7);
        Optimizer opt = new SGD(m.parameters(), 0.1);
        GradScaler a = new GradScaler(256, 2, 0.5, 100, true);
        for (int i = 0; i < 3; i++) {
            plantGradient(m, 0.25);
            a.step(opt);
            a.update();
        }
        plantGradient(m, Double.NaN);
        a.step(opt);
        a.update();
        for (int i = 0; i < 2; i++) {
            plantGradient(m, 0.25);
            a.step(opt);
            a.update();
        }
        Map<String, NDArray> sd = a.stateDict();
        assertEquals(128.0, sd.get("scale").item());
        assertEquals(2.0, sd.get("growth_tracker").item());
        GradScaler b = new GradScaler(256, 2, 0.5, 100, true);
        b.loadStateDict(sd);
        assertEquals(128.0, b.getScale());
        assertEquals(2, b.growthTracker());
        sd.values().forEach(NDArray::close);
        BadInput.fails(IllegalArgumentException.class, () -> b.loadStateDict(Map.of()), "GradScaler.loadStateDict", "scale");
    }

    /**
     * A one-process stand-in for a data-parallel job: the all-reduce (MAX) combines this rank's flag with what the
     * other ranks are said to have found.
     */
    private static final class FakeGroup implements ProcessGroup {
        int otherRanksFoundInf;
        int allReduces;
        ReduceOp lastOp;

        @Override public int rank() { return 0; }
        @Override public int size() { return 2; }
        @Override public int localRank() { return 0; }
        @Override public String backend() { return "fake"; }

        @Override public Work allReduceAsync(NDArray array, ReduceOp op) {
            allReduces++;
            lastOp = op;
            assertEquals(DType.I32, array.dtype());
            double mine = array.item();
            array.fill(Math.max(mine, otherRanksFoundInf));
            return new Work() {
                @Override public boolean isCompleted() { return true; }
                @Override public void await(Duration timeout) {}
            };
        }

        @Override public Work broadcastAsync(NDArray array, int root) { throw new UnsupportedOperationException(); }
        @Override public Work allGatherAsync(NDArray out, NDArray input) { throw new UnsupportedOperationException(); }
        @Override public Work reduceScatterAsync(NDArray out, NDArray input, ReduceOp op) { throw new UnsupportedOperationException(); }
        @Override public void barrier() {}
        @Override public Duration timeout() { return Duration.ofSeconds(5); }
        @Override public void close() {}
    }

    @Test
    void withDataParallelEveryRankSkipsWhenAnyRankFoundAnInf() {
        Linear m = model(8);
        Optimizer opt = new SGD(m.parameters(), 0.1);
        FakeGroup group = new FakeGroup();
        GradScaler scaler = new GradScaler().processGroup(group);
        plantGradient(m, 0.25);
        assertTrue(scaler.step(opt), "no rank found an inf");
        scaler.update();
        assertEquals(1, group.allReduces);
        assertEquals(ProcessGroup.ReduceOp.MAX, group.lastOp);
        float[] before = m.weight().toFloatArray();
        group.otherRanksFoundInf = 1;
        plantGradient(m, 0.25);   // clean here, inf on the other rank
        assertFalse(scaler.step(opt), "skipped because another rank overflowed");
        scaler.update();
        assertEquals(32768.0, scaler.getScale());
        assertArrayEquals(before, m.weight().toFloatArray());
        assertEquals(2, group.allReduces, "one all-reduce per step");
    }
}
