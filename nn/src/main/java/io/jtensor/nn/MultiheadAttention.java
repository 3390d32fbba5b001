package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * Multi-head scaled dot-product attention, PyTorch's {@code nn.MultiheadAttention}. The layout follows PyTorch's:
 * sequence-first (query [T, B, E], key and value [S, B, E]) unless built with {@code batchFirst} true (query
 * [B, T, E], key and value [B, S, E]); the short constructors are sequence-first, as {@code nn.MultiheadAttention(E, H)}
 * is, so ported code reads its input the same way. Parameters "in_proj_weight" [3E, E] (rows for q, k, v; Xavier
 * uniform), "in_proj_bias" [3E] (zeros) and the submodule "out_proj" (Linear E -> E, bias zeros). Each of the
 * {@code numHeads} heads attends with its own E/numHeads slice; dropout applies to the attention weights in
 * training.
 */
public class MultiheadAttention extends Module {
    /**
     * The attended values, in the module's layout ([B, T, E] or [T, B, E]), and the attention weights averaged over
     * heads [B, T, S] (null when not asked).
     */
    public record Output(Tensor output, Tensor weights) {}

    private final long embedDim;
    private final int numHeads;
    private final double dropout;
    private final boolean batchFirst;
    private final long kdim, vdim;
    /** [3E, E] when key and value are E wide; else null and the three separate projections below are used. */
    private final Tensor inProjWeight;
    private final Tensor qProjWeight, kProjWeight, vProjWeight;
    private final Tensor inProjBias;
    private final Linear outProj;
    private final Generator generator;

    /** Sequence-first ([L, B, E]), as PyTorch's {@code nn.MultiheadAttention(embed_dim, num_heads)}. */
    public MultiheadAttention(long embedDim, int numHeads) { this(embedDim, numHeads, 0, true, false, null); }

    /** Sequence-first ([L, B, E]), as PyTorch's default. */
    public MultiheadAttention(long embedDim, int numHeads, double dropout) { this(embedDim, numHeads, dropout, true, false, null); }

    /** {@code batchFirst}: inputs [B, L, E] (true) or [L, B, E] (false, PyTorch's default). */
    public MultiheadAttention(long embedDim, int numHeads, boolean batchFirst) { this(embedDim, numHeads, 0, true, batchFirst, null); }

    /** {@code generator} (null: the default one) draws the initial weights and the dropout masks. */
    public MultiheadAttention(long embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst, Generator generator) {
        this(embedDim, numHeads, dropout, bias, embedDim, embedDim, batchFirst, generator);
    }

    /**
     * PyTorch's {@code kdim} and {@code vdim}: key and value of their own widths. When either differs from embedDim
     * the projections are the parameters "q_proj_weight" [E, E], "k_proj_weight" [E, kdim] and "v_proj_weight"
     * [E, vdim] (each Xavier uniform) instead of "in_proj_weight", as in PyTorch.
     */
    public MultiheadAttention(long embedDim, int numHeads, double dropout, boolean bias, long kdim, long vdim, boolean batchFirst,
                              Generator generator) {
        if (kdim < 1 || vdim < 1) throw new IllegalArgumentException("MultiheadAttention: kdim and vdim must be >= 1, got " + kdim + ", " + vdim);
        if (numHeads < 1 || embedDim < 1 || embedDim % numHeads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embedDim (" + embedDim + ") must be a positive multiple of numHeads (" + numHeads + ")");
        }
        if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException("MultiheadAttention: dropout must be in [0, 1], got " + dropout);
        Generator g = generator == null ? Generator.defaultGenerator() : generator;
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.dropout = dropout;
        this.batchFirst = batchFirst;
        this.generator = generator;
        this.kdim = kdim;
        this.vdim = vdim;
        boolean same = kdim == embedDim && vdim == embedDim;
        inProjWeight = same ? registerParameter("in_proj_weight", NDArray.empty(DType.F32, Device.cpu(), 3 * embedDim, embedDim)) : null;
        qProjWeight = same ? null : registerParameter("q_proj_weight", NDArray.empty(DType.F32, Device.cpu(), embedDim, embedDim));
        kProjWeight = same ? null : registerParameter("k_proj_weight", NDArray.empty(DType.F32, Device.cpu(), embedDim, kdim));
        vProjWeight = same ? null : registerParameter("v_proj_weight", NDArray.empty(DType.F32, Device.cpu(), embedDim, vdim));
        inProjBias = bias ? registerParameter("in_proj_bias", NDArray.zeros(DType.F32, Device.cpu(), 3 * embedDim)) : null;
        outProj = registerModule("out_proj", new Linear(embedDim, embedDim, bias, g));
        if (same) {
            Init.xavierUniform(inProjWeight, 1.0, g);
        } else {
            Init.xavierUniform(qProjWeight, 1.0, g);
            Init.xavierUniform(kProjWeight, 1.0, g);
            Init.xavierUniform(vProjWeight, 1.0, g);
        }
        if (bias) Init.zeros(outProj.bias());
    }

