package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.backend.Backends;
import io.jtensor.backend.cuda.CudaBackend;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The --devices flag of data-parallel training: a comma-separated list of devices of one kind ({@code cpu:0,cpu:1},
 * {@code cuda:0,cuda:1}) or {@code cuda:all}. Logical CPU devices exist for any index, so a CPU list works on any
 * machine; CUDA indices must exist ({@code -Djtensor.cuda.logicalDevices=N} maps N of them onto one GPU).
 */
final class DevicesOption {
    private static final Pattern ONE = Pattern.compile("(cpu|cuda):\\d+");

    private DevicesOption() {}

    /** The options of a data-parallel run: the device list, and whether the loss runs on every device. */
    record Parallel(List<Device> devices, boolean parallelCriterion) {
        /** "cpu:0,cpu:1". */
        String names() {
            List<String> n = new ArrayList<>();
            for (Device d : devices) n.add(d.toString());
            return String.join(",", n);
        }
    }

    /** Checks the spelling only (a usage error, exit 2, before anything loads); returns the normalised list. */
    static List<String> check(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("cuda:all")) return List.of(v);
        Set<String> seen = new LinkedHashSet<>();
        String kind = null;
        for (String part : v.split(",", -1)) {
            String p = part.trim();
            if (!ONE.matcher(p).matches()) {
                throw new UsageException("--devices: expected a list like cpu:0,cpu:1 or cuda:0,cuda:1, or cuda:all, got '" + value + "'");
            }
            String k = p.substring(0, p.indexOf(':'));
            if (kind != null && !kind.equals(k)) throw new UsageException("--devices: expected devices of one kind, got " + kind + " and " + k + " in '" + value + "'");
            kind = k;
            if (!seen.add(k + ":" + Integer.parseInt(p.substring(k.length() + 1)))) { // cpu:01 is cpu:1
                throw new UsageException("--devices: " + p + " is listed twice in '" + value + "'");
            }
        }
        List<String> out = new ArrayList<>();
        for (String p : v.split(",")) out.add(p.trim());
        return out;
    }

    /** The devices; fails with CUDA's reason when GPUs were asked for and cannot be used. */
    static List<Device> resolve(List<String> checked) {
        boolean cuda = checked.get(0).startsWith("cuda");
        if (cuda && !Backends.cudaAvailable()) {
            throw new CommandException("--devices " + String.join(",", checked) + ": CUDA is not available: " + Backends.cudaUnavailableReason());
        }
        List<Device> out = new ArrayList<>();
        if (checked.equals(List.of("cuda:all"))) {
            for (int i = 0; i < Backends.cuda().deviceCount(); i++) out.add(Device.cuda(i));
            return out;
        }
        for (String p : checked) {
            int index = Integer.parseInt(p.substring(p.indexOf(':') + 1));
            if (!cuda) {
                out.add(Device.cpu(index));
                continue;
            }
            try {
                out.add(Device.cuda(index));
            } catch (RuntimeException e) {
                throw new CommandException("--devices: " + p + ": " + e.getMessage() + " (-D" + CudaBackend.LOGICAL_DEVICES_PROPERTY
                        + "=N in JTENSOR_JAVA_OPTS maps N logical devices onto one GPU)");
            }
        }
        return out;
    }
}
