package io.jtensor.nn.models;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Dropout;
import io.jtensor.nn.Embedding;
import io.jtensor.nn.Init;
import io.jtensor.nn.LayerNorm;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.ModuleList;
import io.jtensor.nn.TransformerEncoderLayer;
import java.util.Arrays;
import java.util.List;

/**
 * A BERT-style encoder: token embeddings (or projected feature vectors behind a learned [CLS] vector) plus learned
 * position embeddings, LayerNorm and dropout, then post-norm Transformer encoder layers with GELU. Weights start
 * as BERT's: N(0, 0.02) for linear and embedding weights, zero biases, LayerNorm at ones and zeros.
 */
public class BertEncoder extends Module {
    private final BertConfig config;
    private final Embedding wordEmbeddings;
    private final Linear featureProjection;
    private final Tensor clsToken;
    private final Embedding positionEmbeddings;
    private final LayerNorm embeddingNorm;
    private final Dropout embeddingDropout;
    private final ModuleList<TransformerEncoderLayer> layers;

    public BertEncoder(BertConfig config) { this(config, Generator.defaultGenerator()); }

    public BertEncoder(BertConfig config, Generator g) {
        this.config = config;
        long h = config.hiddenSize();
        if (config.vocabSize() > 0) {
            wordEmbeddings = registerModule("word_embeddings", new Embedding(config.vocabSize(), h));
            featureProjection = null;
            clsToken = null;
        } else {
            wordEmbeddings = null;
            featureProjection = registerModule("feature_projection", new Linear(config.featureSize(), h, true, g));
            clsToken = registerParameter("cls_token", NDArray.zeros(DType.F32, Device.cpu(), 1, 1, h));
        }
        positionEmbeddings = registerModule("position_embeddings", new Embedding(config.maxSeqLen(), h));
        embeddingNorm = registerModule("embedding_norm", new LayerNorm(new long[] {h}, 1e-12, true));
        embeddingDropout = registerModule("embedding_dropout", new Dropout(config.dropout()));
        layers = registerModule("layers", new ModuleList<>());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new TransformerEncoderLayer(h, config.numHeads(), config.intermediateSize(), config.dropout(),
                    TransformerEncoderLayer.Activation.GELU, 1e-12, true, false, g));
        }
        initWeights(g);
    }

    /** BERT's initialisation over every submodule. */
    private void initWeights(Generator g) {
        for (Module m : namedModules().values()) {
            if (m instanceof Linear lin) {
                Init.normal(lin.weight(), 0, 0.02, g);
                if (lin.bias() != null) Init.zeros(lin.bias());
            } else if (m instanceof Embedding e) {
                Init.normal(e.weight(), 0, 0.02, g);
            }
        }
        for (var e : namedParameters().entrySet()) {
            if (e.getKey().endsWith("in_proj_weight")) Init.normal(e.getValue(), 0, 0.02, g);
            if (e.getKey().endsWith("in_proj_bias")) Init.zeros(e.getValue());
        }
        if (clsToken != null) Init.normal(clsToken, 0, 0.02, g);
    }

    @Override public Tensor forward(Tensor input) { return forward(input, null); }

    /**
     * Hidden states [B, T, H] of token ids [B, T] (or, reading features, [B, T+1, H] of features [B, T, F] with
     * [CLS] first). {@code paddingMask} [B, T] (BOOL, true = padding, or null) hides positions from attention.
     */
    public Tensor forward(Tensor input, Tensor paddingMask) {
        Tensor x;
        if (wordEmbeddings != null) {
            if (input.dim() != 2) throw new IllegalArgumentException("BertEncoder: expected token ids [B, T], got " + Arrays.toString(input.shape()));
            x = wordEmbeddings.forward(input);
        } else {
            if (input.dim() != 3 || input.size(2) != config.featureSize()) {
                throw new IllegalArgumentException("BertEncoder: expected features [B, T, " + config.featureSize() + "], got "
                        + Arrays.toString(input.shape()));
            }
            Tensor projected = featureProjection.forward(input);
            Tensor cls = clsToken.expand(input.size(0), 1, config.hiddenSize());
            x = Tensor.cat(List.of(cls, projected), 1);
            if (paddingMask != null) paddingMask = prependFalse(paddingMask);
        }
        long t = x.size(1);
        if (t > config.maxSeqLen()) {
            throw new IllegalArgumentException("BertEncoder: sequence of " + t + " positions exceeds maxSeqLen " + config.maxSeqLen());
        }
        try (NDArray pos = NDArray.arange(t); NDArray onDevice = pos.to(x.device())) {
            x = x.add(positionEmbeddings.forward(Tensor.wrap(onDevice.share())));
        }
        x = embeddingDropout.forward(embeddingNorm.forward(x));
        for (TransformerEncoderLayer layer : layers) x = layer.forward(x, paddingMask, false);
        return x;
    }

    /** [B, T] -> [B, T+1] with a visible [CLS] position in front. */
    private static Tensor prependFalse(Tensor mask) {
        try (NDArray f = NDArray.zeros(DType.BOOL, mask.device(), mask.size(0), 1)) {
            return Tensor.wrap(NDArray.cat(List.of(f, mask.data()), 1));
        }
    }

    public BertConfig config() { return config; }
}
