package io.jtensor.nn.parallel;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.distributed.ProcessGroup;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Checks, at DDP construction, that every rank wraps the same model: the same parameter names, in the same order,
 * with the same shapes and dtypes. Each rank's list is written as text, gathered from every rank (two
 * {@code allGather}s: the lengths, then the padded texts, as F64 codes because every backend carries F64) and
 * compared with rank 0's, so every rank reports the same first difference.
 */
final class ParameterCheck {
    private ParameterCheck() {}

    /** One line per parameter: {@code name [shape] DTYPE}. */
    static String describe(List<String> names, List<long[]> shapes, List<DType> dtypes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            if (i > 0) sb.append('\n');
            sb.append(names.get(i)).append(' ').append(Arrays.toString(shapes.get(i))).append(' ').append(dtypes.get(i));
        }
        return sb.toString();
    }

    /** Throws, naming the first difference and the ranks, unless every rank's description equals rank 0's. */
    static void requireSameOnAllRanks(ProcessGroup group, String description, Device device) {
        if (group.size() == 1) return;
        byte[] bytes = description.getBytes(StandardCharsets.UTF_8);
        double[] len = gather(group, new double[] {bytes.length}, device);
        int max = 0;
        for (double l : len) max = Math.max(max, (int) l);
        if (max == 0) return; // no rank has parameters
        double[] codes = new double[max];
        for (int i = 0; i < bytes.length; i++) codes[i] = bytes[i] & 0xff;
        double[] all = gather(group, codes, device);
        String[] texts = new String[group.size()];
        for (int r = 0; r < texts.length; r++) {
            byte[] b = new byte[(int) len[r]];
            for (int i = 0; i < b.length; i++) b[i] = (byte) all[r * max + i];
            texts[r] = new String(b, StandardCharsets.UTF_8);
        }
        for (int r = 1; r < texts.length; r++) {
            if (!texts[r].equals(texts[0])) throw new IllegalArgumentException(firstDifference(texts[0], r, texts[r]));
        }
    }

    static String firstDifference(String rank0, int rank, String other) {
        String[] a = rank0.isEmpty() ? new String[0] : rank0.split("\n");
        String[] b = other.isEmpty() ? new String[0] : other.split("\n");
        int i = 0;
        while (i < a.length && i < b.length && a[i].equals(b[i])) i++;
        String prefix = "DistributedDataParallel: the ranks wrap different models; parameter " + i + ": ";
        String hint = " (every rank must build the same model, with the same parameters in the same order, before wrapping it)";
        if (i >= a.length) return prefix + "rank 0 has none, rank " + rank + " has " + b[i] + hint;
        if (i >= b.length) return prefix + "rank 0 has " + a[i] + ", rank " + rank + " has none" + hint;
        return prefix + "rank 0 has " + a[i] + ", rank " + rank + " has " + b[i] + hint;
    }

    private static double[] gather(ProcessGroup group, double[] mine, Device device) {
        try (NDArray host = NDArray.of(mine, mine.length); NDArray in = host.to(device);
             NDArray out = NDArray.zeros(DType.F64, device, group.size(), mine.length)) {
            group.allGather(out, in);
            return out.toDoubleArray();
        }
    }
}
