package io.jtensor.nn.train.search;

/**
 * One evaluated point: its number in evaluation order, the refinement round it came from (0 for a plain search),
 * the hyperparameters, the validation score (NaN when the run failed) and the failure message, if any.
 */
public record Trial(int id, int round, HParams params, double score, String error) {
    public boolean failed() { return Double.isNaN(score); }
}
