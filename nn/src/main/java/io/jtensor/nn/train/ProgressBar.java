package io.jtensor.nn.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Shows training progress: epoch, a bar, running loss and accuracy, samples per second and the time left in the
 * epoch. On a terminal ({@link #stdoutIsTerminal()}) one line is redrawn in place with {@code \r} at most ten
 * times a second; otherwise (a log file, a pipe, CI) a line is printed each time another {@code everyPercent}% of
 * the epoch is done, so that logs stay readable. Each epoch ends with a summary line including validation metrics.
 */
public final class ProgressBar implements Callback {
    private static final int LINE_WIDTH = 79;
    private static final int MIN_BAR = 10;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean interactive;
    private final int everyPercent;
    private Trainer trainer;
    private int epoch;
    private long epochStart;
    private long lastDraw;
    private int lastPercentPrinted;
    private int lastLineLength;

    /** To System.out, redrawing in place when it is a terminal, else a line every 10%. */
    public ProgressBar() { this(System.out, stdoutIsTerminal(), 10); }

    /**
     * Whether standard output is a terminal: a console exists and (on JDKs whose console may also stand for
     * redirected streams) says it is one.
     */
    public static boolean stdoutIsTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    public ProgressBar(PrintStream out, boolean interactive, int everyPercent) {
        if (everyPercent < 1 || everyPercent > 100) throw new IllegalArgumentException("ProgressBar: expected everyPercent in [1, 100], got " + everyPercent);
        this.out = out;
        this.interactive = interactive;
        this.everyPercent = everyPercent;
    }

    @Override public void onTrainBegin(Trainer trainer, Map<String, Double> logs) { this.trainer = trainer; }

    @Override public void onEpochBegin(int epoch, Map<String, Double> logs) {
        this.epoch = epoch;
        epochStart = System.nanoTime();
        lastDraw = 0;
        lastPercentPrinted = 0;
        lastLineLength = 0;
    }

    @Override public void onBatchEnd(int batch, Map<String, Double> logs) {
        int steps = trainer.stepsPerEpoch();
        int done = batch + 1;
        if (interactive) {
            long now = System.nanoTime();
            if (now - lastDraw < REDRAW_NANOS && done != steps) return;
            lastDraw = now;
            String line = progressLine(done, steps, logs);
            // Pad with spaces so that a shorter line fully covers the previous one.
            String pad = line.length() < lastLineLength ? " ".repeat(lastLineLength - line.length()) : "";
            out.print("\r" + line + pad);
            out.flush();
            lastLineLength = line.length();
        } else if (steps > 0) {
            int percent = (int) (100L * done / steps);
            if (percent >= lastPercentPrinted + everyPercent && done != steps) {
                lastPercentPrinted = percent - percent % everyPercent;
                out.println(progressLine(done, steps, logs));
            }
        }
    }

    @Override public void onEpochEnd(int epoch, Map<String, Double> logs) {
        double secs = (System.nanoTime() - epochStart) / 1e9;
        StringBuilder sb = new StringBuilder(header());
        sb.append(String.format(Locale.ROOT, " %s", formatDuration(secs)));
        appendMetric(sb, "loss", logs.get(Logs.LOSS), 4);
        appendMetric(sb, "acc", logs.get(Logs.ACCURACY), 4);
        appendMetric(sb, "val_loss", logs.get(Logs.VAL_LOSS), 4);
        appendMetric(sb, "val_acc", logs.get(Logs.VAL_ACCURACY), 4);
        Double sps = logs.get(Logs.SAMPLES_PER_SEC);
        if (sps != null) sb.append(String.format(Locale.ROOT, " %.0f samples/s", sps));
        Double lr = logs.get(Logs.LR);
        if (lr != null) sb.append(String.format(Locale.ROOT, " lr %.3g", lr));
        String line = sb.toString();
        if (interactive) {
            String pad = line.length() < lastLineLength ? " ".repeat(lastLineLength - line.length()) : "";
            out.print("\r" + line + pad + "\n");
        } else {
            out.println(line);
        }
        out.flush();
    }

    private String header() {
        int total = trainer.epochs();
        int w = String.valueOf(total).length();
        return String.format(Locale.ROOT, "epoch %" + w + "d/%d", epoch + 1, total);
    }

    /**
     * e.g. {@code epoch 3/10 [===>       ] 312/938 loss 0.4321 acc 0.8512 5321 samples/s ETA 0:07}; the bar takes what
     * is left of {@value #LINE_WIDTH} columns (at least {@value #MIN_BAR} ticks), so that a redrawn line does not wrap.
     */
    String progressLine(int done, int steps, Map<String, Double> logs) {
        StringBuilder tail = new StringBuilder();
        if (steps > 0) {
            int w = String.valueOf(steps).length();
            tail.append(String.format(Locale.ROOT, "%" + w + "d/%d", done, steps));
        } else {
            tail.append(done).append(" batches");
        }
        appendMetric(tail, "loss", logs.get(Logs.LOSS), 4);
        appendMetric(tail, "acc", logs.get(Logs.ACCURACY), 4);
        Double sps = logs.get(Logs.SAMPLES_PER_SEC);
        if (sps != null) tail.append(String.format(Locale.ROOT, " %.0f samples/s", sps));
        if (steps > 0 && done > 0) {
            double elapsed = (System.nanoTime() - epochStart) / 1e9;
            double eta = elapsed / done * (steps - done);
            tail.append(" ETA ").append(formatDuration(eta));
        }
        StringBuilder sb = new StringBuilder(header()).append(' ');
        if (steps > 0) {
            int width = Math.max(MIN_BAR, LINE_WIDTH - sb.length() - tail.length() - 3);
            int filled = (int) ((long) width * done / steps);
            sb.append('[');
            for (int i = 0; i < width; i++) sb.append(i < filled ? '=' : i == filled ? '>' : ' ');
            sb.append("] ");
        }
        return sb.append(tail).toString();
    }

    private static void appendMetric(StringBuilder sb, String name, Double v, int digits) {
        if (v == null) return;
        sb.append(' ').append(name).append(' ').append(String.format(Locale.ROOT, "%." + digits + "f", v));
    }

    /** m:ss, or h:mm:ss from an hour on. */
    public static String formatDuration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec) : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}
