package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/** Elman recurrence h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); see {@link RecurrentBase}. */
public class RNN extends RecurrentBase {
    public RNN(long inputSize, long hiddenSize) { this(RecurrentConfig.of(inputSize, hiddenSize), false); }

    public RNN(RecurrentConfig config) { this(config, false); }

    public RNN(RecurrentConfig config, boolean relu) { super(relu ? Cell.RNN_RELU : Cell.RNN_TANH, config); }

    /** Output, and the final hidden states, from h0 [L*D, B, H] (null: zeros). */
    public RecurrentOutput forward(Tensor x, Tensor h0) { return run(x, h0, null); }
}
