package io.jtensor.autograd;

import io.jtensor.NDArray;

/**
 * What {@link Tensor#batchNorm} gives: the normalised output (in the graph) and the batch's per-channel mean and
 * biased variance ([C], F32 or F64; not in the graph), which the caller owns, for running statistics.
 */
public record BatchNormResult(Tensor out, NDArray mean, NDArray var) implements AutoCloseable {
    /** Closes the statistics; the output lives on. */
    @Override public void close() {
        mean.close();
        var.close();
    }
}
