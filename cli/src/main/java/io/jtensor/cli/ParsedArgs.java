package io.jtensor.cli;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The flags of one command, parsed against its {@link Flag}s. Typed getters check values and throw a
 * {@link UsageException} that names the flag and the bad value.
 */
final class ParsedArgs {
    private final Map<String, Flag> spec;
    private final Map<String, String> given;

    private ParsedArgs(Map<String, Flag> spec, Map<String, String> given) {
        this.spec = spec;
        this.given = given;
    }

    /** Parses {@code args} (everything after the command name). */
    static ParsedArgs parse(String command, List<Flag> flags, String[] args) {
        Map<String, Flag> spec = new LinkedHashMap<>();
        for (Flag f : flags) spec.put(f.name(), f);
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || a.length() == 2) {
                throw new UsageException(command + ": unexpected argument '" + a + "' (flags start with --)");
            }
            String name = a.substring(2), inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            Flag f = spec.get(name);
            if (f == null) throw new UsageException(command + ": unknown flag --" + name + suggestion(name, spec.keySet()));
            if (given.containsKey(name)) throw new UsageException(command + ": flag --" + name + " given twice");
            if (f.isSwitch()) {
                if (inline != null) throw new UsageException(command + ": flag --" + name + " takes no value, got '" + inline + "'");
                given.put(name, "true");
            } else if (inline != null) {
                given.put(name, inline);
            } else {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new UsageException(command + ": flag --" + name + " needs a value (" + f.metavar() + ")");
                }
                given.put(name, args[++i]);
            }
        }
        return new ParsedArgs(spec, given);
    }

    /** The closest known flag name, when one is close enough to be a likely typo. */
    private static String suggestion(String name, Set<String> known) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String k : known) {
            int d = editDistance(name, k);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best != null && bestD <= 2 ? " (did you mean --" + best + "?)" : "";
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    boolean has(String name) { return given.containsKey(name); }

    Map<String, String> given() { return Collections.unmodifiableMap(given); }

    /** The given value or the default (null when neither). */
    String string(String name) {
        Flag f = spec.get(name);
        if (f == null) throw new IllegalArgumentException("no flag --" + name + " in this command");
        return given.getOrDefault(name, f.defaultValue());
    }

    boolean toggle(String name) { return given.containsKey(name); }

    /** One of the allowed values, compared without case. */
    String choice(String name, List<String> allowed) {
        String v = string(name);
        if (v == null) return null;
        String lower = v.toLowerCase(Locale.ROOT);
        if (!allowed.contains(lower)) {
            throw new UsageException("--" + name + ": expected one of " + String.join(", ", allowed) + ", got '" + v + "'");
        }
        return lower;
    }

    int integer(String name, int min) {
        String v = string(name);
        int x;
        try {
            x = Integer.parseInt(v.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new UsageException("--" + name + ": expected an integer, got '" + v + "'");
        }
        if (x < min) throw new UsageException("--" + name + ": expected an integer >= " + min + ", got " + x);
        return x;
    }

    long longValue(String name) {
        String v = string(name);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new UsageException("--" + name + ": expected an integer, got '" + v + "'");
        }
    }

    /** A finite number in [min, max]. */
    double number(String name, double min, double max) {
        String v = string(name);
        double x;
        try {
            x = Double.parseDouble(v.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new UsageException("--" + name + ": expected a number, got '" + v + "'");
        }
        if (!Double.isFinite(x) || x < min || x > max) {
            String range = max == Double.MAX_VALUE ? ">= " + min : "in [" + min + ", " + max + "]";
            throw new UsageException("--" + name + ": expected a number " + range + ", got " + v);
        }
        return x;
    }

    Path path(String name) {
        String v = string(name);
        if (v == null) return null;
        if (v.isBlank()) throw new UsageException("--" + name + ": expected a path, got an empty string");
        return Path.of(v);
    }
}
