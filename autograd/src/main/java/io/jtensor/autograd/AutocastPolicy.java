package io.jtensor.autograd;

import io.jtensor.DType;

/**
 * What an autocast scope gives the op families: the half type the {@link AutocastOp.Precision#HALF} row runs in, and
 * the casts themselves (so that a scope can cache the cast of a parameter). Installed per thread by
 * {@link Autocasting#install}; {@code io.jtensor.nn.amp.Autocast} is the implementation users open.
 *
 * <p>What an implementation may assume: {@link #cast} is called only for a floating tensor whose dtype differs from
 * {@code dtype}, on the thread that installed the policy, with grad mode as the op sees it. It must return a tensor
 * of that dtype whose gradient flows back to {@code t} (a {@code t.to(dtype)}, or an earlier such cast of the same
 * tensor). When it keeps a cast for later ops it must say so through {@link #ownsCast}, and release it itself; every
 * other cast is closed by the op family once the op has run (the op's node keeps what it saved).
 */
public interface AutocastPolicy {
    /** F16 or BF16. */
    DType halfType();

    /** {@code t} converted to {@code dtype}, differentiably. */
    Tensor cast(Tensor t, DType dtype);

    /** Whether {@code cast} is a cached cast this policy releases itself (the op family must not close it). */
    boolean ownsCast(Tensor cast);
}
