package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The stacked, optionally bidirectional recurrence shared by {@link RNN}, {@link LSTM} and {@link GRU} (PyTorch's
 * {@code RNNBase}). Layer k, direction d has "weight_ih_lk" [G*H, in_k], "weight_hh_lk" [G*H, H], "bias_ih_lk" and
 * "bias_hh_lk" [G*H] (suffix "_reverse" for the backward direction), with G the gate count (1, 4 or 3),
 * in_0 = inputSize and in_k = D*H above; all initialised U(-1/sqrt(H), 1/sqrt(H)). Inputs are [T, B, F]
 * ([B, T, F] when batch-first); states are [L*D, B, H]. An LSTM with {@code projSize} P also has "weight_hr_lk"
 * [P, H], and h, the outputs and weight_hh's width are P instead of H (PyTorch's proj_size). Dropout, when set, applies to the outputs of every layer
 * but the last, in training.
 */
public abstract class RecurrentBase extends Module {
    /** The cell that runs at each step. */
    protected enum Cell {
        RNN_TANH(1), RNN_RELU(1), LSTM(4), GRU(3);

        final int gates;

        Cell(int gates) { this.gates = gates; }
    }

    private final Cell cell;
    private final long inputSize;
    private final long hiddenSize;
    private final int numLayers;
    private final boolean hasBias;
    private final boolean batchFirst;
    private final double dropout;
    private final boolean bidirectional;
    /** LSTM's proj_size (0: none): h and the outputs are that wide, through "weight_hr_lk" [P, H]. */
    private final long projSize;
    private final Tensor[][] weightIh, weightHh, biasIh, biasHh, weightHr;
    private final Generator dropoutGenerator;

