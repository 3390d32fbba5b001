package io.jtensor.nn.train.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * Hyperparameter search: grid, random, and coarse-to-fine (random rounds, each over a space shrunk around the best
 * point found so far). The objective trains with the given hyperparameters and returns the validation score;
 * a run that throws or returns NaN is recorded as failed and the search goes on.
 */
public final class HyperSearch {
    /** Whether a higher score (accuracy) or a lower one (loss) is better. */
    public enum Goal { MAXIMIZE, MINIMIZE }

    private HyperSearch() {}

    public static SearchResults grid(SearchSpace space, int pointsPerRange, ToDoubleFunction<HParams> objective, Goal goal) {
        List<Trial> trials = new ArrayList<>();
        for (HParams p : space.grid(pointsPerRange)) trials.add(run(trials.size(), 0, p, objective));
        return new SearchResults(trials, goal);
    }

    public static SearchResults random(SearchSpace space, int trials, long seed, ToDoubleFunction<HParams> objective, Goal goal) {
        if (trials < 1) throw new IllegalArgumentException("random: expected trials >= 1, got " + trials);
        Random rng = new Random(seed);
        List<Trial> out = new ArrayList<>();
        for (int i = 0; i < trials; i++) out.add(run(i, 0, space.sample(rng), objective));
        return new SearchResults(out, goal);
    }

    /**
     * {@code rounds} rounds of {@code trialsPerRound} random trials; after each round the space shrinks to the
     * fraction {@code shrink} of its ranges around the best trial so far (choices fixed to its values).
     * The results hold every trial of every round.
     */
    public static SearchResults coarseToFine(SearchSpace space, int rounds, int trialsPerRound, double shrink, long seed,
                                             ToDoubleFunction<HParams> objective, Goal goal) {
        if (rounds < 1 || trialsPerRound < 1) {
            throw new IllegalArgumentException("coarseToFine: expected rounds >= 1 and trialsPerRound >= 1, got " + rounds + ", " + trialsPerRound);
        }
        Random rng = new Random(seed);
        List<Trial> all = new ArrayList<>();
        SearchSpace current = space;
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < trialsPerRound; i++) all.add(run(all.size(), r, current.sample(rng), objective));
            SearchResults sofar = new SearchResults(all, goal);
            if (sofar.ranked().get(0).failed()) continue; // nothing to centre on yet
            current = current.refineAround(sofar.best().params(), shrink);
        }
        return new SearchResults(all, goal);
    }

    private static Trial run(int id, int round, HParams p, ToDoubleFunction<HParams> objective) {
        try {
            double s = objective.applyAsDouble(p);
            return new Trial(id, round, p, s, Double.isNaN(s) ? "score was NaN" : null);
        } catch (RuntimeException e) {
            return new Trial(id, round, p, Double.NaN, e.toString());
        }
    }
}
