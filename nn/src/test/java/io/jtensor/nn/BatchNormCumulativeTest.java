package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import org.junit.jupiter.api.Test;

/**
 * BatchNorm with momentum null, PyTorch's momentum=None (the cumulative average), against PyTorch 1.13 (Debian's
 * python3-torch 1.13.1, run once, float64): BatchNorm1d(3, momentum=None) trained on three batches
 * ((i * 37) % 101 - 50) / (7 + step) [4, 3]. Catches a fixed factor instead of 1 / num_batches_tracked, or the counter
 * read before its increment (the first batch must replace the initial statistics entirely).
 */
class BatchNormCumulativeTest {
    @Test
    void runningStatisticsAreTheAverageOfEveryBatch() {
        BatchNorm1d bn = new BatchNorm1d(3, 1e-5, null, true, true);
        bn.to(DType.F64);
        bn.train();
        for (int step = 0; step < 3; step++) {
            double[] v = new double[12];
            for (int i = 0; i < 12; i++) v[i] = ((i * 37) % 101 - 50) / (7.0 + step);
            bn.forward(Tensor.wrap(NDArray.of(v, 4, 3)));
        }
        NnTesting.assertClose(new double[] {-4.421296296296297, 0.2526455026455027, 1.7369378306878307}, bn.runningMean().toDoubleArray(), 1e-12,
                "running_mean");
        NnTesting.assertClose(new double[] {2.6877134598695447, 2.6877134598695447, 27.526217399253945}, bn.runningVar().toDoubleArray(), 1e-12,
                "running_var");
        assertEquals(3, bn.numBatchesTracked());
        assertEquals("BatchNorm1d(3, eps=1e-05, momentum=None, affine=True, track_running_stats=True)", bn.toString());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(3, 1e-5, 1.5, true, true));
    }
}
