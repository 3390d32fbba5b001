package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Gated recurrent unit with PyTorch's equations (gates r, z, n; see {@link RecurrentCells#gru}). */
public class GRU extends RecurrentBase {
    public GRU(long inputSize, long hiddenSize) { this(RecurrentConfig.of(inputSize, hiddenSize)); }

    public GRU(RecurrentConfig config) { super(Cell.GRU, config); }

    /** Output, and the final hidden states, from h0 [L*D, B, H] (null: zeros). */
    public RecurrentOutput forward(Tensor x, Tensor h0) { return run(x, h0, null); }
}