    /** Self-attention without masks. */
    @Override public Tensor forward(Tensor x) { return forward(x, x, x, null, false, false).output(); }

    /**
     * Attention of query over key/value. {@code keyPaddingMask} [B, S] (BOOL, or null) is true at key positions to
     * ignore; {@code causal} hides keys after the query's position (j > i). Fully masked rows give NaN, as in
     * PyTorch. The head-averaged weights come back when {@code needWeights}. The arguments come in PyTorch's order
     * (key_padding_mask, need_weights, attn_mask, is_causal), in both overloads.
     */
    public Output forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, boolean causal) {
        return forward(query, key, value, keyPaddingMask, needWeights, null, causal);
    }

    /**
     * As above, with an {@code attnMask} as PyTorch takes it: [T, S] for every batch element and head, or
     * [B * numHeads, T, S] per head (index b * numHeads + h); BOOL (true = not allowed) or floating (added to the
     * scaled scores, e.g. -inf or a bias).
     */
    public Output forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, Tensor attnMask, boolean causal) {
        Tensor q0 = batchFirst ? query : query.transpose(0, 1);
        Tensor k0 = batchFirst ? key : key.transpose(0, 1);
        Tensor v0 = batchFirst ? value : value.transpose(0, 1);
        checkInput("query", q0, embedDim);
        checkInput("key", k0, kdim);
        checkInput("value", v0, vdim);
        long b = q0.size(0), t = q0.size(1), s = k0.size(1);
        if (k0.size(0) != b || v0.size(0) != b || v0.size(1) != s) {
            throw new IllegalArgumentException("MultiheadAttention: query " + Arrays.toString(query.shape()) + ", key " + Arrays.toString(key.shape())
                    + " and value " + Arrays.toString(value.shape()) + " disagree on batch or key length" + layoutHint(query, key, value, keyPaddingMask));
        }
        if (keyPaddingMask != null && !Arrays.equals(keyPaddingMask.shape(), new long[] {b, s})) {
            throw new IllegalArgumentException("MultiheadAttention: expected a keyPaddingMask [" + b + ", " + s + "] for query "
                    + Arrays.toString(query.shape()) + " and key " + Arrays.toString(key.shape()) + ", got "
                    + Arrays.toString(keyPaddingMask.shape()) + layoutHint(query, key, value, keyPaddingMask));
        }
        Tensor q, k, v;
        if (inProjWeight == null) {
            q = Functional.linear(q0, qProjWeight, part(inProjBias, 0));
            k = Functional.linear(k0, kProjWeight, part(inProjBias, 1));
            v = Functional.linear(v0, vProjWeight, part(inProjBias, 2));
        } else if (query == key && key == value) {
            // Self-attention: one product gives q, k and v.
            Tensor qkv = Functional.linear(q0, inProjWeight, inProjBias);
            q = qkv.narrow(-1, 0, embedDim);
            k = qkv.narrow(-1, embedDim, embedDim);
            v = qkv.narrow(-1, 2 * embedDim, embedDim);
        } else {
            q = Functional.linear(q0, inProjWeight.narrow(0, 0, embedDim), part(inProjBias, 0));
            k = Functional.linear(k0, inProjWeight.narrow(0, embedDim, embedDim), part(inProjBias, 1));
            v = Functional.linear(v0, inProjWeight.narrow(0, 2 * embedDim, embedDim), part(inProjBias, 2));
        }
        Tensor attnBool = attnMask != null && attnMask.dtype() == DType.BOOL ? perHead(attnMask, b, t, s) : null;
        Tensor additive = attnMask != null && attnMask.dtype() != DType.BOOL ? perHead(attnMask, b, t, s) : null;
        if (additive != null && !additive.dtype().isFloating()) {
            throw new IllegalArgumentException("MultiheadAttention: expected a BOOL or floating attnMask, got " + attnMask.dtype());
        }
        Tensor mask = combinedMask(b, t, s, keyPaddingMask, attnBool, causal, q.device());
        var att = Functional.scaledDotProductAttention(heads(q, b, t), heads(k, b, s), heads(v, b, s), mask, additive, dropout, isTraining(),
                generator == null ? Generator.defaultGenerator() : generator);
        Tensor merged = att.output().permute(0, 2, 1, 3).reshape(b, t, embedDim);
        Tensor out = outProj.forward(merged);
        if (!batchFirst) out = out.transpose(0, 1);
        return new Output(out, needWeights ? att.weights().mean(1, false) : null);
    }

    /**
     * When the shapes that disagree in this module's layout would all agree in the other one (the usual sign of
     * sequence-first input given to a batch-first module, or the reverse), a sentence saying so; else "".
     */
    private String layoutHint(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask) {
        int bd = batchFirst ? 1 : 0, ld = 1 - bd; // the batch and length dims of the other layout
        long b = query.size(bd), s = key.size(ld);
        boolean fits = key.size(bd) == b && value.size(bd) == b && value.size(ld) == s
                && (keyPaddingMask == null || Arrays.equals(keyPaddingMask.shape(), new long[] {b, s}));
        if (!fits) return "";
        return "; they fit the " + (batchFirst ? "sequence-first [L, B, E]" : "batch-first [B, L, E]") + " layout, and this module was built with batchFirst="
                + batchFirst + " (PyTorch's default is batch_first=False)";
    }

    /** Whether inputs are [B, L, E] (true) or [L, B, E]. */
    public boolean batchFirst() { return batchFirst; }

    private Tensor part(Tensor bias, int i) { return bias == null ? null : bias.narrow(0, i * embedDim, embedDim); }

    /** An attnMask [T, S] or [B * heads, T, S] as one that broadcasts to [B, heads, T, S]. */
    private Tensor perHead(Tensor attnMask, long b, long t, long s) {
        if (Arrays.equals(attnMask.shape(), new long[] {t, s})) return attnMask;
        if (Arrays.equals(attnMask.shape(), new long[] {b * numHeads, t, s})) return attnMask.reshape(b, numHeads, t, s);
        throw new IllegalArgumentException("MultiheadAttention: expected an attnMask [" + t + ", " + s + "] or [" + b * numHeads + ", " + t + ", " + s
                + "] (B * numHeads, T, S), got " + Arrays.toString(attnMask.shape()));
    }

    /** [B, L, E] -> [B, heads, L, E/heads]. */
    private Tensor heads(Tensor x, long b, long len) {
        return x.reshape(b, len, numHeads, embedDim / numHeads).permute(0, 2, 1, 3);
    }

    private void checkInput(String what, Tensor x, long width) {
        if (x.dim() != 3 || x.size(2) != width) {
            throw new IllegalArgumentException("MultiheadAttention: expected " + what + (batchFirst ? " [B, L, " : " [L, B, ") + width
                    + "], got " + Arrays.toString(x.shape()));
        }
    }

    /** One BOOL mask broadcastable to [B, heads, T, S] (true = hidden), or null when nothing is masked. */
    static Tensor combinedMask(long b, long t, long s, Tensor keyPadding, Tensor attnMask, boolean causal, Device device) {
        NDArray mask = null;
        if (keyPadding != null) {
            if (keyPadding.dtype() != DType.BOOL || !Arrays.equals(keyPadding.shape(), new long[] {b, s})) {
                throw new IllegalArgumentException("MultiheadAttention: expected a BOOL keyPaddingMask [" + b + ", " + s + "], got "
                        + Arrays.toString(keyPadding.shape()) + " " + keyPadding.dtype());
            }
            mask = keyPadding.data().reshape(b, 1, 1, s);
        }
        if (attnMask != null) {
            long[] sh = attnMask.shape();
            boolean fits = Arrays.equals(sh, new long[] {t, s}) || (sh.length == 4 && sh[0] == b && sh[2] == t && sh[3] == s);
            if (attnMask.dtype() != DType.BOOL || !fits) {
                throw new IllegalArgumentException("MultiheadAttention: expected a BOOL attnMask [" + t + ", " + s + "] or [B, heads, " + t + ", " + s
                        + "], got " + Arrays.toString(sh) + " " + attnMask.dtype());
            }
            mask = or(mask, attnMask.data().share());
        }
        if (causal) {
            boolean[] upper = new boolean[Math.toIntExact(t * s)];
            for (int i = 0; i < t; i++) for (int j = 0; j < s; j++) upper[(int) (i * s + j)] = j > i;
            try (NDArray host = NDArray.of(upper, t, s)) {
                mask = or(mask, host.to(device));
            }
        }
        return mask == null ? null : Tensor.wrap(mask);
    }

    /** a | b, consuming both (a may be null). */
    private static NDArray or(NDArray a, NDArray b) {
        if (a == null) return b;
        try (a; b) {
            return a.logicalOr(b);
        }
    }

    public Linear outProj() { return outProj; }
    public Tensor inProjWeight() { return inProjWeight; }
    public Tensor inProjBias() { return inProjBias; }
    public int numHeads() { return numHeads; }

    @Override protected String extraRepr() { return "embed_dim=" + embedDim + ", num_heads=" + numHeads + ", dropout=" + dropout + ", batch_first=" + batchFirst; }
}
