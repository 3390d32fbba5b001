package io.jtensor.nn.data;

import java.util.ArrayList;
import java.util.List;

/**
 * An indexed collection of examples. {@link #get} may be called from several loader threads at once, so
 * implementations must be thread-safe for reads.
 */
public interface Dataset {
    /** Number of examples. */
    long size();

    /** Example {@code index} in [0, size()); the caller owns and closes it. */
    Example get(long index);

    /**
     * The examples at {@code indices} collated by {@link Collate#stack()}. Datasets that hold their data in
     * arrays override this with one gather per field instead of one copy per example.
     */
    default Batch getBatch(long[] indices) {
        List<Example> examples = new ArrayList<>(indices.length);
        try {
            for (long i : indices) examples.add(get(i));
            return Collate.stack().apply(examples);
        } finally {
            examples.forEach(Example::close);
        }
    }

    /** Throws unless {@code index} is in [0, size). */
    static void checkIndex(String op, long index, long size) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(op + ": index " + index + " out of range for a dataset of " + size + " examples");
        }
    }
}
