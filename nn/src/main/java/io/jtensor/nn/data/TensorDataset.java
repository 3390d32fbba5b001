package io.jtensor.nn.data;

import io.jtensor.NDArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A dataset over arrays that share their first dim: example i is field-wise {@code array.select(0, i)}, a view
 * without copying. Batches are one {@code indexSelect} per field. The dataset holds its own references to the
 * arrays (the caller may close theirs) and releases them on {@link #close()}.
 */
public final class TensorDataset implements Dataset, AutoCloseable {
    private final List<NDArray> arrays;
    private final long size;
    private volatile boolean closed;

    public TensorDataset(NDArray... arrays) {
        if (arrays.length == 0) throw new IllegalArgumentException("TensorDataset: expected at least one array");
        long n = -1;
        for (NDArray a : arrays) {
            if (a.dim() == 0) throw new IllegalArgumentException("TensorDataset: expected arrays with a first dim, got a scalar");
            if (n >= 0 && a.size(0) != n) {
                throw new IllegalArgumentException("TensorDataset: expected every array to have first dim " + n + ", got "
                        + Arrays.toString(a.shape()) + " (shapes " + shapes(arrays) + ")");
            }
            n = a.size(0);
        }
        if (!allOnOneDevice(arrays)) throw new IllegalArgumentException("TensorDataset: expected all arrays on one device, got " + devices(arrays));
        List<NDArray> own = new ArrayList<>(arrays.length);
        for (NDArray a : arrays) own.add(a.share());
        this.arrays = List.copyOf(own);
        this.size = n;
    }

    @Override public long size() { return size; }

    /** The arrays this dataset serves; still owned by the dataset. */
    public List<NDArray> arrays() { return arrays; }

    @Override public Example get(long index) {
        checkOpen();
        Dataset.checkIndex("TensorDataset.get", index, size);
        List<NDArray> fields = new ArrayList<>(arrays.size());
        for (NDArray a : arrays) fields.add(a.select(0, index));
        return new Example(fields);
    }

    @Override public Batch getBatch(long[] indices) {
        checkOpen();
        for (long i : indices) Dataset.checkIndex("TensorDataset.getBatch", i, size);
        List<NDArray> fields = new ArrayList<>(arrays.size());
        try (NDArray hostIdx = NDArray.of(indices, indices.length); NDArray idx = hostIdx.to(arrays.get(0).device())) {
            for (NDArray a : arrays) fields.add(a.indexSelect(0, idx));
        } catch (RuntimeException | Error e) {
            fields.forEach(NDArray::close);
            throw e;
        }
        return new Batch(fields);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("TensorDataset: used after close()");
    }

    @Override public void close() {
        if (closed) return;
        closed = true;
        arrays.forEach(NDArray::close);
    }

    private static boolean allOnOneDevice(NDArray[] arrays) {
        for (NDArray a : arrays) if (!a.device().equals(arrays[0].device())) return false;
        return true;
    }

    private static String shapes(NDArray[] arrays) {
        List<String> s = new ArrayList<>();
        for (NDArray a : arrays) s.add(Arrays.toString(a.shape()));
        return s.toString();
    }

    private static String devices(NDArray[] arrays) {
        List<String> s = new ArrayList<>();
        for (NDArray a : arrays) s.add(a.device().toString());
        return s.toString();
    }
}
