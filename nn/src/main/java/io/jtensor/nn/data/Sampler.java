package io.jtensor.nn.data;

/**
 * Decides which dataset indices one pass (epoch) visits, and in what order. A sampler is a pure function of its
 * configuration and the epoch set by {@link #setEpoch}: the same epoch gives the same indices. The
 * {@link DataLoader} calls {@code setEpoch} before every pass.
 */
public interface Sampler {
    /** How many indices one pass yields. */
    long length();

    /** The indices of one pass for the current epoch. */
    long[] indices();

    /** Selects the epoch whose order {@link #indices()} returns; samplers that do not shuffle ignore it. */
    default void setEpoch(long epoch) {}
}
