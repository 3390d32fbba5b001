package io.jtensor.nn;

import io.jtensor.NDArray;
import io.jtensor.Shapes;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * Binary cross-entropy of a sigmoid, computed from the logits in the stable form (no overflow for large |x|);
 * an optional {@code posWeight} (one per class, broadcast over the last dim) weighs the positive term.
 */
public class BCEWithLogitsLoss extends Loss {
    public BCEWithLogitsLoss() { this(Reduction.MEAN, null); }

    /** posWeight (or null) becomes a buffer "pos_weight", so that it moves with the module. */
    public BCEWithLogitsLoss(Reduction reduction, NDArray posWeight) { this(null, reduction, posWeight); }

    /**
     * PyTorch's {@code BCEWithLogitsLoss(weight, reduction, pos_weight)}: {@code weight} (or null), broadcast to the
     * input, rescales each element's loss before the reduction (the mean stays over all elements); it becomes the
     * buffer "weight".
     */
    public BCEWithLogitsLoss(NDArray weight, Reduction reduction, NDArray posWeight) {
        super(reduction);
        if (weight != null) registerBuffer("weight", weight);
        if (posWeight != null) registerBuffer("pos_weight", posWeight);
    }

    @Override public Tensor forward(Tensor logits, Tensor target) {
        var buffers = namedBuffers();
        Tensor pw = buffers.containsKey("pos_weight") ? Tensor.wrap(buffer("pos_weight").to(logits.dtype())) : null;
        if (!buffers.containsKey("weight")) return Functional.bceWithLogits(logits, target, pw, reduction());
        Tensor perElement = Functional.bceWithLogits(logits, target, pw, Reduction.NONE);
        NDArray w = buffer("weight");
        if (!broadcastsTo(w.shape(), logits.shape())) {
            throw new IllegalArgumentException("BCEWithLogitsLoss: expected a weight broadcastable to the input " + Arrays.toString(logits.shape())
                    + ", got " + Arrays.toString(w.shape()));
        }
        return Functional.reduce(perElement.mul(Tensor.wrap(w.to(logits.dtype()))), reduction());
    }

    private static boolean broadcastsTo(long[] from, long[] to) {
        try {
            return Arrays.equals(Shapes.broadcast("BCEWithLogitsLoss", from, to), to);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
