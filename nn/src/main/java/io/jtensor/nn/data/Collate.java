package io.jtensor.nn.data;

import io.jtensor.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a list of examples into one batch. The examples stay owned by the caller (the loader closes them after
 * collation), so a collate function must copy what it keeps.
 */
@FunctionalInterface
public interface Collate {
    Batch apply(List<Example> examples);

    /** The default: field i of the batch is field i of every example stacked along a new dim 0. */
    static Collate stack() { return StackCollate.INSTANCE; }

    /** The default collation, a class so that the loader can recognise it and take faster paths. */
    final class StackCollate implements Collate {
        static final StackCollate INSTANCE = new StackCollate();

        private StackCollate() {}

        @Override public Batch apply(List<Example> examples) {
            if (examples.isEmpty()) throw new IllegalArgumentException("Collate.stack: expected at least one example");
            int fields = examples.get(0).fieldCount();
            for (Example e : examples) {
                if (e.fieldCount() != fields) {
                    throw new IllegalArgumentException("Collate.stack: expected every example to have " + fields + " fields, got one with "
                            + e.fieldCount());
                }
            }
            List<NDArray> out = new ArrayList<>(fields);
            try {
                for (int f = 0; f < fields; f++) {
                    List<NDArray> parts = new ArrayList<>(examples.size());
                    for (Example e : examples) parts.add(e.get(f));
                    out.add(NDArray.stack(parts, 0));
                }
            } catch (RuntimeException | Error e) {
                out.forEach(NDArray::close);
                throw e;
            }
            return new Batch(out);
        }
    }
}
