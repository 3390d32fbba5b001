package io.jtensor.backend.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * Which of a kernel family's variants runs: an enum value read once from a system property (the value's name in any
 * case; the default when the property is unset or empty) and settable at run time, so that tests and benchmarks
 * compare variants in one JVM. A property naming no variant fails, listing the ones there are.
 */
final class KernelVariant<E extends Enum<E>> {
    private volatile E value;

    KernelVariant(String property, E fallback) {
        value = parse(property, System.getProperty(property), fallback);
    }

    static <E extends Enum<E>> E parse(String property, String text, E fallback) {
        String v = text == null ? "" : text.trim();
        if (v.isEmpty()) return fallback;
        for (E e : fallback.getDeclaringClass().getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) return e;
        }
        String names = Arrays.stream(fallback.getDeclaringClass().getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).reduce((a, b) -> a + ", " + b).orElse("");
        throw new IllegalArgumentException("-D" + property + ": expected one of " + names + ", got '" + text + "'");
    }

    E get() { return value; }

    void set(E v) { value = Objects.requireNonNull(v); }
}
