package io.jtensor.nn.data;

import io.jtensor.Device;
import io.jtensor.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Makes one batch from its dataset indices: fetch, per-example transforms, collate, per-batch transforms, copy to
 * the target device. Its result depends only on its arguments, never on which thread runs it or when, which is
 * what makes loading with several workers reproducible.
 */
final class BatchProducer {
    /** Domain tags that keep the per-example and per-batch random streams apart. */
    private static final long EXAMPLE_STREAM = 0x45584D50L, BATCH_STREAM = 0x42415443L;

    record FieldTransform(int field, Transform transform) {}

    private final Dataset dataset;
    private final Collate collate;
    private final List<FieldTransform> exampleTransforms;
    private final List<FieldTransform> batchTransforms;
    private final Device device;
    private final long seed;

    BatchProducer(Dataset dataset, Collate collate, List<FieldTransform> exampleTransforms, List<FieldTransform> batchTransforms,
                  Device device, long seed) {
        this.dataset = dataset;
        this.collate = collate;
        this.exampleTransforms = List.copyOf(exampleTransforms);
        this.batchTransforms = List.copyOf(batchTransforms);
        this.device = device;
        this.seed = seed;
    }

    /**
     * @param firstPosition the position of {@code indices[0]} in the epoch's order, which (with the epoch) keys
     *     each example's random stream
     */
    Batch produce(long[] indices, long epoch, long batchNumber, long firstPosition) {
        Batch b = collated(indices, epoch, firstPosition);
        try {
            if (!batchTransforms.isEmpty()) {
                RandomGenerator rng = PhiloxRandom.derive(seed, BATCH_STREAM, epoch, batchNumber);
                for (FieldTransform ft : batchTransforms) {
                    NDArray out = ft.transform().apply(field(b, ft.field(), "batch"), rng);
                    b = b.replacing(ft.field(), out);
                }
            }
            if (device != null) {
                Batch moved = b.to(device);
                b.close();
                b = moved;
            }
            return b;
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
    }

    private Batch collated(long[] indices, long epoch, long firstPosition) {
        if (exampleTransforms.isEmpty() && collate == null) return dataset.getBatch(indices);
        List<Example> examples = new ArrayList<>(indices.length);
        try {
            for (int p = 0; p < indices.length; p++) {
                examples.add(dataset.get(indices[p]));
                if (exampleTransforms.isEmpty()) continue;
                RandomGenerator rng = PhiloxRandom.derive(seed, EXAMPLE_STREAM, epoch, firstPosition + p);
                for (FieldTransform ft : exampleTransforms) {
                    Example e = examples.get(p);
                    NDArray out = ft.transform().apply(field(e, ft.field()), rng);
                    examples.set(p, e.replacing(ft.field(), out));
                }
            }
            return (collate == null ? Collate.stack() : collate).apply(examples);
        } finally {
            examples.forEach(Example::close);
        }
    }

    private static NDArray field(Example e, int field) {
        if (field >= e.fieldCount()) {
            throw new IllegalArgumentException("DataLoader: a transform is set for field " + field + " but examples have " + e.fieldCount() + " fields");
        }
        return e.get(field);
    }

    private static NDArray field(Batch b, int field, String what) {
        if (field >= b.fieldCount()) {
            throw new IllegalArgumentException("DataLoader: a " + what + " transform is set for field " + field + " but batches have "
                    + b.fieldCount() + " fields");
        }
        return b.get(field);
    }
}
