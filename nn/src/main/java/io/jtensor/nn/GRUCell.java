package io.jtensor.nn;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;

/** PyTorch's {@code GRUCell}: gates r, z, n. */
public class GRUCell extends RecurrentCell {
    public GRUCell(long inputSize, long hiddenSize) { this(inputSize, hiddenSize, true, null); }

    public GRUCell(long inputSize, long hiddenSize, boolean bias, Generator g) { super(inputSize, hiddenSize, bias, 3, g); }

    @Override public Tensor forward(Tensor x) { return forward(x, null); }

    /** x [B, I] or [I]; h [B, H] or [H] (or null for zeros); returns h'. */
    public Tensor forward(Tensor x, Tensor h) {
        boolean unbatched = x.dim() == 1;
        Tensor xb = unbatched ? x.unsqueeze(0) : x, hb = h != null && unbatched ? h.unsqueeze(0) : h;
        Tensor out = RecurrentCells.gru(project(xb), state(hb, xb, "hx"), whhT(), biasHh);
        return unbatched ? out.squeeze(0) : out;
    }
}
