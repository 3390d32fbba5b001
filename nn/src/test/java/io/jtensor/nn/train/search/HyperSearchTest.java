package io.jtensor.nn.train.search;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HyperSearchTest {
    private static final SearchSpace SPACE = SearchSpace.builder()
            .choice("opt", "sgd", "adam")
            .logUniform("lr", 1e-4, 1e-0)
            .uniform("momentum", 0.0, 0.9)
            .build();

    /** A smooth score with its maximum at opt=adam, lr=1e-2, momentum=0.6 (score 1 there). */
    private static double score(HParams p) {
        double dl = Math.log10(p.getDouble("lr")) + 2;
        double dm = p.getDouble("momentum") - 0.6;
        return (p.getString("opt").equals("adam") ? 1 : 0.5) - dl * dl / 10 - dm * dm;
    }

    @Test void gridEnumeratesEveryCombinationWithGeometricSpacingForLogRanges() {
        List<HParams> g = SPACE.grid(3);
        assertEquals(2 * 3 * 3, g.size());
        Set<Double> lrs = new HashSet<>();
        for (HParams p : g) lrs.add(p.getDouble("lr"));
        // 1e-4, 1e-2, 1 : evenly spaced in the log
        List<Double> sorted = new ArrayList<>(lrs);
        sorted.sort(null);
        assertEquals(3, sorted.size());
        assertEquals(1e-4, sorted.get(0), 1e-12);
        assertEquals(1e-2, sorted.get(1), 1e-12);
        assertEquals(1.0, sorted.get(2), 1e-12);
        Set<Double> ms = new HashSet<>();
        for (HParams p : g) ms.add(p.getDouble("momentum"));
        assertEquals(Set.of(0.0, 0.45, 0.9), ms);
    }

    @Test void gridSearchRanksByScoreAndFindsTheGridOptimum() {
        SearchResults r = HyperSearch.grid(SPACE, 3, HyperSearchTest::score, HyperSearch.Goal.MAXIMIZE);
        assertEquals(18, r.ranked().size());
        Trial best = r.best();
        assertEquals("adam", best.params().getString("opt"));
        assertEquals(1e-2, best.params().getDouble("lr"), 1e-12);
        assertEquals(0.45, best.params().getDouble("momentum"), 1e-12);
        for (int i = 1; i < r.ranked().size(); i++) {
            assertTrue(r.ranked().get(i - 1).score() >= r.ranked().get(i).score(), "ranked best first");
        }
    }

    @Test void minimizeRanksLowestFirst() {
        SearchResults r = HyperSearch.grid(SPACE, 2, HyperSearchTest::score, HyperSearch.Goal.MINIMIZE);
        for (int i = 1; i < r.ranked().size(); i++) assertTrue(r.ranked().get(i - 1).score() <= r.ranked().get(i).score());
    }

    @Test void randomSamplesStayInRangeAndLogUniformCoversDecadesEvenly() {
        Random rng = new Random(1);
        int low = 0, n = 4000;
        for (int i = 0; i < n; i++) {
            HParams p = SPACE.sample(rng);
            double lr = p.getDouble("lr"), m = p.getDouble("momentum");
            assertTrue(lr >= 1e-4 && lr <= 1, "lr in range: " + lr);
            assertTrue(m >= 0 && m <= 0.9, "momentum in range: " + m);
            if (lr < 1e-2) low++;
        }
        // Log-uniform: half of the samples below the geometric midpoint 1e-2 (a uniform draw would put ~1% there).
        assertEquals(0.5, low / (double) n, 0.03);
    }

    @Test void randomSearchIsReproducibleForASeed() {
        SearchResults a = HyperSearch.random(SPACE, 10, 7, HyperSearchTest::score, HyperSearch.Goal.MAXIMIZE);
        SearchResults b = HyperSearch.random(SPACE, 10, 7, HyperSearchTest::score, HyperSearch.Goal.MAXIMIZE);
        assertEquals(a.table(), b.table());
        assertEquals(10, a.ranked().size());
    }

    @Test void failingTrialsAreRecordedAndRankedLast() {
        SearchResults r = HyperSearch.grid(SPACE, 2, p -> {
            if (p.getString("opt").equals("sgd")) throw new IllegalStateException("diverged");
            return score(p);
        }, HyperSearch.Goal.MAXIMIZE);
        List<Trial> ranked = r.ranked();
        assertEquals(8, ranked.size());
        for (int i = 0; i < 4; i++) assertFalse(ranked.get(i).failed());
        for (int i = 4; i < 8; i++) {
            assertTrue(ranked.get(i).failed());
            assertTrue(ranked.get(i).error().contains("diverged"));
        }
        assertTrue(r.table().contains("failed"));
    }

    @Test void refineShrinksRangesAroundTheBestAndStaysInside() {
        HParams best = new HParams(java.util.Map.of("opt", "adam", "lr", 1e-4, "momentum", 0.5));
        SearchSpace fine = SPACE.refineAround(best, 0.5);
        var lr = (SearchSpace.LogUniform) fine.dims().get("lr");
        // Half of 4 decades = 2 decades, pushed inside [1e-4, 1]: [1e-4, 1e-2].
        assertEquals(1e-4, lr.lo(), 1e-12);
        assertEquals(1e-2, lr.hi(), 1e-12);
        var m = (SearchSpace.Uniform) fine.dims().get("momentum");
        assertEquals(0.5 - 0.225, m.lo(), 1e-12);
        assertEquals(0.5 + 0.225, m.hi(), 1e-12);
        assertEquals(List.of("adam"), ((SearchSpace.Choice) fine.dims().get("opt")).values());
    }

    @Test void coarseToFineGetsCloserToTheOptimumThanItsFirstRound() {
        SearchResults r = HyperSearch.coarseToFine(SPACE, 4, 12, 0.4, 3, HyperSearchTest::score, HyperSearch.Goal.MAXIMIZE);
        assertEquals(48, r.ranked().size());
        double bestFirstRound = r.ranked().stream().filter(t -> t.round() == 0).mapToDouble(Trial::score).max().orElseThrow();
        assertTrue(r.best().score() >= bestFirstRound);
        assertTrue(r.best().score() > 0.97, "refinement should get near the optimum 1.0, got " + r.best().score());
        // After the first round the choice is fixed to the best one found, so a later round uses a single value.
        assertTrue(r.ranked().stream().filter(t -> t.round() == 3).allMatch(t -> t.params().getString("opt").equals(
                r.ranked().stream().filter(u -> u.round() == 3).findFirst().orElseThrow().params().getString("opt"))));
    }

    @Test void tableListsEveryHyperparameterAndTheScore() {
        SearchResults r = HyperSearch.grid(SPACE, 2, HyperSearchTest::score, HyperSearch.Goal.MAXIMIZE);
        String[] lines = r.table().split("\n");
        assertEquals(9, lines.length);
        assertTrue(lines[0].matches("\\s*rank\\s+trial\\s+round\\s+opt\\s+lr\\s+momentum\\s+score"), lines[0]);
        assertTrue(lines[1].trim().startsWith("1 "));
    }

    @Test void badRangesAreRejectedWithTheirValues() {
        var e = assertThrows(IllegalArgumentException.class, () -> SearchSpace.builder().logUniform("lr", 0, 1));
        assertTrue(e.getMessage().contains("LogUniform"));
        assertThrows(IllegalArgumentException.class, () -> SearchSpace.builder().uniform("a", 0, 1).uniform("a", 0, 1));
    }
}
