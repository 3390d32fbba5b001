package io.jtensor.autograd;

import io.jtensor.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * The arrays one node keeps for its backward rule. They are references of their own ({@link NDArray#share()}), so
 * the forward pass may close its arrays freely; they are closed when the graph is released.
 */
public final class SavedArrays {
    private final List<NDArray> arrays = new ArrayList<>(2);

    SavedArrays() {}

    /** Keeps a reference to {@code a} for the backward pass and returns it; the caller keeps its own reference. */
    public NDArray save(NDArray a) {
        NDArray s = a.share();
        arrays.add(s);
        return s;
    }

    /** Hands {@code a} itself to the graph, which closes it on release; returns it. */
    public NDArray own(NDArray a) {
        arrays.add(a);
        return a;
    }

    void release() {
        for (NDArray a : arrays) a.close();
        arrays.clear();
    }
}
