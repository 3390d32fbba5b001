package io.jtensor.nn.amp;

import java.util.Arrays;

/**
 * Apex's optimisation levels. O0: fp32 (the reference). O1: the model stays fp32, ops are autocast, the loss is
 * scaled dynamically. O2: the model is cast to half except batch norm (kept fp32), the optimizer steps fp32 master
 * weights, gradients are copied into the masters and unscaled there, and the masters are copied back into the half
 * model after each step. O3: pure half, no masters, no scaling (a speed baseline).
 */
public enum OptLevel {
    O0, O1, O2, O3;

    /** "O0".."O3" (case-insensitive); anything else fails naming what was expected. */
    public static OptLevel parse(String s) {
        if (s != null) {
            for (OptLevel l : values()) if (l.name().equalsIgnoreCase(s.trim())) return l;
        }
        throw new IllegalArgumentException("OptLevel: expected one of " + Arrays.toString(values()) + ", got '" + s + "'");
    }
}
