package io.jtensor.nn.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes one record per epoch: the epoch number (from 1) and the epoch's logs, as CSV (a header line, then values)
 * or JSON lines. Each record is flushed at once so that a crash loses nothing. A run resumed from a checkpoint appends
 * to the file; a fresh run replaces it.
 */
public final class MetricsLog implements Callback {
    public enum Format { CSV, JSON_LINES }

    private final Path file;
    private final Format format;
    private BufferedWriter writer;
    private List<String> columns;

    public MetricsLog(Path file, Format format) {
        this.file = file;
        this.format = format;
    }

    /** CSV unless the file name ends in .json or .jsonl. */
    public static MetricsLog forFile(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return new MetricsLog(file, n.endsWith(".jsonl") || n.endsWith(".json") ? Format.JSON_LINES : Format.CSV);
    }

    @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            boolean append = trainer.startEpoch() > 0 && Files.exists(file);
            if (append && format == Format.CSV) columns = readCsvHeader();
            writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog: cannot open " + file, e);
        }
    }

    private List<String> readCsvHeader() throws IOException {
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.findFirst().map(h -> List.of(h.split(",", -1))).orElse(null);
        }
    }

    @Override public void onEpochEnd(int epoch, Map<String, Double> logs) {
        try {
            if (format == Format.CSV) writeCsv(epoch, logs);
            else writeJson(epoch, logs);
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog: cannot write " + file, e);
        }
    }

    private void writeCsv(int epoch, Map<String, Double> logs) throws IOException {
        if (columns == null) {
            columns = new ArrayList<>();
            columns.add("epoch");
            columns.addAll(logs.keySet());
            writer.write(String.join(",", columns));
            writer.newLine();
        }
        List<String> cells = new ArrayList<>();
        for (String c : columns) {
            if (c.equals("epoch")) cells.add(String.valueOf(epoch + 1));
            else cells.add(number(logs.get(c)));
        }
        writer.write(String.join(",", cells));
        writer.newLine();
    }

    private void writeJson(int epoch, Map<String, Double> logs) throws IOException {
        StringBuilder sb = new StringBuilder("{\"epoch\":").append(epoch + 1);
        for (var e : logs.entrySet()) {
            sb.append(",\"").append(e.getKey().replace("\\", "\\\\").replace("\"", "\\\"")).append("\":");
            Double v = e.getValue();
            sb.append(v == null || !Double.isFinite(v) ? "null" : number(v));
        }
        writer.write(sb.append('}').toString());
        writer.newLine();
    }

    private static String number(Double v) {
        if (v == null) return "";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.valueOf(v.longValue());
        return String.valueOf(v);
    }

    @Override public void onTrainEnd(Map<String, Double> logs) {
        try {
            if (writer != null) writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException("MetricsLog: cannot close " + file, e);
        } finally {
            writer = null;
        }
    }
}
