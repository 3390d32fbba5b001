package io.jtensor.nn.models;

import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Dropout;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.ModuleList;
import java.util.Arrays;

/**
 * A multilayer perceptron: the input is flattened (all dims after the batch), then Linear + ReLU (+ dropout) for
 * each hidden size, then a Linear to the outputs. {@code new MLP(784, 256, 128, 10)} is 784-256-128-10.
 */
public class MLP extends Module {
    private final long[] sizes;
    private final ModuleList<Linear> layers;
    private final Dropout dropout;

    /** sizes: input, hidden..., output (at least input and output). */
    public MLP(long... sizes) { this(0, sizes); }

    public MLP(double dropout, long... sizes) {
        if (sizes.length < 2) throw new IllegalArgumentException("MLP: expected at least input and output sizes, got " + Arrays.toString(sizes));
        this.sizes = sizes.clone();
        layers = registerModule("layers", new ModuleList<>());
        for (int i = 0; i + 1 < sizes.length; i++) layers.add(new Linear(sizes[i], sizes[i + 1]));
        this.dropout = dropout > 0 ? registerModule("dropout", new Dropout(dropout)) : null;
    }

    @Override public Tensor forward(Tensor x) {
        Tensor h = x.dim() > 2 ? x.flatten(1, -1) : x;
        for (int i = 0; i < layers.size(); i++) {
            h = layers.get(i).forward(h);
            if (i + 1 < layers.size()) {
                h = h.relu();
                if (dropout != null) h = dropout.forward(h);
            }
        }
        return h;
    }

    public long[] sizes() { return sizes.clone(); }
}
