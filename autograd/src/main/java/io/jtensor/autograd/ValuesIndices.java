package io.jtensor.autograd;

/** The values of a max/min along a dim (differentiable) and the I64 indices where they were found. */
public record ValuesIndices(Tensor values, Tensor indices) implements AutoCloseable {
    @Override public void close() {
        values.close();
        indices.close();
    }
}
