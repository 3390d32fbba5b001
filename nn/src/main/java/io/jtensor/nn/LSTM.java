package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Long short-term memory with PyTorch's equations (gates i, f, g, o; see {@link RecurrentCells#lstm}). */
public class LSTM extends RecurrentBase {
    public LSTM(long inputSize, long hiddenSize) { this(RecurrentConfig.of(inputSize, hiddenSize)); }

    public LSTM(RecurrentConfig config) { super(Cell.LSTM, config); }

    /** Output, and the final hidden and cell states, from h0 and c0 [L*D, B, H] (null: zeros). */
    public RecurrentOutput forward(Tensor x, Tensor h0, Tensor c0) { return run(x, h0, c0); }
}
