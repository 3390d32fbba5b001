package io.jtensor.nn.train;

import static org.junit.jupiter.api.Assertions.*;

import io.jtensor.nn.Module;
import io.jtensor.nn.data.DataLoader;
import io.jtensor.nn.data.TensorDataset;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.optim.Optimizer;
import io.jtensor.nn.optim.SGD;
import io.jtensor.nn.train.search.HyperSearch;
import io.jtensor.nn.train.search.SearchResults;
import io.jtensor.nn.train.search.SearchSpace;
import org.junit.jupiter.api.Test;

/** A random search whose objective is a real (short) training run, ranked by validation accuracy. */
class SearchWithTrainerTest {
    @Test void randomSearchOverOptimizerAndLogLrRanksRunsByValidationAccuracy() {
        SearchSpace space = SearchSpace.builder().choice("optimizer", "sgd", "adam").logUniform("lr", 1e-4, 1e-1).build();
        try (TensorDataset trainSet = Blobs.dataset(256, 1); TensorDataset valSet = Blobs.dataset(128, 2);
             DataLoader train = Blobs.loader(trainSet, 32, true); DataLoader val = Blobs.loader(valSet, 64, false)) {
            SearchResults r = HyperSearch.random(space, 4, 5, p -> {
                Module model = Blobs.mlp(1);
                double lr = p.getDouble("lr");
                try (Optimizer opt = p.getString("optimizer").equals("adam") ? new Adam(model.parameters(), lr) : new SGD(model.parameters(), lr, 0.9)) {
                    History h = Trainer.builder(model, opt, Blobs.crossEntropy()).trainData(train).validationData(val).epochs(2).build().fit();
                    return h.last().get(Logs.VAL_ACCURACY);
                }
            }, HyperSearch.Goal.MAXIMIZE);
            assertEquals(4, r.ranked().size());
            assertTrue(r.ranked().stream().noneMatch(t -> t.failed()), r.table());
            assertTrue(r.best().score() >= r.ranked().get(3).score());
            assertEquals(5, r.table().lines().count(), r.table());
        }
    }
}
