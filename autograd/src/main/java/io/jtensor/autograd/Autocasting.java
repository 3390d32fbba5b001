package io.jtensor.autograd;

import io.jtensor.DType;
import java.util.function.Function;

/**
 * The one door of autocast into the op families: each op entry that appears in the {@link AutocastOp} table calls
 * {@link #run} once, with its table constant, its tensor inputs and its body. With no policy installed on this
 * thread (the usual case) the body runs on the inputs as they are; otherwise the inputs are cast by the table's row
 * and the policy, the body runs on the casts, and the casts the policy does not keep are closed.
 *
 * <p>The installed policy is per thread. A thread that should compute like another (a data-parallel replica) is
 * given the other thread's policy: read it there with {@link #current()} and {@link #install} it on the replica
 * thread, restoring the replica's own when done.
 */
public final class Autocasting {
    private static final ThreadLocal<AutocastPolicy> CURRENT = new ThreadLocal<>();

    private Autocasting() {}

    /** The policy installed on this thread, or null when ops run in their inputs' dtypes. */
    public static AutocastPolicy current() { return CURRENT.get(); }

    /** Installs {@code policy} (null: none) on this thread and returns the one it replaces. */
    public static AutocastPolicy install(AutocastPolicy policy) {
        AutocastPolicy previous = CURRENT.get();
        if (policy == null) CURRENT.remove();
        else CURRENT.set(policy);
        return previous;
    }

    /**
     * Whether a backward pass has released the node that made {@code t} (so that a cached cast of it cannot carry
     * another pass's gradient and must be made again).
     */
    public static boolean graphReleased(Tensor t) {
        Node n = t.gradFnNode();
        return n != null && n.isFreed();
    }

    /** The dtype an op of this row runs in, given its inputs; null when nothing is to be cast. */
    public static DType targetType(AutocastOp op, DType halfType, Tensor... inputs) {
        return switch (op.precision()) {
            case HALF -> halfType;
            case FP32 -> DType.F32;
            case WIDEST -> {
                DType widest = null;
                for (Tensor t : inputs) {
                    if (t != null && t.dtype().isFloating()) widest = widest == null ? t.dtype() : DType.promote(widest, t.dtype());
                }
                yield widest;
            }
        };
    }

    /**
     * Runs {@code body} on {@code inputs} (nulls allowed: absent optional inputs), cast as the table says for
     * {@code op} when a policy is installed. Public so that ops composed above autograd (the losses of
     * {@code nn.Functional}) join the same table.
     */
    public static <R> R run(AutocastOp op, Function<Tensor[], R> body, Tensor... inputs) {
        AutocastPolicy policy = CURRENT.get();
        if (policy == null) return body.apply(inputs);
        DType target = targetType(op, policy.halfType(), inputs);
        if (target == null) return body.apply(inputs);
        Tensor[] cast = inputs.clone();
        R result = null;
        try {
            for (int i = 0; i < inputs.length; i++) {
                Tensor t = inputs[i];
                if (t != null && eligible(op, t.dtype(), target)) cast[i] = policy.cast(t, target);
            }
            result = body.apply(cast);
            return result;
        } finally {
            for (int i = 0; i < inputs.length; i++) {
                Tensor c = cast[i];
                if (c != inputs[i] && c != result && !policy.ownsCast(c)) c.data().close();
            }
        }
    }

    /**
     * Whether an input of this dtype is cast: floating dtypes other than the target, never F64 narrowed (PyTorch
     * leaves double inputs alone), integers and booleans never.
     */
    private static boolean eligible(AutocastOp op, DType dt, DType target) {
        if (!dt.isFloating() || dt == target) return false;
        if (dt == DType.F64) return op.precision() == AutocastOp.Precision.WIDEST;
        return true;
    }
}
