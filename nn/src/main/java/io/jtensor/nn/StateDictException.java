package io.jtensor.nn;

import java.util.List;

/**
 * A state dict that does not fit a module: the message names every missing key, every unexpected key and every
 * shape mismatch, so that one failed load shows everything that has to change.
 */
public final class StateDictException extends IllegalArgumentException {
    /** What a load found: keys the module has but the state lacks, keys the module lacks, and shape mismatches. */
    public record Report(List<String> missingKeys, List<String> unexpectedKeys, List<String> shapeMismatches) {
        public Report {
            missingKeys = List.copyOf(missingKeys);
            unexpectedKeys = List.copyOf(unexpectedKeys);
            shapeMismatches = List.copyOf(shapeMismatches);
        }

        public boolean isClean() { return missingKeys.isEmpty() && unexpectedKeys.isEmpty() && shapeMismatches.isEmpty(); }
    }

    private final Report report;

    public StateDictException(String moduleName, Report report, boolean strict) {
        super(message(moduleName, report, strict));
        this.report = report;
    }

    public Report report() { return report; }

    private static String message(String moduleName, Report r, boolean strict) {
        StringBuilder sb = new StringBuilder("loadStateDict: the state dict does not fit ").append(moduleName)
                .append(strict ? " (strict)" : "").append(':');
        if (strict && !r.missingKeys().isEmpty()) sb.append("\n  missing keys: ").append(String.join(", ", r.missingKeys()));
        if (strict && !r.unexpectedKeys().isEmpty()) sb.append("\n  unexpected keys: ").append(String.join(", ", r.unexpectedKeys()));
        if (!r.shapeMismatches().isEmpty()) sb.append("\n  shape mismatches: ").append(String.join("; ", r.shapeMismatches()));
        return sb.toString();
    }
}
