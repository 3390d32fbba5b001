package io.jtensor.nn;

import io.jtensor.Generator;

/**
 * The settings of a recurrent layer, with PyTorch's defaults: one layer, bias, time-major input, no dropout,
 * one direction. {@code generator} (null: the default one) draws the initial weights and the dropout masks.
 */
public record RecurrentConfig(long inputSize, long hiddenSize, int numLayers, boolean bias, boolean batchFirst,
                              double dropout, boolean bidirectional, Generator generator) {
    public static RecurrentConfig of(long inputSize, long hiddenSize) {
        return new RecurrentConfig(inputSize, hiddenSize, 1, true, false, 0, false, null);
    }

    public RecurrentConfig numLayers(int n) { return new RecurrentConfig(inputSize, hiddenSize, n, bias, batchFirst, dropout, bidirectional, generator); }
    public RecurrentConfig bias(boolean b) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, b, batchFirst, dropout, bidirectional, generator); }
    public RecurrentConfig batchFirst(boolean b) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, b, dropout, bidirectional, generator); }
    public RecurrentConfig dropout(double p) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, p, bidirectional, generator); }
    public RecurrentConfig bidirectional(boolean b) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, b, generator); }
    public RecurrentConfig generator(Generator g) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, g); }
}
