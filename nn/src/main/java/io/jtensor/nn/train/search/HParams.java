package io.jtensor.nn.train.search;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** One point of a search space: a value per hyperparameter name, in the space's order. */
public final class HParams {
    private final Map<String, Object> values;

    public HParams(Map<String, Object> values) { this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values)); }

    public Map<String, Object> values() { return values; }

    public Object get(String name) {
        Object v = values.get(name);
        if (v == null) throw new IllegalArgumentException("HParams: no hyperparameter '" + name + "' (have " + values.keySet() + ")");
        return v;
    }

    public double getDouble(String name) {
        Object v = get(name);
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("HParams: '" + name + "' is " + v + ", not a number");
    }

    public int getInt(String name) {
        Object v = get(name);
        if (v instanceof Number n) return (int) Math.round(n.doubleValue());
        throw new IllegalArgumentException("HParams: '" + name + "' is " + v + ", not a number");
    }

    public String getString(String name) { return String.valueOf(get(name)); }

    @Override public boolean equals(Object o) { return o instanceof HParams h && h.values.equals(values); }
    @Override public int hashCode() { return values.hashCode(); }
    @Override public String toString() { return values.toString(); }
}
