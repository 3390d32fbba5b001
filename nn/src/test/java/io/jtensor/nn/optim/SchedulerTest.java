package io.jtensor.nn.optim;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.autograd.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Learning-rate sequences against values computed by hand. */
class SchedulerTest {
    private Tensor p;
    private SGD opt;

    @BeforeEach void setUp() {
        p = Quadratic.param(DType.F64, true);
        opt = new SGD(List.of(p), 0.1);
    }

    @AfterEach void tearDown() {
        opt.close();
        p.close();
    }

    private double lr() { return opt.paramGroups().get(0).lr(); }

    @Test void stepLrDecaysEveryStepSizeEpochs() {
        StepLR s = new StepLR(opt, 3, 0.5);
        double[] expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
        for (int e = 0; e < expected.length; e++) {
            assertEquals(expected[e], lr(), 1e-15, "epoch " + e);
            s.step();
        }
    }

    @Test void cosineWithoutWarmupMatchesTheClosedForm() {
        CosineAnnealingLR s = new CosineAnnealingLR(opt, 4, 0.01);
        // eta_min + (base - eta_min)(1 + cos(pi e / 4))/2 for e = 0..4, then flat.
        double[] expected = {0.1, 0.01 + 0.09 * (1 + Math.sqrt(0.5)) / 2, 0.055, 0.01 + 0.09 * (1 - Math.sqrt(0.5)) / 2, 0.01, 0.01};
        for (int e = 0; e < expected.length; e++) {
            assertEquals(expected[e], lr(), 1e-15, "epoch " + e);
            s.step();
        }
    }

    @Test void cosineWithLinearWarmup() {
        CosineAnnealingLR s = new CosineAnnealingLR(opt, 6, 0.0, 2, 0.2);
        // warm-up: 0.1*(0.2 + 0.8*e/2) for e = 0, 1; then cosine over e - 2 in [0, 4].
        double[] expected = {0.02, 0.06, 0.1, 0.05 * (1 + Math.sqrt(0.5)), 0.05, 0.05 * (1 - Math.sqrt(0.5)), 0.0};
        for (int e = 0; e < expected.length; e++) {
            assertEquals(expected[e], lr(), 1e-15, "epoch " + e);
            s.step();
        }
    }

    @Test void schedulerStateRestoresTheSequence() {
        StepLR s = new StepLR(opt, 2, 0.1);
        s.step();
        s.step();
        s.step();
        Map<String, Double> st = s.stateDict();
        try (Tensor q = Quadratic.param(DType.F64, true); SGD o2 = new SGD(List.of(q), 0.1)) {
            o2.paramGroups().get(0).setLr(123); // whatever it was, loading sets it
            StepLR s2 = new StepLR(o2, 2, 0.1);
            s2.loadStateDict(st);
            assertEquals(lr(), o2.paramGroups().get(0).lr(), 1e-15);
            s.step();
            s2.step();
            assertEquals(0.001, o2.paramGroups().get(0).lr(), 1e-15);
            assertEquals(lr(), o2.paramGroups().get(0).lr(), 1e-15);
        }
    }

    /** Runs a plateau scheduler over metric values and returns the lr after each. */
    private double[] plateau(ReduceLROnPlateau s, double... metrics) {
        double[] out = new double[metrics.length];
        for (int i = 0; i < metrics.length; i++) {
            s.step(metrics[i]);
            out[i] = lr();
        }
        return out;
    }

    @Test void plateauReducesAfterMoreThanPatienceBadEpochs() {
        var s = new ReduceLROnPlateau(opt, "val_loss", ReduceLROnPlateau.Mode.MIN, 0.5, 2, 0.0, ReduceLROnPlateau.ThresholdMode.ABS, 0, 0);
        // best 1.0 at epoch 0; bad epochs 1, 2 (patience), the third bad one (epoch 3) halves the rate; counter resets.
        double[] lrs = plateau(s, 1.0, 1.0, 1.2, 1.1, 1.0, 1.0, 1.0, 0.5);
        assertArrayEquals(new double[] {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025}, lrs, 1e-15);
    }

    @Test void plateauThresholdCooldownAndMinLr() {
        // rel threshold 0.1: 0.95 is not better than 1.0*(1-0.1); cooldown 1; minLr 0.03.
        var s = new ReduceLROnPlateau(opt, "val_loss", ReduceLROnPlateau.Mode.MIN, 0.5, 0, 0.1, ReduceLROnPlateau.ThresholdMode.REL, 1, 0.03);
        double[] lrs = plateau(s, 1.0, 0.95, 0.95, 0.95, 0.95, 0.95);
        // e0 best; e1 bad -> reduce to 0.05, cooldown 1; e2 in cooldown: bad count reset; e3 bad -> max(0.025, 0.03);
        // e4 cooldown; e5 bad -> stays at minLr.
        assertArrayEquals(new double[] {0.1, 0.05, 0.05, 0.03, 0.03, 0.03}, lrs, 1e-15);
    }

    @Test void plateauMaxModeReadsTheMonitoredLog() {
        var s = new ReduceLROnPlateau(opt, "val_accuracy", ReduceLROnPlateau.Mode.MAX, 0.1, 0, 0.0, ReduceLROnPlateau.ThresholdMode.ABS, 0, 0);
        s.epochEnd(Map.of("val_accuracy", 0.5));
        s.epochEnd(Map.of("val_accuracy", 0.6));
        assertEquals(0.1, lr(), 1e-15);
        s.epochEnd(Map.of("val_accuracy", 0.6));
        assertEquals(0.01, lr(), 1e-15);
        var e = assertThrows(IllegalStateException.class, () -> s.epochEnd(Map.of("loss", 1.0)));
        assertTrue(e.getMessage().contains("val_accuracy"));
    }

    @Test void badScheduleArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new StepLR(opt, 0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(opt, 2, 0, 2, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new ReduceLROnPlateau(opt, "x", ReduceLROnPlateau.Mode.MIN, 1.5, 1, 0, ReduceLROnPlateau.ThresholdMode.REL, 0, 0));
    }

}
