package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.List;

/**
 * The one way an op joins the graph. An op computes its result array, then calls {@code record} with the inputs and
 * a maker of its backward rule; the maker runs only when the graph is recorded (grad mode on, a floating result, an
 * input that requires grad), so that nothing is saved for a forward pass that will never be differentiated.
 *
 * <p>Public so that modules with fused kernels can add differentiable ops of their own.
 */
public final class Recorder {
    private Recorder() {}

    /** Builds the backward rule of one op, saving what it needs through {@code saved}. */
    @FunctionalInterface
    public interface RuleMaker {
        BackwardFn make(SavedArrays saved);
    }

    public static Tensor record(String op, NDArray result, Tensor input, RuleMaker maker) {
        return record(op, result, new Tensor[] {input}, maker);
    }

    public static Tensor record(String op, NDArray result, Tensor a, Tensor b, RuleMaker maker) {
        return record(op, result, new Tensor[] {a, b}, maker);
    }

    public static Tensor record(String op, NDArray result, List<Tensor> inputs, RuleMaker maker) {
        return record(op, result, inputs.toArray(new Tensor[0]), maker);
    }

    /**
     * Wraps {@code result} (the new tensor owns it) and, when the graph is recorded, attaches a node that runs the
     * rule made by {@code maker} on backward.
     */
    public static Tensor record(String op, NDArray result, Tensor[] inputs, RuleMaker maker) {
        if (!isRecording(result, inputs)) return new Tensor(result, false, null);
        SavedArrays saved = new SavedArrays();
        BackwardFn fn;
        try {
            fn = maker.make(saved);
        } catch (RuntimeException | Error e) {
            saved.release();
            result.close();
            throw e;
        }
        return new Tensor(result, true, new Node(op, inputs, result, fn, saved));
    }

    /** Whether an op with these inputs and this result is recorded now. */
    public static boolean isRecording(NDArray result, Tensor... inputs) {
        if (!GradMode.isEnabled() || !result.dtype().isFloating()) return false;
        for (Tensor t : inputs) if (t.requiresGrad()) return true;
        return false;
    }
}
