package io.jtensor.nn.parallel;

import io.jtensor.nn.Module;

/**
 * A module (or criterion) that runs another one on several devices. What is saved and restored of a run that trains
 * through a wrapper is the wrapped module's state, so that a checkpoint loads into the bare module (no
 * {@code module.} prefix, unlike a PyTorch {@code DataParallel}'s state dict).
 */
public interface ModuleWrapper {
    /** The module this one runs. */
    Module module();

    /** The innermost module of {@code m}: m itself unless it wraps another. */
    static Module unwrap(Module m) {
        Module cur = m;
        while (cur instanceof ModuleWrapper w) cur = w.module();
        return cur;
    }
}
