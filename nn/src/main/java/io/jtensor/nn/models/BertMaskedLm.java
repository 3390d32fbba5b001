package io.jtensor.nn.models;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;

/**
 * A {@link BertEncoder} with a masked-language-model head: token ids [B, T] -> logits [B, T, vocabSize], one linear
 * layer over every position's hidden state (the batch x sequence x vocabulary output that makes data-parallel
 * training lopsided when it is gathered on one device).
 */
public class BertMaskedLm extends Module {
    private final BertEncoder encoder;
    private final Linear head;

    public BertMaskedLm(BertConfig config, Generator g) {
        encoder = registerModule("encoder", new BertEncoder(config, g));
        head = registerModule("head", new Linear(config.hiddenSize(), config.vocabSize(), true, g));
    }

    @Override public Tensor forward(Tensor ids) { return head.forward(encoder.forward(ids)); }
}
