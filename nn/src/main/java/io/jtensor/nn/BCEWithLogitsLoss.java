package io.jtensor.nn;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;

/**
 * Binary cross-entropy of a sigmoid, computed from the logits in the stable form (no overflow for large |x|);
 * an optional {@code posWeight} (one per class, broadcast over the last dim) weighs the positive term.
 */
public class BCEWithLogitsLoss extends Loss {
    public BCEWithLogitsLoss() { this(Reduction.MEAN, null); }

    /** posWeight (or null) becomes a buffer "pos_weight", so that it moves with the module. */
    public BCEWithLogitsLoss(Reduction reduction, NDArray posWeight) {
        super(reduction);
        if (posWeight != null) registerBuffer("pos_weight", posWeight);
    }

    @Override public Tensor forward(Tensor logits, Tensor target) {
        Tensor pw = namedBuffers().containsKey("pos_weight") ? Tensor.wrap(buffer("pos_weight").to(logits.dtype())) : null;
        return Functional.bceWithLogits(logits, target, pw, reduction());
    }
}
