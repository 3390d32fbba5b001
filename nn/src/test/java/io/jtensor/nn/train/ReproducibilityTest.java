package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.ChildJvm;
import org.junit.jupiter.api.Test;

/**
 * Seeded CPU training gives bit-identical weights whatever the JIT does (for one thread count: with another, sums
 * split differently over the threads). Run-to-run differences were real
 * (engine/.../backend/cpu/NOTES.md): {@code reduceLanes(ADD)} summed vector lanes in one order in the Java fallback
 * and in another once C2 intrinsified it, so results depended on when methods got compiled. A JVM limited to C1
 * never runs the intrinsics, and this JVM, warmed up, runs them everywhere: equal digests mean no result depends on
 * the compiler.
 */
class ReproducibilityTest {
    @Test void seededTrainingIsBitIdenticalAcrossJvmsAndJitTiers() throws Exception {
        String c1Only = ChildJvm.lastLine(SeededTraining.class, "-XX:TieredStopAtLevel=1");
        String fresh = ChildJvm.lastLine(SeededTraining.class);
        for (int warm = 0; warm < 2; warm++) SeededTraining.digest();
        String warmed = SeededTraining.digest();
        assertTrue(c1Only.matches("[0-9a-f]{64}"), "expected a SHA-256 from the child JVM, got: " + c1Only);
        assertEquals(c1Only, fresh, "a fresh JVM with C2 trained to other weights than a C1-only JVM");
        assertEquals(c1Only, warmed, "this JVM, warmed up, trained to other weights than a C1-only JVM");
    }
}
