package io.jtensor.nn.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.nn.Linear;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.ShardSampler;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.train.Logs;
import io.jtensor.nn.train.Trainer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Evaluation split over ranks (unpadded shares, sums all-reduced) gives the figures of the whole dataset. */
class DistributedEvaluationTest {
    @Test
    void threeRanksOnUnevenSharesReportTheWholeSetsLossAndAccuracy() {
        List<Linear> models = DdpTesting.copies(4, () -> new Linear(5, 3));
        try (NDArray x = DdpTesting.input(31, 10, 5); NDArray y = DdpTesting.labels(32, 10, 3); TensorDataset data = new TensorDataset(x, y)) {
            Map<String, Double> whole;
            try (DataLoader all = DataLoader.builder(data).batchSize(3).build()) {
                whole = Trainer.evaluate(models.get(3), all, Tensor::crossEntropy, Device.cpu());
            }
            List<Map<String, Double>> ranks = ThreadRanks.run(3, Duration.ofSeconds(20), Duration.ofSeconds(60), (rank, group) -> {
                Device dev = Device.cpu(rank);
                // Shares of 4, 3 and 3 examples: a padded sampler would count two examples twice.
                try (DataLoader share = DataLoader.builder(data).batchSize(3).sampler(new ShardSampler(10, rank, 3)).device(dev).build()) {
                    return Trainer.evaluate(models.get(rank).to(dev), share, Tensor::crossEntropy, dev, group);
                }
            });
            for (int r = 0; r < 3; r++) {
                assertEquals(10, ranks.get(r).get(Logs.SAMPLES), "rank " + r + " counts the whole set");
                assertEquals(whole.get(Logs.ACCURACY), ranks.get(r).get(Logs.ACCURACY), 1e-12, "rank " + r + " accuracy");
                assertEquals(whole.get(Logs.LOSS), ranks.get(r).get(Logs.LOSS), 1e-6, "rank " + r + " loss");
            }
        }
    }
}
