package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * What PyTorch's {@code RNNCell}, {@code LSTMCell} and {@code GRUCell} share ({@code RNNCellBase}): parameters
 * "weight_ih" [G*H, I], "weight_hh" [G*H, H] and, with bias, "bias_ih", "bias_hh" [G*H], all drawn from
 * U(-1/sqrt(H), 1/sqrt(H)); one time step of input [B, I] (or [I], unbatched) with the gate equations of
 * {@link RecurrentCells}. A missing hidden state starts at zeros.
 */
public abstract class RecurrentCell extends Module {
    protected final long inputSize, hiddenSize;
    protected final Tensor weightIh, weightHh, biasIh, biasHh;

    protected RecurrentCell(long inputSize, long hiddenSize, boolean bias, int gates, Generator generator) {
        String name = getClass().getSimpleName();
        if (inputSize < 1 || hiddenSize < 1) throw new IllegalArgumentException(name + ": sizes must be >= 1, got " + inputSize + ", " + hiddenSize);
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        long g = gates * hiddenSize;
        weightIh = registerParameter("weight_ih", NDArray.empty(DType.F32, Device.cpu(), g, inputSize));
        weightHh = registerParameter("weight_hh", NDArray.empty(DType.F32, Device.cpu(), g, hiddenSize));
        biasIh = bias ? registerParameter("bias_ih", NDArray.empty(DType.F32, Device.cpu(), g)) : null;
        biasHh = bias ? registerParameter("bias_hh", NDArray.empty(DType.F32, Device.cpu(), g)) : null;
        double bound = 1 / Math.sqrt(hiddenSize);
        Generator gen = generator == null ? Generator.defaultGenerator() : generator;
        for (Tensor p : parameters()) Init.uniform(p, -bound, bound, gen);
    }

    /** xp = x W_ih^T + b_ih for a batched x [B, I]; fails naming the cell when x is not [B, I]. */
    protected Tensor project(Tensor x) {
        if (x.dim() != 2 || x.size(1) != inputSize) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": expected input [B, " + inputSize + "] or [" + inputSize + "], got "
                    + Arrays.toString(x.shape()));
        }
        return Functional.linear(x, weightIh, biasIh);
    }

    /** A batched hidden state [B, H] for x [B, I]: h itself (checked), or zeros when null. */
    protected Tensor state(Tensor h, Tensor x, String what) {
        if (h == null) return Tensor.zeros(x.dtype(), x.device(), x.size(0), hiddenSize);
        if (!Arrays.equals(h.shape(), new long[] {x.size(0), hiddenSize})) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": expected " + what + " [" + x.size(0) + ", " + hiddenSize + "], got "
                    + Arrays.toString(h.shape()));
        }
        return h;
    }

    protected Tensor whhT() { return weightHh.transpose(0, 1); }

    @Override protected String extraRepr() { return inputSize + ", " + hiddenSize + (biasIh == null ? ", bias=False" : ""); }
}