    protected RecurrentBase(Cell cell, RecurrentConfig c) {
        if (c.inputSize() < 1 || c.hiddenSize() < 1 || c.numLayers() < 1) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": inputSize, hiddenSize and numLayers must be >= 1, got "
                    + c.inputSize() + ", " + c.hiddenSize() + ", " + c.numLayers());
        }
        if (!(c.dropout() >= 0 && c.dropout() <= 1)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": dropout must be in [0, 1], got " + c.dropout());
        }
        this.cell = cell;
        this.inputSize = c.inputSize();
        this.hiddenSize = c.hiddenSize();
        this.numLayers = c.numLayers();
        this.hasBias = c.bias();
        this.batchFirst = c.batchFirst();
        this.dropout = c.dropout();
        this.bidirectional = c.bidirectional();
        this.dropoutGenerator = c.generator();
        if (c.projSize() < 0 || c.projSize() >= c.hiddenSize() && c.projSize() != 0 || (c.projSize() > 0 && cell != Cell.LSTM)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": projSize must be 0, or in [1, hiddenSize) for an LSTM, got "
                    + c.projSize());
        }
        this.projSize = c.projSize();
        long out = outputSize();
        int dirs = directions();
        weightIh = new Tensor[numLayers][dirs];
        weightHh = new Tensor[numLayers][dirs];
        biasIh = new Tensor[numLayers][dirs];
        biasHh = new Tensor[numLayers][dirs];
        weightHr = new Tensor[numLayers][dirs];
        long g = (long) cell.gates * hiddenSize;
        for (int l = 0; l < numLayers; l++) {
            long in = l == 0 ? inputSize : dirs * out;
            for (int d = 0; d < dirs; d++) {
                String suffix = "_l" + l + (d == 1 ? "_reverse" : "");
                weightIh[l][d] = registerParameter("weight_ih" + suffix, NDArray.empty(DType.F32, Device.cpu(), g, in));
                weightHh[l][d] = registerParameter("weight_hh" + suffix, NDArray.empty(DType.F32, Device.cpu(), g, out));
                if (hasBias) {
                    biasIh[l][d] = registerParameter("bias_ih" + suffix, NDArray.empty(DType.F32, Device.cpu(), g));
                    biasHh[l][d] = registerParameter("bias_hh" + suffix, NDArray.empty(DType.F32, Device.cpu(), g));
                }
                if (projSize > 0) weightHr[l][d] = registerParameter("weight_hr" + suffix, NDArray.empty(DType.F32, Device.cpu(), projSize, hiddenSize));
            }
        }
        resetParameters(c.generator() == null ? Generator.defaultGenerator() : c.generator());
    }

    /** PyTorch's init: every weight and bias U(-1/sqrt(H), 1/sqrt(H)). */
    public void resetParameters(Generator g) {
        double bound = 1 / Math.sqrt(hiddenSize);
        for (Tensor p : parameters()) Init.uniform(p, -bound, bound, g);
    }

    public int directions() { return bidirectional ? 2 : 1; }
    /** The width of h and of each direction's output: projSize when set, else hiddenSize. */
    public long outputSize() { return projSize > 0 ? projSize : hiddenSize; }
    public long hiddenSize() { return hiddenSize; }
    public long inputSize() { return inputSize; }
    public int numLayers() { return numLayers; }
    public boolean batchFirst() { return batchFirst; }

    /** The output only (for use in a Sequential): the states start at zero. */
    @Override public Tensor forward(Tensor x) { return run(x, null, null).output(); }

    /** Runs the recurrence over x from h0 (and c0 for LSTM); null states start at zero. */
    protected RecurrentOutput run(Tensor x, Tensor h0, Tensor c0) {
        String name = getClass().getSimpleName();
        if (x.dim() != 3 || x.size(2) != inputSize) {
            throw new IllegalArgumentException(name + ": expected input " + (batchFirst ? "[B, T, " : "[T, B, ") + inputSize + "], got "
                    + Arrays.toString(x.shape()));
        }
        Tensor seq = batchFirst ? x.transpose(0, 1) : x;
        long steps = seq.size(0), batch = seq.size(1);
        if (steps == 0) throw new IllegalArgumentException(name + ": expected at least one time step, got input " + Arrays.toString(x.shape()));
        int dirs = directions();
        long[] stateShape = {(long) numLayers * dirs, batch, outputSize()}, cellShape = {(long) numLayers * dirs, batch, hiddenSize};
        Tensor h = h0 == null ? Tensor.zeros(x.dtype(), x.device(), stateShape) : checkState(name, "h0", h0, stateShape);
        Tensor c = null;
        if (cell == Cell.LSTM) c = c0 == null ? Tensor.zeros(x.dtype(), x.device(), cellShape) : checkState(name, "c0", c0, cellShape);

        List<Tensor> finalH = new ArrayList<>(), finalC = new ArrayList<>();
        // The sequence is kept as one tensor per step: picking steps out of one big tensor would cost a
        // full-size gradient array per step in backward (quadratic in T); separate steps cost nothing extra.
        List<Tensor> layerInput = new ArrayList<>((int) steps);
        for (long t = 0; t < steps; t++) layerInput.add(seq.select(0, t));
        Generator g = dropoutGenerator == null ? Generator.defaultGenerator() : dropoutGenerator;
        for (int l = 0; l < numLayers; l++) {
            List<List<Tensor>> dirOutputs = new ArrayList<>(dirs);
            for (int d = 0; d < dirs; d++) {
                int k = l * dirs + d;
                Tensor[] last = new Tensor[2];
                dirOutputs.add(runDirection(layerInput, l, d, h.select(0, k), c == null ? null : c.select(0, k), last));
                finalH.add(last[0]);
                if (last[1] != null) finalC.add(last[1]);
            }
            List<Tensor> next = new ArrayList<>((int) steps);
            for (int t = 0; t < steps; t++) {
                Tensor step = dirs == 1 ? dirOutputs.get(0).get(t) : Tensor.cat(List.of(dirOutputs.get(0).get(t), dirOutputs.get(1).get(t)), 1);
                if (dropout > 0 && isTraining() && l < numLayers - 1) step = step.dropout(dropout, true, g);
                next.add(step);
            }
            layerInput = next;
        }
        Tensor output = Tensor.stack(layerInput, batchFirst ? 1 : 0);
        Tensor hN = Tensor.stack(finalH, 0);
        Tensor cN = cell == Cell.LSTM ? Tensor.stack(finalC, 0) : null;
        return new RecurrentOutput(output, hN, cN);
    }

    /** One direction of one layer over the steps [B, in]: the outputs [B, H] in time order; last = {h_T, c_T}. */
    private List<Tensor> runDirection(List<Tensor> input, int layer, int dir, Tensor h, Tensor c, Tensor[] last) {
        int steps = input.size();
        Tensor wihT = weightIh[layer][dir].t();
        Tensor bih = biasIh[layer][dir];
        Tensor whhT = weightHh[layer][dir].t();
        Tensor bhh = biasHh[layer][dir];
        Tensor whrT = weightHr[layer][dir] == null ? null : weightHr[layer][dir].t();
        Tensor[] outs = new Tensor[steps];
        for (int s = 0; s < steps; s++) {
            int t = dir == 0 ? s : steps - 1 - s;
            Tensor xt = input.get(t).matmul(wihT);
            if (bih != null) xt = xt.add(bih);
            switch (cell) {
                case RNN_TANH -> h = RecurrentCells.rnn(xt, h, whhT, bhh, false);
                case RNN_RELU -> h = RecurrentCells.rnn(xt, h, whhT, bhh, true);
                case GRU -> h = RecurrentCells.gru(xt, h, whhT, bhh);
                case LSTM -> {
                    Tensor[] hc = RecurrentCells.lstm(xt, h, c, whhT, bhh);
                    h = whrT == null ? hc[0] : hc[0].matmul(whrT); // proj_size: h_t = W_hr (o * tanh(c_t))
                    c = hc[1];
                }
            }
            outs[t] = h;
        }
        last[0] = h;
        last[1] = c;
        return Arrays.asList(outs);
    }

    private static Tensor checkState(String name, String what, Tensor s, long[] expected) {
        if (!Arrays.equals(s.shape(), expected)) {
            throw new IllegalArgumentException(name + ": expected " + what + " of shape " + Arrays.toString(expected) + " [L*D, B, H], got "
                    + Arrays.toString(s.shape()));
        }
        return s;
    }

    @Override protected String extraRepr() {
        StringBuilder sb = new StringBuilder().append(inputSize).append(", ").append(hiddenSize);
        if (projSize > 0) sb.append(", proj_size=").append(projSize);
        if (numLayers != 1) sb.append(", num_layers=").append(numLayers);
        if (cell == Cell.RNN_RELU) sb.append(", nonlinearity='relu'");
        if (!hasBias) sb.append(", bias=False");
        if (batchFirst) sb.append(", batch_first=True");
        if (dropout != 0) sb.append(", dropout=").append(dropout);
        if (bidirectional) sb.append(", bidirectional=True");
        return sb.toString();
    }
}
