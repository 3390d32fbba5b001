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

    public Embedding(long numEmbeddings, long embeddingDim) { this(numEmbeddings, embeddingDim, null, Generator.defaultGenerator()); }

    public Embedding(long numEmbeddings, long embeddingDim, Long paddingIdx, Generator g) {
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
        resetParameters(g);
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
        return Tensor.embedding(weight, ids);
    }

    public Tensor weight() { return weight; }

    @Override protected String extraRepr() {
        return numEmbeddings + ", " + embeddingDim + (paddingIdx != null ? ", padding_idx=" + paddingIdx : "");
    }
}
