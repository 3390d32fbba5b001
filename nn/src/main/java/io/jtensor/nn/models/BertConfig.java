package io.jtensor.nn.models;

/**
 * The size of a BERT-style encoder. {@code vocabSize} is for token-id input; {@code featureSize} > 0 instead makes
 * the encoder read float feature vectors (e.g. image rows), projected to the hidden size after a learned [CLS]
 * vector. {@code maxSeqLen} bounds the positions (including [CLS]).
 */
public record BertConfig(long vocabSize, long featureSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                         int maxSeqLen, double dropout, int numClasses) {
    public BertConfig {
        if (hiddenSize < 1 || numLayers < 1 || numHeads < 1 || hiddenSize % numHeads != 0) {
            throw new IllegalArgumentException("BertConfig: hiddenSize (" + hiddenSize + ") must be a positive multiple of numHeads ("
                    + numHeads + ") and numLayers (" + numLayers + ") >= 1");
        }
        if ((vocabSize > 0) == (featureSize > 0)) {
            throw new IllegalArgumentException("BertConfig: set exactly one of vocabSize (" + vocabSize + ") and featureSize (" + featureSize + ")");
        }
        if (maxSeqLen < 1 || intermediateSize < 1 || numClasses < 1) {
            throw new IllegalArgumentException("BertConfig: maxSeqLen, intermediateSize and numClasses must be >= 1");
        }
    }

    /** The small configuration (8 layers, 8 heads, hidden 256, feed-forward 1024) over token ids. */
    public static BertConfig smallForTokens(long vocabSize, int maxSeqLen, int numClasses) {
        return new BertConfig(vocabSize, 0, 256, 8, 8, 1024, maxSeqLen, 0.1, numClasses);
    }

    /** The small configuration reading {@code steps} feature vectors of {@code featureSize} (e.g. 28 rows of 28). */
    public static BertConfig smallForFeatures(long featureSize, int steps, int numClasses) {
        return new BertConfig(0, featureSize, 256, 8, 8, 1024, steps + 1, 0.1, numClasses);
    }

    public BertConfig withLayers(int layers, int heads, int hidden, int intermediate) {
        return new BertConfig(vocabSize, featureSize, hidden, layers, heads, intermediate, maxSeqLen, dropout, numClasses);
    }

    public BertConfig withDropout(double p) {
        return new BertConfig(vocabSize, featureSize, hiddenSize, numLayers, numHeads, intermediateSize, maxSeqLen, p, numClasses);
    }
}
