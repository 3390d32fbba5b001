package io.jtensor.nn;

import io.jtensor.Generator;
import io.jtensor.autograd.Tensor;

/**
 * PyTorch's {@code nn.TransformerEncoderLayer}: self-attention and a feed-forward block
 * linear1 -> activation -> dropout -> linear2, each wrapped in dropout, a residual connection and LayerNorm.
 * Post-norm by default, as PyTorch: x = norm1(x + sa(x)); x = norm2(x + ff(x)). With {@code normFirst}:
 * x = x + sa(norm1(x)); x = x + ff(norm2(x)). Input [T, B, E] (sequence-first, PyTorch's default) or, with
 * {@code batchFirst}, [B, T, E]; the constructor arguments come in PyTorch's order.
 */
public class TransformerEncoderLayer extends Module {
    /** The feed-forward activation. */
    public enum Activation { RELU, GELU }

    private final MultiheadAttention selfAttn;
    private final Linear linear1, linear2;
    private final Dropout dropout, dropout1, dropout2;
    private final LayerNorm norm1, norm2;
    private final Activation activation;
    private final boolean normFirst;

    /** PyTorch's defaults: feed-forward 2048, dropout 0.1, ReLU, sequence-first, post-norm. */
    public TransformerEncoderLayer(long dModel, int nhead) { this(dModel, nhead, 2048, 0.1, Activation.RELU, 1e-5, false, false, null); }

    /** PyTorch's defaults but for the layout: input [B, T, E] when {@code batchFirst}, else [T, B, E]. */
    public TransformerEncoderLayer(long dModel, int nhead, boolean batchFirst) {
        this(dModel, nhead, 2048, 0.1, Activation.RELU, 1e-5, batchFirst, false, null);
    }

    public TransformerEncoderLayer(long dModel, int nhead, long dimFeedforward, double dropout, Activation activation,
                                   double layerNormEps, boolean batchFirst, boolean normFirst, Generator generator) {
        Generator g = generator == null ? Generator.defaultGenerator() : generator;
        this.activation = activation;
        this.normFirst = normFirst;
        selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, nhead, dropout, true, batchFirst, generator));
        linear1 = registerModule("linear1", new Linear(dModel, dimFeedforward, true, g));
        this.dropout = registerModule("dropout", new Dropout(dropout, generator));
        linear2 = registerModule("linear2", new Linear(dimFeedforward, dModel, true, g));
        norm1 = registerModule("norm1", new LayerNorm(new long[] {dModel}, layerNormEps, true));
        norm2 = registerModule("norm2", new LayerNorm(new long[] {dModel}, layerNormEps, true));
        dropout1 = registerModule("dropout1", new Dropout(dropout, generator));
        dropout2 = registerModule("dropout2", new Dropout(dropout, generator));
    }

    @Override public Tensor forward(Tensor src) { return forward(src, null, false); }

    /** src [B, T, E] or [T, B, E] (the layout); keyPaddingMask [B, T] (BOOL, true = padding, or null); causal hides later positions. */
    public Tensor forward(Tensor src, Tensor keyPaddingMask, boolean causal) { return forward(src, null, keyPaddingMask, causal); }

    /**
     * PyTorch's {@code forward(src, src_mask, src_key_padding_mask, is_causal)}: {@code srcMask} (or null) is any
     * attention mask MultiheadAttention takes ([T, T] or [B * nhead, T, T], BOOL or additive float).
     */
    public Tensor forward(Tensor src, Tensor srcMask, Tensor keyPaddingMask, boolean causal) {
        Tensor x = src;
        if (normFirst) {
            x = x.add(selfAttention(norm1.forward(x), srcMask, keyPaddingMask, causal));
            x = x.add(feedForward(norm2.forward(x)));
        } else {
            x = norm1.forward(x.add(selfAttention(x, srcMask, keyPaddingMask, causal)));
            x = norm2.forward(x.add(feedForward(x)));
        }
        return x;
    }

    private Tensor selfAttention(Tensor x, Tensor srcMask, Tensor keyPaddingMask, boolean causal) {
        return dropout1.forward(selfAttn.forward(x, x, x, keyPaddingMask, false, srcMask, causal).output());
    }

    private Tensor feedForward(Tensor x) {
        Tensor h = linear1.forward(x);
        h = activation == Activation.GELU ? h.gelu() : h.relu();
        return dropout2.forward(linear2.forward(dropout.forward(h)));
    }

    public MultiheadAttention selfAttn() { return selfAttn; }
}
