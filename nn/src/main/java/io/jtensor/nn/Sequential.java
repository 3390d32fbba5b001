package io.jtensor.nn;

import io.jtensor.autograd.Tensor;
import java.util.List;

/** Runs its modules one after the other; they are registered as "0", "1", ... unless named. */
public class Sequential extends Module {
    private final java.util.ArrayList<Module> layers = new java.util.ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) add(m);
    }

    public Sequential(List<? extends Module> modules) {
        for (Module m : modules) add(m);
    }

    /** Appends a module under the next index; returns this. */
    public Sequential add(Module m) { return add(String.valueOf(layers.size()), m); }

    /** Appends a module under a name of its own; returns this. */
    public Sequential add(String name, Module m) {
        registerModule(name, m);
        layers.add(m);
        return this;
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Module m : layers) y = m.forward(y);
        return y;
    }

    public Module get(int i) { return layers.get(i); }
    public int size() { return layers.size(); }
}
