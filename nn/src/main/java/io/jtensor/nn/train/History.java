package io.jtensor.nn.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The end-of-epoch logs of one fit() call, in order. */
public final class History {
    /** One epoch's number (from 0) and its logs. */
    public record Entry(int epoch, Map<String, Double> logs) {}

    private final List<Entry> entries = new ArrayList<>();

    void add(int epoch, Map<String, Double> logs) {
        entries.add(new Entry(epoch, Collections.unmodifiableMap(new LinkedHashMap<>(logs))));
    }

    public List<Entry> entries() { return Collections.unmodifiableList(entries); }

    public int size() { return entries.size(); }

    /** The values of one log key across epochs (NaN where an epoch lacks it). */
    public double[] series(String key) {
        double[] v = new double[entries.size()];
        for (int i = 0; i < v.length; i++) v[i] = entries.get(i).logs().getOrDefault(key, Double.NaN);
        return v;
    }

    /** The last epoch's logs; fails when no epoch ran. */
    public Map<String, Double> last() {
        if (entries.isEmpty()) throw new IllegalStateException("History.last: no epoch ran");
        return entries.get(entries.size() - 1).logs();
    }

    @Override public String toString() { return entries.toString(); }
}
