package io.jtensor;

import java.util.Objects;

/**
 * Where an array's storage lives. A CUDA device index is a logical index: several logical devices may share one
 * physical GPU (see {@link Devices}), each with its own streams and memory accounting.
 */
public record Device(Type type, int index) {
    public enum Type { CPU, CUDA }

    private static final Device CPU0 = new Device(Type.CPU, 0);

    public Device {
        Objects.requireNonNull(type, "type");
        if (index < 0) throw new IllegalArgumentException("Device: index must be >= 0, got " + index);
    }

    public static Device cpu() { return CPU0; }
    public static Device cpu(int index) { return index == 0 ? CPU0 : new Device(Type.CPU, index); }

    /** A CUDA device; fails with a message naming what is missing when no GPU or driver can be used. */
    public static Device cuda(int index) {
        Device d = new Device(Type.CUDA, index);
        io.jtensor.backend.Backends.of(d); // validates: driver present, index in range
        return d;
    }

    /** Parses "cpu", "cpu:1", "cuda", "cuda:0". */
    public static Device parse(String s) {
        String t = s.trim().toLowerCase();
        int colon = t.indexOf(':');
        String kind = colon < 0 ? t : t.substring(0, colon);
        int idx;
        try {
            idx = colon < 0 ? 0 : Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Device.parse: expected cpu[:N] or cuda[:N], got '" + s + "'");
        }
        return switch (kind) {
            case "cpu" -> cpu(idx);
            case "cuda" -> cuda(idx);
            default -> throw new IllegalArgumentException("Device.parse: expected cpu[:N] or cuda[:N], got '" + s + "'");
        };
    }

    public boolean isCpu() { return type == Type.CPU; }
    public boolean isCuda() { return type == Type.CUDA; }

    @Override public String toString() { return type.name().toLowerCase() + ":" + index; }
}
