package io.jtensor.nn.train.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Trials ranked by validation score, best first (failed trials last), and a printable table of them. */
public final class SearchResults {
    private final List<Trial> ranked;
    private final HyperSearch.Goal goal;

    SearchResults(List<Trial> trials, HyperSearch.Goal goal) {
        this.goal = goal;
        Comparator<Trial> byScore = Comparator.comparingDouble(Trial::score);
        if (goal == HyperSearch.Goal.MAXIMIZE) byScore = byScore.reversed();
        List<Trial> ok = new ArrayList<>(), failed = new ArrayList<>();
        for (Trial t : trials) (t.failed() ? failed : ok).add(t);
        ok.sort(byScore.thenComparingInt(Trial::id));
        ok.addAll(failed);
        this.ranked = List.copyOf(ok);
    }

    public List<Trial> ranked() { return ranked; }

    public HyperSearch.Goal goal() { return goal; }

    /** The best trial; fails when every trial failed. */
    public Trial best() {
        if (ranked.isEmpty() || ranked.get(0).failed()) {
            throw new IllegalStateException("SearchResults.best: no trial succeeded"
                    + (ranked.isEmpty() ? "" : " (first error: " + ranked.get(0).error() + ")"));
        }
        return ranked.get(0);
    }

    /** A fixed-width table: rank, trial, round, one column per hyperparameter, score. */
    public String table() {
        List<String> names = ranked.isEmpty() ? List.of() : List.copyOf(ranked.get(0).params().values().keySet());
        List<String[]> rows = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("rank", "trial", "round"));
        header.addAll(names);
        header.add("score");
        rows.add(header.toArray(String[]::new));
        int rank = 1;
        for (Trial t : ranked) {
            List<String> r = new ArrayList<>(List.of(String.valueOf(rank++), String.valueOf(t.id()), String.valueOf(t.round())));
            for (String n : names) r.add(format(t.params().values().get(n)));
            r.add(t.failed() ? "failed" : String.format(Locale.ROOT, "%.4f", t.score()));
            rows.add(r.toArray(String[]::new));
        }
        int[] width = new int[header.size()];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                if (i > 0) sb.append("  ");
                sb.append(String.format(Locale.ROOT, "%" + width[i] + "s", r[i]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String format(Object v) {
        if (v instanceof Double d) return String.format(Locale.ROOT, "%.4g", d);
        if (v instanceof Float f) return String.format(Locale.ROOT, "%.4g", f);
        return String.valueOf(v);
    }

    @Override public String toString() { return table(); }
}
