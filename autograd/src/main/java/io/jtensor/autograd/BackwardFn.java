package io.jtensor.autograd;

import io.jtensor.NDArray;

/** The derivative rule of one recorded op: input gradients from the gradient of its output. */
@FunctionalInterface
public interface BackwardFn {
    /**
     * Returns one entry per input: its gradient (any shape that broadcasts to the input's, any floating dtype; the
     * engine reduces and casts), or null where {@code needsGrad[i]} is false. The returned arrays are new references
     * that the caller owns ({@code gradOut.share()} passes the gradient through). {@code gradOut} stays owned by the
     * caller and must not be closed here.
     */
    NDArray[] apply(NDArray gradOut, boolean[] needsGrad);
}
