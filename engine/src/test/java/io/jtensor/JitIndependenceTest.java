package io.jtensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The CPU's transcendental ops give the same bits whatever the JIT compiled: a JVM limited to C1 runs the Vector
 * API's Java fallbacks, this one, warmed up, the C2-compiled code. With lanewise(VectorOperators.EXP) and friends
 * the digests differed (C2's intrinsics round differently), so seeded training with softmax over 16 or more classes,
 * sigmoid, tanh or normal draws was not reproducible; VectorMath computes them from correctly rounded operations.
 */
class JitIndependenceTest {
    @Test
    void transcendentalOpsGiveTheSameBitsInEveryJitTier() throws Exception {
        String c1Only = ChildJvm.lastLine(OpDigests.class, "-XX:TieredStopAtLevel=1");
        for (int warm = 0; warm < 300; warm++) OpDigests.digest();
        String warmed = OpDigests.digest();
        assertTrue(c1Only.matches("[0-9a-f]{64}"), "expected a SHA-256 from the child JVM, got: " + c1Only);
        assertEquals(c1Only, warmed, "this JVM, warmed up, computed other bits than a C1-only JVM");
    }
}
