package io.jtensor.bench;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.Backends;
import io.jtensor.memory.MemoryScope;
import io.jtensor.memory.MemoryStats;
import io.jtensor.nn.Loss;
import io.jtensor.nn.Module;
import io.jtensor.nn.Reduction;
import io.jtensor.nn.models.BertConfig;
import io.jtensor.nn.models.BertMaskedLm;
import io.jtensor.nn.optim.Adam;
import io.jtensor.nn.parallel.DataParallel;
import io.jtensor.nn.parallel.DataParallelCriterion;
import io.jtensor.nn.parallel.DataParallelModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The published DataParallel memory imbalance, reproduced: a BERT-style encoder (hidden 256, 8 layers, 8 heads,
 * feed-forward 1024) with a masked-LM head over a 30,522-token vocabulary, sequences of 128, Adam, trained for a
 * few steps on 4 logical devices in four ways: the module on one device; DataParallel with the output gathered on
 * device 0; the same gathered on the last device ({@code outputDevice}); DataParallelModel + DataParallelCriterion
 * (the loss on every device, only scalars travel). For each it reports every device's peak bytes over the timed
 * steps (after a first step has made Adam's state) and the median step time, prints a Markdown table, and writes an
 * SVG bar chart of the peaks.
 *
 * <pre>java ... io.jtensor.bench.DataParallelMemory [cpu|cuda] [batch, default 32] [timed steps, default 2] [svg path]</pre>
 * {@code cuda} needs {@code -Djtensor.cuda.logicalDevices=4} (four logical devices on one GPU).
 */
public final class DataParallelMemory {
    static final int VOCAB = 30522, SEQ = 128, DEVICES = 4;

    enum Mode {
        SINGLE("one device", "module on cpu:0 / cuda:0"), GATHER_FIRST("DataParallel", "DataParallel|output on device 0"),
        GATHER_LAST("DataParallel, output on the last device", "DataParallel|output on device 3"),
        PARALLEL_CRITERION("DataParallelModel + DataParallelCriterion", "DataParallelModel|+ DataParallelCriterion");

        final String label;
        /** The chart's caption, lines split at '|'. */
        final String[] caption;

        Mode(String label, String caption) {
            this.label = label;
            this.caption = caption.split("\\|");
        }
    }

    /** Mean cross-entropy over the masked positions (targets -100 elsewhere), as BERT's pre-training loss. */
    static final class MaskedLmLoss extends Loss {
        MaskedLmLoss() { super(Reduction.MEAN); }

        @Override public Tensor forward(Tensor logits, Tensor targets) {
            return logits.reshape(-1, logits.size(-1)).crossEntropy(targets.reshape(-1), -100, 0);
        }
    }

    record Result(Mode mode, long[] peak, double medianSeconds) {}

    public static void main(String[] args) throws IOException {
        boolean cuda = args.length > 0 && args[0].equals("cuda");
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Path svg = Path.of(args.length > 3 ? args[3] : "bench/dataparallel-memory.svg");
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < DEVICES; i++) devices.add(cuda ? Device.cuda(i) : Device.cpu(i));

        List<Result> results = new ArrayList<>();
        long params = 0;
        for (Mode mode : Mode.values()) {
            Generator.manualSeed(1);
            BertMaskedLm model = new BertMaskedLm(new BertConfig(VOCAB, 0, 256, 8, 8, 1024, SEQ, 0.1, 1), new Generator(2));
            params = model.parameterCount();
            model.to(devices.get(0));
            results.add(run(mode, model, devices, batch, steps));
            for (Tensor p : model.parameters()) p.close();
            model.namedBuffers().values().forEach(NDArray::close);
            System.gc();
        }
        print(results, devices, batch, steps, params);
        Files.writeString(svg, svg(results, devices, batch));
        System.out.println("\nchart: " + svg);
    }

    static Result run(Mode mode, BertMaskedLm model, List<Device> devices, int batch, int steps) {
        Device first = devices.get(0), last = devices.get(devices.size() - 1);
        Module forward = switch (mode) {
            case SINGLE -> model;
            case GATHER_FIRST -> new DataParallel(model, devices);
            case GATHER_LAST -> new DataParallel(model, devices, last);
            case PARALLEL_CRITERION -> new DataParallelModel(model, devices);
        };
        MaskedLmLoss loss = new MaskedLmLoss();
        DataParallelCriterion criterion = new DataParallelCriterion(loss, devices);
        double[] seconds = new double[steps];
        long[] peak = new long[devices.size()];
        try (Adam opt = new Adam(model.parameters(), 1e-4)) {
            for (int s = -1; s < steps; s++) {
                if (s == 0) for (Device d : devices) stats(d).resetPeak(); // Adam's state exists after the first step
                long start = System.nanoTime();
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor ids = tokens(10 + s, batch, first, false), targets = tokens(20 + s, batch, first, true);
                    Tensor l = switch (mode) {
                        case SINGLE, GATHER_FIRST -> loss.forward(forward.forward(ids), targets);
                        case GATHER_LAST -> loss.forward(forward.forward(ids), targets.to(last));
                        case PARALLEL_CRITERION -> criterion.forward(((DataParallelModel) forward).forwardAll(ids), targets);
                    };
                    opt.zeroGrad();
                    l.backward();
                    opt.step();
                    l.item();
                }
                if (s >= 0) seconds[s] = (System.nanoTime() - start) / 1e9;
            }
            for (int i = 0; i < devices.size(); i++) peak[i] = stats(devices.get(i)).peak();
        }
        Arrays.sort(seconds);
        double median = steps % 2 == 1 ? seconds[steps / 2] : (seconds[steps / 2 - 1] + seconds[steps / 2]) / 2;
        System.err.printf(Locale.ROOT, "%s: peaks %s MiB, %.2f s/step%n", mode.label, Arrays.toString(mib(peak)), median);
        return new Result(mode, peak, median);
    }

    /** Random token ids [B, T]; as targets, -100 (ignored) except at 15% of the positions. */
    static Tensor tokens(long seed, int batch, Device d, boolean targets) {
        java.util.Random r = new java.util.Random(seed);
        long[] v = new long[batch * SEQ];
        for (int i = 0; i < v.length; i++) v[i] = targets && r.nextDouble() >= 0.15 ? -100 : r.nextInt(VOCAB);
        try (NDArray a = NDArray.of(v, batch, SEQ)) {
            return Tensor.wrap(a.to(d));
        }
    }

    static MemoryStats stats(Device d) { return Backends.of(d).allocator().stats(d); }

    static long[] mib(long[] bytes) {
        long[] out = new long[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = Math.round(bytes[i] / 1048576.0);
        return out;
    }

    static void print(List<Result> results, List<Device> devices, int batch, int steps, long params) {
        System.out.printf(Locale.ROOT, "BERT-style masked LM (vocab %d, seq %d, hidden 256, 8 layers, 8 heads), Adam, batch %d, %d timed steps%n",
                VOCAB, SEQ, batch, steps);
        StringBuilder head = new StringBuilder("| mode |");
        for (Device d : devices) head.append(" peak ").append(d).append(" |");
        System.out.println(head + " max / min | step |");
        System.out.println("| --- |" + " --- |".repeat(devices.size()) + " --- | --- |");
        for (Result r : results) {
            StringBuilder row = new StringBuilder("| ").append(r.mode().label).append(" |");
            long max = 0, min = Long.MAX_VALUE;
            for (long p : r.peak()) {
                row.append(String.format(Locale.ROOT, " %d MiB |", Math.round(p / 1048576.0)));
                max = Math.max(max, p);
                min = Math.min(min, p);
            }
            String ratio = r.mode() == Mode.SINGLE ? "—" : String.format(Locale.ROOT, "%.2fx", max / (double) min);
            System.out.println(row + String.format(Locale.ROOT, " %s | %.2f s |", ratio, r.medianSeconds()));
        }
        double p = params * 4 / 1048576.0;
        System.out.printf(Locale.ROOT, "%nparameters: %d (%.0f MiB in F32); on device 0 only: Adam's two moments %.0f MiB, the summed gradients %.0f MiB%n",
                params, p, 2 * p, p);
    }

    /** A grouped bar chart: one group per mode, one bar per device, heights in MiB. */
    static String svg(List<Result> results, List<Device> devices, int batch) {
        int w = 760, h = 380, left = 70, right = 20, top = 50, bottom = 90;
        long max = 1;
        for (Result r : results) for (long p : r.peak()) max = Math.max(max, p);
        double maxMib = Math.ceil(max / 1048576.0 / 500) * 500;
        String[] colors = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n", w, h));
        s.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", w, h));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"14\" font-weight=\"bold\">Peak memory per device, BERT-style masked LM, batch %d over %d logical %s devices</text>%n",
                left, batch, devices.size(), devices.get(0).isCuda() ? "CUDA" : "CPU"));
        double plotH = h - top - bottom, plotW = w - left - right;
        for (int t = 0; t <= 5; t++) {
            double v = maxMib * t / 5, y = top + plotH - plotH * t / 5;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", left, w - right, y, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f MiB</text>%n", left - 6, y + 4, v));
        }
        double groupW = plotW / results.size(), barW = groupW * 0.8 / devices.size();
        for (int g = 0; g < results.size(); g++) {
            Result r = results.get(g);
            double x0 = left + g * groupW + groupW * 0.1;
            for (int i = 0; i < devices.size(); i++) {
                double mibV = r.peak()[i] / 1048576.0, bh = plotH * mibV / maxMib;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s, %s: %.0f MiB</title></rect>%n",
                        x0 + i * barW, top + plotH - bh, barW - 2, bh, colors[i % colors.length], r.mode().label, devices.get(i), mibV));
            }
            String[] lines = r.mode().caption;
            for (int k = 0; k < lines.length; k++) {
                s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n", x0 + groupW * 0.4,
                        top + plotH + 18 + 14 * k, lines[k]));
            }
        }
        for (int i = 0; i < devices.size(); i++) {
            double x = left + i * 110;
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">%s</text>%n",
                    x, h - 22, colors[i % colors.length], x + 16, h - 12, devices.get(i)));
        }
        return s.append("</svg>\n").toString();
    }
}
