package io.jtensor.nn;

import io.jtensor.Generator;

/**
 * The settings of a recurrent layer, with PyTorch's defaults: one layer, bias, time-major input, no dropout,
 * one direction, no projection. {@code generator} (null: the default one) draws the initial weights and the dropout
 * masks. {@code projSize} (LSTM only, 0: none) is PyTorch's proj_size: h is projected to that size at every step.
 */
public record RecurrentConfig(long inputSize, long hiddenSize, int numLayers, boolean bias, boolean batchFirst,
                              double dropout, boolean bidirectional, Generator generator, long projSize) {
    public RecurrentConfig(long inputSize, long hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout, boolean bidirectional,
                           Generator generator) {
        this(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, generator, 0);
    }

    public static RecurrentConfig of(long inputSize, long hiddenSize) {
        return new RecurrentConfig(inputSize, hiddenSize, 1, true, false, 0, false, null, 0);
    }

    public RecurrentConfig numLayers(int n) { return new RecurrentConfig(inputSize, hiddenSize, n, bias, batchFirst, dropout, bidirectional, generator, projSize); }
    public RecurrentConfig bias(boolean b) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, b, batchFirst, dropout, bidirectional, generator, projSize); }
    public RecurrentConfig batchFirst(boolean b) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, b, dropout, bidirectional, generator, projSize); }
    public RecurrentConfig dropout(double p) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, p, bidirectional, generator, projSize); }
    public RecurrentConfig bidirectional(boolean b) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, b, generator, projSize); }
    public RecurrentConfig generator(Generator g) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, g, projSize); }
    public RecurrentConfig projSize(long p) { return new RecurrentConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, generator, p); }
}
