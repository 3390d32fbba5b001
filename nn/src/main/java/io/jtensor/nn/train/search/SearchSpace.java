package io.jtensor.nn.train.search;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Named hyperparameter ranges: a choice among values, a uniform range, a log-uniform range (for rates and decays,
 * which matter by order of magnitude) or an integer range. Immutable; built with {@link #builder()}.
 */
public final class SearchSpace {
    /** One hyperparameter's range. */
    public sealed interface Dim permits Choice, Uniform, LogUniform, IntRange {}

    public record Choice(List<Object> values) implements Dim {
        public Choice {
            if (values.isEmpty()) throw new IllegalArgumentException("Choice: expected at least one value");
            values = List.copyOf(values);
        }
    }

    public record Uniform(double lo, double hi) implements Dim {
        public Uniform {
            if (!(lo <= hi)) throw new IllegalArgumentException("Uniform: expected lo <= hi, got " + lo + ", " + hi);
        }
    }

    public record LogUniform(double lo, double hi) implements Dim {
        public LogUniform {
            if (!(lo > 0 && lo <= hi)) throw new IllegalArgumentException("LogUniform: expected 0 < lo <= hi, got " + lo + ", " + hi);
        }
    }

    /** Integers lo..hi inclusive. */
    public record IntRange(long lo, long hi) implements Dim {
        public IntRange {
            if (lo > hi) throw new IllegalArgumentException("IntRange: expected lo <= hi, got " + lo + ", " + hi);
        }
    }

    private final Map<String, Dim> dims;

    private SearchSpace(Map<String, Dim> dims) {
        if (dims.isEmpty()) throw new IllegalArgumentException("SearchSpace: expected at least one hyperparameter");
        this.dims = Collections.unmodifiableMap(new LinkedHashMap<>(dims));
    }

    public static Builder builder() { return new Builder(); }

    public Map<String, Dim> dims() { return dims; }

    /** One point drawn independently per dimension (log-uniform draws uniformly in the log). */
    public HParams sample(Random rng) {
        Map<String, Object> v = new LinkedHashMap<>();
        dims.forEach((name, d) -> v.put(name, switch (d) {
            case Choice c -> c.values().get(rng.nextInt(c.values().size()));
            case Uniform u -> u.lo() + (u.hi() - u.lo()) * rng.nextDouble();
            case LogUniform l -> Math.exp(Math.log(l.lo()) + (Math.log(l.hi()) - Math.log(l.lo())) * rng.nextDouble());
            case IntRange r -> r.lo() + (long) Math.floor((r.hi() - r.lo() + 1) * rng.nextDouble());
        }));
        return new HParams(v);
    }

    /**
     * Every combination, with each continuous range cut into {@code pointsPerRange} evenly spaced points including
     * both ends (geometrically spaced for log-uniform ranges); integer ranges give at most that many distinct values.
     */
    public List<HParams> grid(int pointsPerRange) {
        if (pointsPerRange < 1) throw new IllegalArgumentException("grid: expected pointsPerRange >= 1, got " + pointsPerRange);
        List<Map<String, Object>> points = new ArrayList<>();
        points.add(new LinkedHashMap<>());
        for (var e : dims.entrySet()) {
            List<Object> values = axis(e.getValue(), pointsPerRange);
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> p : points) {
                for (Object v : values) {
                    Map<String, Object> q = new LinkedHashMap<>(p);
                    q.put(e.getKey(), v);
                    next.add(q);
                }
            }
            points = next;
        }
        return points.stream().map(HParams::new).toList();
    }

    private static List<Object> axis(Dim d, int n) {
        List<Object> out = new ArrayList<>();
        switch (d) {
            case Choice c -> out.addAll(c.values());
            case Uniform u -> {
                for (int i = 0; i < n; i++) out.add(n == 1 ? (u.lo() + u.hi()) / 2 : u.lo() + (u.hi() - u.lo()) * i / (n - 1));
            }
            case LogUniform l -> {
                double a = Math.log(l.lo()), b = Math.log(l.hi());
                for (int i = 0; i < n; i++) out.add(Math.exp(n == 1 ? (a + b) / 2 : a + (b - a) * i / (n - 1)));
            }
            case IntRange r -> {
                for (int i = 0; i < n; i++) {
                    long v = n == 1 ? (r.lo() + r.hi()) / 2 : Math.round(r.lo() + (r.hi() - r.lo()) * (double) i / (n - 1));
                    if (!out.contains(v)) out.add(v);
                }
            }
        }
        return out;
    }

    /**
     * A smaller space centred on {@code best}: each numeric range keeps the fraction {@code shrink} of its width
     * (of its log-width for log-uniform ranges), centred on the best value and moved to stay inside the current range;
     * choices are fixed to the best one.
     */
    public SearchSpace refineAround(HParams best, double shrink) {
        if (!(shrink > 0 && shrink <= 1)) throw new IllegalArgumentException("refineAround: expected shrink in (0, 1], got " + shrink);
        Map<String, Dim> out = new LinkedHashMap<>();
        dims.forEach((name, d) -> out.put(name, switch (d) {
            case Choice c -> new Choice(List.of(best.get(name)));
            case Uniform u -> {
                double[] r = window(u.lo(), u.hi(), best.getDouble(name), shrink);
                yield new Uniform(r[0], r[1]);
            }
            case LogUniform l -> {
                double[] r = window(Math.log(l.lo()), Math.log(l.hi()), Math.log(best.getDouble(name)), shrink);
                yield new LogUniform(Math.exp(r[0]), Math.exp(r[1]));
            }
            case IntRange r -> {
                double[] w = window(r.lo(), r.hi(), best.getDouble(name), shrink);
                long lo = Math.max(r.lo(), (long) Math.floor(w[0])), hi = Math.min(r.hi(), (long) Math.ceil(w[1]));
                yield new IntRange(lo, hi);
            }
        }));
        return new SearchSpace(out);
    }

    /** [lo, hi] of width shrink*(hi-lo) around c, shifted to lie inside [lo, hi]. */
    private static double[] window(double lo, double hi, double c, double shrink) {
        double half = (hi - lo) * shrink / 2;
        double a = c - half, b = c + half;
        if (a < lo) { b += lo - a; a = lo; }
        if (b > hi) { a -= b - hi; b = hi; }
        return new double[] {Math.max(a, lo), Math.min(b, hi)};
    }

    @Override public String toString() { return "SearchSpace" + dims; }

    public static final class Builder {
        private final Map<String, Dim> dims = new LinkedHashMap<>();

        public Builder choice(String name, Object... values) { return add(name, new Choice(List.of(values))); }
        public Builder uniform(String name, double lo, double hi) { return add(name, new Uniform(lo, hi)); }
        public Builder logUniform(String name, double lo, double hi) { return add(name, new LogUniform(lo, hi)); }
        public Builder intRange(String name, long lo, long hi) { return add(name, new IntRange(lo, hi)); }

        private Builder add(String name, Dim d) {
            if (dims.containsKey(name)) throw new IllegalArgumentException("SearchSpace: '" + name + "' defined twice");
            dims.put(name, d);
            return this;
        }

        public SearchSpace build() { return new SearchSpace(dims); }
    }
}
