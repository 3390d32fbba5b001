package io.jtensor.nn.models;

import io.jtensor.autograd.Tensor;
import io.jtensor.nn.GRU;
import io.jtensor.nn.LSTM;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.RecurrentBase;
import io.jtensor.nn.RecurrentConfig;
import io.jtensor.nn.RecurrentOutput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Classifies an image by reading it row by row with a GRU or LSTM: [B, C, H, W] becomes a sequence of H steps of
 * C*W features; the final hidden state of the last layer (both directions when bidirectional) feeds a linear
 * classifier. On 28x28 images that is 28 rows of 28 pixels.
 */
public class RowReader extends Module {
    /** Which recurrent cell reads the rows. */
    public enum CellType { GRU, LSTM }

    private final RecurrentBase rnn;
    private final Linear fc;
    private final long features;

    public RowReader(CellType type, long rowFeatures, long hiddenSize, int numLayers, boolean bidirectional, int numClasses) {
        this.features = rowFeatures;
        RecurrentConfig c = RecurrentConfig.of(rowFeatures, hiddenSize).numLayers(numLayers).batchFirst(true).bidirectional(bidirectional);
        rnn = registerModule("rnn", type == CellType.GRU ? new GRU(c) : new LSTM(c));
        fc = registerModule("fc", new Linear(hiddenSize * (bidirectional ? 2 : 1), numClasses));
    }

    @Override public Tensor forward(Tensor x) {
        Tensor seq;
        if (x.dim() == 4) {
            long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
            // [B, C, H, W] -> [B, H, C*W]: each row, across channels, is one step.
            seq = c == 1 ? x.reshape(b, h, w) : x.permute(0, 2, 1, 3).reshape(b, h, c * w);
        } else if (x.dim() == 3) {
            seq = x;
        } else {
            throw new IllegalArgumentException("RowReader: expected images [B, C, H, W] or sequences [B, T, F], got " + Arrays.toString(x.shape()));
        }
        if (seq.size(2) != features) {
            throw new IllegalArgumentException("RowReader: expected rows of " + features + " features, got input " + Arrays.toString(x.shape()));
        }
        RecurrentOutput out = rnn instanceof GRU g ? g.forward(seq, null) : ((LSTM) rnn).forward(seq, null, null);
        int dirs = rnn.directions();
        long lastLayer = (long) (rnn.numLayers() - 1) * dirs;
        List<Tensor> finals = new ArrayList<>(dirs);
        for (int d = 0; d < dirs; d++) finals.add(out.hN().select(0, lastLayer + d));
        Tensor h = dirs == 1 ? finals.get(0) : Tensor.cat(finals, 1);
        return fc.forward(h);
    }
}
