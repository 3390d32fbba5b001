package io.jtensor.nn;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * {@link Module#replicate}: shallow copies of every module of a tree, with the references to the tree's parameters,
 * buffers and modules swapped for their replicas, in the tables and in the subclasses' own fields.
 */
final class ModuleReplicas {
    /** Per class: its instance fields (and its superclasses' up to Module) that could hold a reference to swap. */
    private static final ClassValue<List<Field>> FIELDS = new ClassValue<>() {
        @Override protected List<Field> computeValue(Class<?> type) { return referenceFields(type); }
    };

    private ModuleReplicas() {}

    static Module replicate(Module root, UnaryOperator<Tensor> parameterReplica, UnaryOperator<NDArray> bufferReplica) {
        // Original -> replica, by identity, for modules, parameter tensors and buffer arrays alike.
        Map<Object, Object> replicas = new IdentityHashMap<>();
        Set<Module> modules = Collections.newSetFromMap(new IdentityHashMap<>());
        modules.addAll(root.namedModules().values());
        for (Module m : modules) replicas.put(m, m.shallowCopy());
        for (Module m : modules) {
            for (Tensor p : m.ownParameters().values()) {
                if (!replicas.containsKey(p)) replicas.put(p, nonNull(parameterReplica.apply(p), "parameter", m));
            }
            for (NDArray b : m.ownBuffers().values()) {
                if (!replicas.containsKey(b)) replicas.put(b, nonNull(bufferReplica.apply(b), "buffer", m));
            }
        }
        for (Module m : modules) {
            Module copy = (Module) replicas.get(m);
            m.ownParameters().forEach((name, p) -> copy.ownParameters().put(name, (Tensor) replicas.get(p)));
            m.ownBuffers().forEach((name, b) -> copy.ownBuffers().put(name, (NDArray) replicas.get(b)));
            m.ownChildren().forEach((name, c) -> copy.ownChildren().put(name, (Module) replicas.get(c)));
            rewireFields(copy, replicas);
        }
        return (Module) replicas.get(root);
    }

    private static <T> T nonNull(T replica, String what, Module owner) {
        if (replica == null) {
            throw new IllegalStateException("Module.replicate: the " + what + " replica of a " + owner.getClass().getSimpleName() + " is null");
        }
        return replica;
    }

    private static void rewireFields(Module copy, Map<Object, Object> replicas) {
        for (Field f : FIELDS.get(copy.getClass())) {
            try {
                Object v = f.get(copy);
                Object r = swap(v, replicas);
                if (r != v) f.set(copy, r);
            } catch (IllegalAccessException | IllegalArgumentException e) {
                throw new IllegalStateException("Module.replicate: cannot point field " + f.getDeclaringClass().getSimpleName() + "." + f.getName()
                        + " of a " + copy.getClass().getSimpleName() + " at its replica: " + e.getMessage(), e);
            }
        }
    }

    /** The replica of v: a swapped reference, or a copy of an array or list with swapped elements, or v itself. */
    private static Object swap(Object v, Map<Object, Object> replicas) {
        if (v == null) return null;
        Object r = replicas.get(v);
        if (r != null) return r;
        if (v instanceof Object[] arr) {
            Object[] mapped = (Object[]) Array.newInstance(arr.getClass().getComponentType(), arr.length);
            boolean changed = false;
            for (int i = 0; i < arr.length; i++) {
                mapped[i] = swap(arr[i], replicas);
                changed |= mapped[i] != arr[i];
            }
            return changed ? mapped : arr;
        }
        if (v instanceof List<?> list) {
            List<Object> mapped = new ArrayList<>(list.size());
            boolean changed = false;
            for (Object e : list) {
                Object s = swap(e, replicas);
                changed |= s != e;
                mapped.add(s);
            }
            if (!changed) return v;
            // An ArrayList stays one (fields are often declared as such); anything else becomes a read-only list.
            return v.getClass() == ArrayList.class ? mapped : Collections.unmodifiableList(mapped);
        }
        return v;
    }

    private static List<Field> referenceFields(Class<?> type) {
        Set<Field> out = new LinkedHashSet<>();
        for (Class<?> c = type; c != null && c != Module.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) continue;
                try {
                    f.setAccessible(true);
                } catch (InaccessibleObjectException e) {
                    throw new IllegalStateException("Module.replicate: cannot reach field " + c.getName() + "." + f.getName()
                            + ": open its package to io.jtensor.nn to replicate the module (" + e.getMessage() + ")", e);
                }
                out.add(f);
            }
        }
        return List.copyOf(out);
    }
}
