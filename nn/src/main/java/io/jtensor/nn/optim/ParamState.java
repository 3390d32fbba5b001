package io.jtensor.nn.optim;

import io.jtensor.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/** What an optimizer remembers about one parameter between steps: a step count and named buffers it owns. */
public final class ParamState implements AutoCloseable {
    /** Number of updates applied to the parameter. */
    public long step;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();

    public NDArray get(String name) { return buffers.get(name); }

    public boolean has(String name) { return buffers.containsKey(name); }

    /** Stores a buffer this state now owns (kept out of any MemoryScope), closing the one it replaces. */
    public void put(String name, NDArray buffer) {
        buffer.keep();
        NDArray old = buffers.put(name, buffer);
        if (old != null && old != buffer) old.close();
    }

    public Map<String, NDArray> buffers() { return java.util.Collections.unmodifiableMap(buffers); }

    @Override public void close() {
        buffers.values().forEach(NDArray::close);
        buffers.clear();
        step = 0;
    }
}
