package io.jtensor.nn.data;

import io.jtensor.NDArray;
import java.util.Arrays;
import java.util.List;

/**
 * One item of a {@link Dataset}: a fixed number of arrays (for supervised data, field 0 the input and field 1 the
 * target). The example owns its arrays; whoever receives it from {@link Dataset#get} closes it.
 */
public final class Example implements AutoCloseable {
    private final List<NDArray> fields;

    /** Takes ownership of the arrays. */
    public Example(List<NDArray> fields) {
        if (fields.isEmpty()) throw new IllegalArgumentException("Example: expected at least one field");
        for (NDArray f : fields) if (f == null) throw new IllegalArgumentException("Example: null field in " + fields);
        this.fields = List.copyOf(fields);
    }

    /** Takes ownership of the arrays. */
    public static Example of(NDArray... fields) { return new Example(Arrays.asList(fields)); }

    public NDArray get(int field) {
        if (field < 0 || field >= fields.size()) {
            throw new IndexOutOfBoundsException("Example.get: field " + field + " out of range for an example of " + fields.size() + " fields");
        }
        return fields.get(field);
    }

    public int fieldCount() { return fields.size(); }

    public List<NDArray> fields() { return fields; }

    /** A new example with {@code field} replaced by {@code replacement}; the replaced array is closed. */
    Example replacing(int field, NDArray replacement) {
        NDArray[] next = fields.toArray(NDArray[]::new);
        NDArray old = next[field];
        next[field] = replacement;
        if (old != replacement) old.close();
        return new Example(Arrays.asList(next));
    }

    @Override public void close() {
        for (NDArray f : fields) f.close();
    }

    @Override public String toString() { return "Example" + fields; }
}
