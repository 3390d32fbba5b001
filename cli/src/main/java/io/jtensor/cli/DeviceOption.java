package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.backend.Backends;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The --device flag: auto (the first GPU when CUDA works, else the CPU), cpu, cuda or cuda:N. */
final class DeviceOption {
    private static final Pattern SYNTAX = Pattern.compile("auto|cpu|cuda(?::(\\d+))?");

    private DeviceOption() {}

    /** Checks the spelling only, so that a typo is a usage error (exit 2) before anything loads. */
    static String check(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (!SYNTAX.matcher(v).matches()) {
            throw new UsageException("--device: expected auto, cpu, cuda or cuda:N, got '" + value + "'");
        }
        return v;
    }

    /** The device to run on; fails with CUDA's reason when a GPU was asked for and cannot be used. */
    static Device resolve(String checked) {
        if (checked.equals("auto")) return Backends.cudaAvailable() ? Device.cuda(0) : Device.cpu();
        if (checked.equals("cpu")) return Device.cpu();
        Matcher m = SYNTAX.matcher(checked);
        if (!m.matches()) throw new UsageException("--device: expected auto, cpu, cuda or cuda:N, got '" + checked + "'");
        int index = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
        if (!Backends.cudaAvailable()) {
            throw new CommandException("--device " + checked + ": CUDA is not available: " + Backends.cudaUnavailableReason());
        }
        try {
            return Device.cuda(index);
        } catch (RuntimeException e) {
            throw new CommandException("--device " + checked + ": " + e.getMessage());
        }
    }
}
