package io.jtensor.nn;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;

/** PyTorch's {@code LSTMCell}: gates i, f, g, o. */
public class LSTMCell extends RecurrentCell {
    public LSTMCell(long inputSize, long hiddenSize) { this(inputSize, hiddenSize, true, null); }

    public LSTMCell(long inputSize, long hiddenSize, boolean bias, Generator g) { super(inputSize, hiddenSize, bias, 4, g); }

    @Override public Tensor forward(Tensor x) { return forward(x, null, null)[0]; }

    /** x [B, I] or [I]; h, c [B, H] or [H] (both null for zeros); returns {h', c'}. */
    public Tensor[] forward(Tensor x, Tensor h, Tensor c) {
        if ((h == null) != (c == null)) throw new IllegalArgumentException("LSTMCell: give both h and c, or neither");
        boolean unbatched = x.dim() == 1;
        Tensor xb = unbatched ? x.unsqueeze(0) : x;
        Tensor hb = h != null && unbatched ? h.unsqueeze(0) : h, cb = c != null && unbatched ? c.unsqueeze(0) : c;
        Tensor[] out = RecurrentCells.lstm(project(xb), state(hb, xb, "h"), state(cb, xb, "c"), whhT(), biasHh);
        return unbatched ? new Tensor[] {out[0].squeeze(0), out[1].squeeze(0)} : out;
    }
}
