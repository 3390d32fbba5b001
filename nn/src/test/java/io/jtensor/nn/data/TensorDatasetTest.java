package io.jtensor.nn.data;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorDatasetTest {

    @Test
    void servesRowsAndGatheredBatches() {
        try (NDArray x = NDArray.of(new float[] {0, 1, 10, 11, 20, 21, 30, 31}, 4, 2);
             NDArray y = NDArray.of(new long[] {5, 6, 7, 8}, 4);
             TensorDataset ds = new TensorDataset(x, y)) {
            assertEquals(4, ds.size());
            try (Example e = ds.get(2)) {
                assertArrayEquals(new float[] {20, 21}, e.get(0).toFloatArray());
                assertEquals(7, e.get(1).item());
                assertEquals(0, e.get(1).dim());
            }
            try (Batch b = ds.getBatch(new long[] {3, 0, 3})) {
                assertEquals(3, b.size());
                assertArrayEquals(new long[] {3, 2}, b.get(0).shape());
                assertArrayEquals(new float[] {30, 31, 0, 1, 30, 31}, b.get(0).toFloatArray());
                assertArrayEquals(new long[] {8, 5, 8}, b.get(1).toLongArray());
            }
            assertThrows(IndexOutOfBoundsException.class, () -> ds.get(4));
            assertThrows(IndexOutOfBoundsException.class, () -> ds.getBatch(new long[] {0, -1}));
        }
    }

    @Test
    void keepsItsOwnReferences() {
        NDArray x = NDArray.of(new float[] {1, 2, 3}, 3);
        TensorDataset ds = new TensorDataset(x);
        x.close();
        try (Example e = ds.get(1)) {
            assertEquals(2, e.get(0).item(), "the dataset's reference outlives the caller's");
        }
        ds.close();
        assertTrue(ds.arrays().get(0).isClosed());
        assertThrows(IllegalStateException.class, () -> ds.get(0));
    }

    @Test
    void defaultGetBatchStacksExamples() {
        Dataset ds = new Dataset() {
            @Override public long size() { return 3; }

            @Override public Example get(long i) {
                return Example.of(NDArray.of(new double[] {i, -i}, 2), NDArray.scalar(i * 10, DType.I64, io.jtensor.Device.cpu()));
            }
        };
        try (Batch b = ds.getBatch(new long[] {2, 1})) {
            assertArrayEquals(new long[] {2, 2}, b.get(0).shape());
            assertArrayEquals(new double[] {2, -2, 1, -1}, b.get(0).toDoubleArray());
            assertArrayEquals(new long[] {20, 10}, b.get(1).toLongArray());
        }
    }

    @Test
    void rejectsMismatchedFirstDims() {
        try (NDArray x = NDArray.zeros(3, 2); NDArray y = NDArray.zeros(4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TensorDataset(x, y));
            assertTrue(e.getMessage().contains("expected every array to have first dim 3, got [4]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Collate.stack().apply(List.of()));
    }
}
