package io.jtensor.nn.data;

import io.jtensor.Device;
import io.jtensor.NDArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A batch of examples collated field by field: field i is the examples' field i stacked along a new first dim
 * (for image classification, {@code get(0)} is images [N, C, H, W] and {@code get(1)} labels [N]). The batch owns
 * its arrays; the consumer closes it, ideally with try-with-resources.
 */
public final class Batch implements AutoCloseable {
    private final List<NDArray> fields;

    /** Takes ownership of the arrays. */
    public Batch(List<NDArray> fields) {
        if (fields.isEmpty()) throw new IllegalArgumentException("Batch: expected at least one field");
        for (NDArray f : fields) if (f == null) throw new IllegalArgumentException("Batch: null field in " + fields);
        this.fields = List.copyOf(fields);
    }

    /** Takes ownership of the arrays. */
    public static Batch of(NDArray... fields) { return new Batch(Arrays.asList(fields)); }

    public NDArray get(int field) {
        if (field < 0 || field >= fields.size()) {
            throw new IndexOutOfBoundsException("Batch.get: field " + field + " out of range for a batch of " + fields.size() + " fields");
        }
        return fields.get(field);
    }

    public int fieldCount() { return fields.size(); }

    public List<NDArray> fields() { return fields; }

    /** The number of examples: the first dim of field 0. */
    public long size() {
        NDArray f = fields.get(0);
        return f.dim() == 0 ? 1 : f.size(0);
    }

    /** A copy of every field on {@code device} (shared when already there); this batch stays open. */
    public Batch to(Device device) {
        List<NDArray> out = new ArrayList<>(fields.size());
        try {
            for (NDArray f : fields) out.add(f.to(device));
        } catch (RuntimeException | Error e) {
            out.forEach(NDArray::close);
            throw e;
        }
        return new Batch(out);
    }

    /** A new batch with {@code field} replaced by {@code replacement}; the replaced array is closed. */
    Batch replacing(int field, NDArray replacement) {
        NDArray[] next = fields.toArray(NDArray[]::new);
        NDArray old = next[field];
        next[field] = replacement;
        if (old != replacement) old.close();
        return new Batch(Arrays.asList(next));
    }

    @Override public void close() {
        for (NDArray f : fields) f.close();
    }

    @Override public String toString() { return "Batch" + fields; }
}
