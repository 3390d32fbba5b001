package io.jtensor.nn;

import java.util.Iterator;
import java.util.List;

/** Holds submodules "0", "1", ... so that their parameters are registered; it has no forward of its own. */
public class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final java.util.ArrayList<M> items = new java.util.ArrayList<>();

    public ModuleList() {}

    public ModuleList(List<? extends M> modules) {
        for (M m : modules) add(m);
    }

    public ModuleList<M> add(M m) {
        registerModule(String.valueOf(items.size()), m);
        items.add(m);
        return this;
    }

    public M get(int i) { return items.get(i); }
    public int size() { return items.size(); }
    @Override public Iterator<M> iterator() { return List.copyOf(items).iterator(); }
}
