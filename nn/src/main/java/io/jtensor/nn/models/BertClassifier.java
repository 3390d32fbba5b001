package io.jtensor.nn.models;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Dropout;
import io.jtensor.nn.Init;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import java.util.Arrays;

/**
 * A {@link BertEncoder} with BERT's sequence-classification head: the first ([CLS]) position's hidden state goes
 * through the pooler (Linear + tanh), dropout and a linear classifier. Images [B, C, H, W] are read as H rows of
 * C*W features when the encoder reads features.
 */
public class BertClassifier extends Module {
    private final BertEncoder encoder;
    private final Linear pooler;
    private final Dropout dropout;
    private final Linear classifier;

    public BertClassifier(BertConfig config) { this(config, Generator.defaultGenerator()); }

    public BertClassifier(BertConfig config, Generator g) {
        encoder = registerModule("encoder", new BertEncoder(config, g));
        pooler = registerModule("pooler", new Linear(config.hiddenSize(), config.hiddenSize(), true, g));
        dropout = registerModule("dropout", new Dropout(config.dropout()));
        classifier = registerModule("classifier", new Linear(config.hiddenSize(), config.numClasses(), true, g));
        for (Linear l : new Linear[] {pooler, classifier}) {
            Init.normal(l.weight(), 0, 0.02, g);
            Init.zeros(l.bias());
        }
    }

    @Override public Tensor forward(Tensor input) { return forward(input, null); }

    /** Logits [B, classes] of token ids [B, T], features [B, T, F] or images [B, C, H, W]. */
    public Tensor forward(Tensor input, Tensor paddingMask) {
        Tensor x = input;
        if (x.dim() == 4) {
            long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
            x = c == 1 ? x.reshape(b, h, w) : x.permute(0, 2, 1, 3).reshape(b, h, c * w);
        } else if (x.dim() != 2 && x.dim() != 3) {
            throw new IllegalArgumentException("BertClassifier: expected ids [B, T], features [B, T, F] or images [B, C, H, W], got "
                    + Arrays.toString(input.shape()));
        }
        Tensor hidden = encoder.forward(x, paddingMask);
        Tensor cls = hidden.select(1, 0);
        return classifier.forward(dropout.forward(pooler.forward(cls).tanh()));
    }

    public BertEncoder encoder() { return encoder; }
}
