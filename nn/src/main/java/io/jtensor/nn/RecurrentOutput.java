package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/**
 * What a recurrent layer returns: {@code output} [T, B, D*H] ([B, T, D*H] when batch-first) holds the last layer's
 * hidden state at every step (both directions concatenated); {@code hN} [L*D, B, H] the final hidden state of each
 * layer and direction; {@code cN} the LSTM's final cell states in the same layout (null for RNN and GRU).
 */
public record RecurrentOutput(Tensor output, Tensor hN, Tensor cN) {}
