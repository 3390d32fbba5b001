package io.jtensor.nn;

/** How a loss combines its per-element values: their mean, their sum, or none (the per-element tensor). */
public enum Reduction {
    MEAN, SUM, NONE;

    /** Parses PyTorch's names: "mean", "sum", "none". */
    public static Reduction parse(String s) {
        return switch (s.trim().toLowerCase()) {
            case "mean" -> MEAN;
            case "sum" -> SUM;
            case "none" -> NONE;
            default -> throw new IllegalArgumentException("Reduction.parse: expected mean, sum or none, got '" + s + "'");
        };
    }
}
