package io.jtensor.cli;

import io.jtensor.Device;
import io.jtensor.backend.Backends;
import io.jtensor.backend.cuda.CudaBackend;
import io.jtensor.memory.MemoryStats;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code jtensor devices}: a table in the manner of nvidia-smi of the devices jtensor can use, with the memory jtensor
 * holds on each now and at its peak (for this process, from the allocators' {@link MemoryStats}); then one line on
 * CUDA: the GPUs found, or why there are none.
 */
final class DevicesCommand {
    static final List<Flag> FLAGS = List.of();

    private DevicesCommand() {}

    static int run(ParsedArgs args, PrintStream out) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Device", "Name", "Cores", "Held now", "Peak", "Reserved", "Total", "Util"});
        MemoryStats cpu = Backends.cpu().allocator().stats(Device.cpu());
        rows.add(new String[] {"cpu:0", cpuName(), String.valueOf(Runtime.getRuntime().availableProcessors()),
                bytes(cpu.allocated()), bytes(cpu.peak()), bytes(cpu.reserved()), bytes(totalHostMemory()), "-"});
        String cudaLine;
        if (Backends.cudaAvailable()) {
            List<Device> gpus = cudaDevices();
            for (Device d : gpus) {
                MemoryStats s = Backends.of(d).allocator().stats(d);
                CudaBackend.DeviceInfo info = Backends.cuda().info(d);
                rows.add(new String[] {d.toString(), info.name(), "-", bytes(s.allocated()), bytes(s.peak()),
                        bytes(s.reserved()), bytes(info.totalMemory()),
                        info.utilizationPercent() < 0 ? "-" : info.utilizationPercent() + "%"});
            }
            cudaLine = "cuda: " + gpus.size() + " device" + (gpus.size() == 1 ? "" : "s") + " available";
        } else {
            // The reason may list every place searched, one per line: the table ends with its first line.
            cudaLine = "cuda: not available: " + Backends.cudaUnavailableReason().lines().findFirst().orElse("");
        }
        out.print(table(rows));
        out.println(cudaLine);
        return 0;
    }

    /** CUDA devices 0, 1, ... until one fails to open. */
    private static List<Device> cudaDevices() {
        List<Device> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            try {
                out.add(Device.cuda(i));
            } catch (RuntimeException e) {
                break;
            }
        }
        return out;
    }

    /** A boxed table with the first row as header. */
    static String table(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] w = new int[cols];
        for (String[] r : rows) for (int i = 0; i < cols; i++) w[i] = Math.max(w[i], r[i].length());
        int inner = 1;
        for (int x : w) inner += x + 3;
        String rule = "+" + "-".repeat(inner - 2) + "+\n";
        StringBuilder sb = new StringBuilder(rule);
        for (int ri = 0; ri < rows.size(); ri++) {
            String[] r = rows.get(ri);
            sb.append("|");
            for (int i = 0; i < cols; i++) {
                // Names and device ids left-aligned, numbers right-aligned.
                String fmt = i <= 1 ? "%-" + w[i] + "s" : "%" + w[i] + "s";
                sb.append(' ').append(String.format(Locale.ROOT, fmt, r[i])).append(i == cols - 1 ? " " : "  ");
            }
            sb.setLength(sb.length() - 1);
            sb.append(" |\n");
            if (ri == 0) sb.append("|").append("=".repeat(inner - 2)).append("|\n");
        }
        return sb.append(rule).toString();
    }

    static String bytes(long b) {
        if (b < 0) return "-";
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    int colon = line.indexOf(':');
                    if (colon >= 0) return line.substring(colon + 1).trim().replaceAll("\\s+", " ");
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // Not Linux or not readable: fall back to what Java knows.
        }
        return System.getProperty("os.arch") + " CPU";
    }

    /** Physical memory in bytes, or -1 when unknown. */
    private static long totalHostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // Fall through to the management bean.
        }
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return -1;
    }
}
