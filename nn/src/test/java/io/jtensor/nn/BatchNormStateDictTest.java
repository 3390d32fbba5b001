package io.jtensor.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jtensor.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A BatchNorm state dict without num_batches_tracked, as PyTorch 1.13 loads it (python3-torch 1.13.1, run once):
 * {@code bn.load_state_dict({weight, bias, running_mean, running_var})} on a BatchNorm2d(3) whose counter was 5 gives
 * "All keys matched successfully" and num_batches_tracked 0; leaving out running_mean still fails with "Missing
 * key(s) in state_dict: "running_mean"". Catches a strict load refusing such checkpoints, the counter keeping its old
 * value, and the default leaking to keys PyTorch does not fill in.
 */
class BatchNormStateDictTest {
    private static Map<String, NDArray> withoutCounter(String prefix) {
        Map<String, NDArray> sd = new LinkedHashMap<>();
        sd.put(prefix + "weight", NDArray.of(new float[] {2, 2, 2}, 3));
        sd.put(prefix + "bias", NDArray.of(new float[] {0, 0, 0}, 3));
        sd.put(prefix + "running_mean", NDArray.of(new float[] {1, 2, 3}, 3));
        sd.put(prefix + "running_var", NDArray.of(new float[] {1, 1, 1}, 3));
        return sd;
    }

    @Test
    void strictLoadFillsInTheCounterWithZero() {
        BatchNorm2d bn = new BatchNorm2d(3);
        bn.train();
        for (int i = 0; i < 5; i++) bn.forward(io.jtensor.autograd.Tensor.randn(2, 3, 2, 2));
        assertEquals(5, bn.numBatchesTracked());
        var report = bn.loadStateDict(withoutCounter(""), true);
        assertTrue(report.missingKeys().isEmpty() && report.unexpectedKeys().isEmpty(), report.toString());
        assertEquals(0, bn.numBatchesTracked());
        assertArrayEquals(new double[] {1, 2, 3}, bn.runningMean().toDoubleArray());
    }

    @Test
    void nestedBatchNormLoadsToo() {
        Sequential model = new Sequential(new Conv2d(1, 3, 3), new BatchNorm2d(3));
        Map<String, NDArray> sd = withoutCounter("1.");
        sd.put("0.weight", NDArray.zeros(3, 1, 3, 3));
        sd.put("0.bias", NDArray.zeros(3));
        model.loadStateDict(sd);
        assertArrayEquals(new double[] {2, 2, 2}, ((BatchNorm2d) model.children().get(1)).weight().toDoubleArray());
    }

    @Test
    void otherMissingKeysStillFail() {
        Map<String, NDArray> sd = withoutCounter("");
        sd.remove("running_mean");
        var e = assertThrows(StateDictException.class, () -> new BatchNorm2d(3).loadStateDict(sd));
        assertTrue(e.getMessage().contains("running_mean"), e.getMessage());
        assertTrue(!e.getMessage().contains("num_batches_tracked"), "the counter is not reported missing: " + e.getMessage());
    }
}
