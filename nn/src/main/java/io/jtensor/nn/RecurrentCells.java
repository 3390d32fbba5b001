package io.jtensor.nn;

import io.jtensor.autograd.Tensor;

/**
 * One time step of each recurrent cell, with PyTorch's gate equations and gate order. Every method takes the input
 * already projected, {@code xp = x W_ih^T + b_ih} [B, G*H], because the recurrent layers compute that for all steps
 * at once; {@code whhT} is W_hh transposed [H, G*H] and {@code bhh} [G*H] (or null).
 */
public final class RecurrentCells {
    private RecurrentCells() {}

    /** h' = tanh(xp + h W_hh^T + b_hh) (or relu). */
    public static Tensor rnn(Tensor xp, Tensor h, Tensor whhT, Tensor bhh, boolean relu) {
        Tensor pre = xp.add(project(h, whhT, bhh));
        return relu ? pre.relu() : pre.tanh();
    }

    /**
     * Gates i, f, g, o (in that order) from xp + h W_hh^T + b_hh: i, f, o sigmoid and g tanh;
     * c' = f * c + i * g, h' = o * tanh(c'). Returns {h', c'}.
     */
    public static Tensor[] lstm(Tensor xp, Tensor h, Tensor c, Tensor whhT, Tensor bhh) {
        long hidden = c.size(-1); // not h's: with proj_size, h is narrower than the cell state
        Tensor gates = xp.add(project(h, whhT, bhh));
        Tensor i = gates.narrow(-1, 0, hidden).sigmoid();
        Tensor f = gates.narrow(-1, hidden, hidden).sigmoid();
        Tensor g = gates.narrow(-1, 2 * hidden, hidden).tanh();
        Tensor o = gates.narrow(-1, 3 * hidden, hidden).sigmoid();
        Tensor cNext = f.mul(c).add(i.mul(g));
        Tensor hNext = o.mul(cNext.tanh());
        return new Tensor[] {hNext, cNext};
    }

    /**
     * Gates r, z, n (in that order): r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r * h_n) where
     * x_* are parts of xp and h_* parts of h W_hh^T + b_hh; h' = (1 - z) * n + z * h.
     */
    public static Tensor gru(Tensor xp, Tensor h, Tensor whhT, Tensor bhh) {
        long hidden = h.size(-1);
        Tensor hp = project(h, whhT, bhh);
        Tensor r = xp.narrow(-1, 0, hidden).add(hp.narrow(-1, 0, hidden)).sigmoid();
        Tensor z = xp.narrow(-1, hidden, hidden).add(hp.narrow(-1, hidden, hidden)).sigmoid();
        Tensor n = xp.narrow(-1, 2 * hidden, hidden).add(r.mul(hp.narrow(-1, 2 * hidden, hidden))).tanh();
        // (1 - z) n + z h, written as n + z (h - n): one op fewer.
        return n.add(z.mul(h.sub(n)));
    }

    private static Tensor project(Tensor h, Tensor whhT, Tensor bhh) {
        Tensor p = h.matmul(whhT);
        return bhh == null ? p : p.add(bhh);
    }
}
