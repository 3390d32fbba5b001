package io.jtensor.nn;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;

/** PyTorch's {@code RNNCell}: h' = tanh (or relu) of x W_ih^T + b_ih + h W_hh^T + b_hh. */
public class RNNCell extends RecurrentCell {
    private final boolean relu;

    public RNNCell(long inputSize, long hiddenSize) { this(inputSize, hiddenSize, true, false, null); }

    public RNNCell(long inputSize, long hiddenSize, boolean bias, boolean relu, Generator g) {
        super(inputSize, hiddenSize, bias, 1, g);
        this.relu = relu;
    }

    @Override public Tensor forward(Tensor x) { return forward(x, null); }

    /** x [B, I] or [I]; h [B, H] or [H] (or null for zeros); returns h' of h's rank. */
    public Tensor forward(Tensor x, Tensor h) {
        boolean unbatched = x.dim() == 1;
        Tensor xb = unbatched ? x.unsqueeze(0) : x, hb = h != null && unbatched ? h.unsqueeze(0) : h;
        Tensor out = RecurrentCells.rnn(project(xb), state(hb, xb, "hx"), whhT(), biasHh, relu);
        return unbatched ? out.squeeze(0) : out;
    }
}
