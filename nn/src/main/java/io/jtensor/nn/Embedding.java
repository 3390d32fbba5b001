package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;

/**
 * A lookup table "weight" [numEmbeddings, dim] initialised N(0, 1): integer ids of any shape give ids.shape + [dim].
 * With a padding index, that row starts at zero and gets no gradient.
 */
public class Embedding extends Module {
    private final long numEmbeddings;
    private final long embeddingDim;
    private final Long paddingIdx;
    private final Tensor weight;
    private final Double maxNorm;
    private final double normType;

    public Embedding(long numEmbeddings, long embeddingDim) { this(numEmbeddings, embeddingDim, null, Generator.defaultGenerator()); }

    public Embedding(long numEmbeddings, long embeddingDim, Long paddingIdx, Generator g) { this(numEmbeddings, embeddingDim, paddingIdx, null, 2, g); }

    /**
     * PyTorch's {@code max_norm} (null: none) and {@code norm_type}: each forward first rescales, in place and outside
     * the graph, every row it looks up whose p-norm exceeds maxNorm to maxNorm / (norm + 1e-7) of itself, as
     * torch.embedding_renorm_ does. {@code g} (null: the default one) draws the initial weights.
     */
    public Embedding(long numEmbeddings, long embeddingDim, Long paddingIdx, Double maxNorm, double normType, Generator g) {
        if (maxNorm != null && !(maxNorm > 0)) throw new IllegalArgumentException("Embedding: maxNorm must be > 0, got " + maxNorm);
        if (!(normType > 0)) throw new IllegalArgumentException("Embedding: normType must be > 0, got " + normType);
        this.maxNorm = maxNorm;
        this.normType = normType;
        if (numEmbeddings < 1 || embeddingDim < 1) {
            throw new IllegalArgumentException("Embedding: sizes must be >= 1, got " + numEmbeddings + " x " + embeddingDim);
        }
        if (paddingIdx != null && (paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: paddingIdx " + paddingIdx + " out of range for " + numEmbeddings + " embeddings");
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.paddingIdx = paddingIdx == null ? null : paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
        weight = registerParameter("weight", NDArray.empty(DType.F32, Device.cpu(), numEmbeddings, embeddingDim));
        resetParameters(g == null ? Generator.defaultGenerator() : g);
        if (this.paddingIdx != null) {
            // As PyTorch: the padding row never learns, so its gradient is zeroed before it reaches the weight.
            long row = this.paddingIdx;
            weight.registerGradHook(grad -> {
                try (NDArray r = grad.data().select(0, row)) {
                    r.fill(0);
                }
                return grad;
            });
        }
    }

    public void resetParameters(Generator g) {
        Init.normal(weight, 0, 1, g);
        if (paddingIdx != null) {
            try (NDArray row = weight.data().select(0, paddingIdx)) {
                row.fill(0);
            }
        }
    }

    @Override public Tensor forward(Tensor ids) {
        if (ids.dtype().isFloating() || ids.dtype() == DType.BOOL) {
            throw new IllegalArgumentException("Embedding: expected integer ids, got " + ids.dtype());
        }
        if (maxNorm != null) renormRows(ids);
        return Tensor.embedding(weight, ids);
    }

    /** torch.embedding_renorm_: the looked-up rows whose normType-norm exceeds maxNorm, scaled down in place. */
    private void renormRows(Tensor ids) {
        long[] rows = java.util.Arrays.stream(ids.data().toLongArray()).map(i -> i < 0 ? i + numEmbeddings : i).distinct().toArray();
        for (long i : rows) {
            if (i < 0 || i >= numEmbeddings) continue; // the lookup reports the bad id
            try (NDArray row = weight.data().select(0, i)) {
                double norm = 0;
                for (double v : row.toDoubleArray()) norm += Math.pow(Math.abs(v), normType);
                norm = Math.pow(norm, 1 / normType);
                if (norm > maxNorm) {
                    try (NDArray scaled = row.mul(maxNorm / (norm + 1e-7))) {
                        row.copyFrom(scaled);
                    }
                }
            }
        }
    }

    public Tensor weight() { return weight; }

    @Override protected String extraRepr() {
        return numEmbeddings + ", " + embeddingDim + (paddingIdx != null ? ", padding_idx=" + paddingIdx : "")
                + (maxNorm != null ? ", max_norm=" + maxNorm : "") + (normType != 2 ? ", norm_type=" + normType : "");
    }
}
