package io.jtensor.backend.cpu;

import io.jtensor.backend.BackendContract;

/**
 * Cross-entropy per position and its gradient (Backend.crossEntropy / crossEntropyBackward), fused: per position
 * one pass for the max (and the sum of the logits, for label smoothing), one for the sum of exponentials, and on
 * the way back one writing pass, all in double through a buffer of the position's C logits. Scalar Math.exp keeps
 * the results independent of what the JIT compiled (a vector EXP is intrinsified differently from its fallback),
 * so seeded training stays bit-reproducible. logits are contiguous [N, C, inner] (inner = positions per image, 1
 * for [N, C]); position p = n * inner + s has its C logits inner apart.
 */
final class CpuCrossEntropy {
    private CpuCrossEntropy() {}

    /** logits [N, C, inner] as positions of C logits each. */
    private record Layout(long n, int classes, long inner) {
        static Layout of(Operand logits) {
            long[] s = logits.shape();
            long inner = 1;
            for (int d = 2; d < s.length; d++) inner *= s[d];
            return new Layout(s[0], Math.toIntExact(s[1]), inner);
        }

        long positions() { return n * inner; }

        /** Offset (in elements, from the start) of position p's first logit. */
        long first(long p) { return (p / inner) * classes * inner + p % inner; }
    }

    static void forward(Operand logits, Operand targets, long ignoreIndex, double smoothing, Operand loss, Operand lse) {
        Layout l = Layout.of(logits);
        int c = l.classes;
        requireClassIndices(l, targets, ignoreIndex);
        Parallel.forRange(l.positions(), 8L * Math.max(1, c), (start, end) -> {
            double[] x = new double[c];
            for (long p = start; p < end; p++) {
                ElementIO.load(logits.dtype(), logits.seg(), logits.offset() + l.first(p), l.inner, x, c);
                double max = Double.NEGATIVE_INFINITY, sumX = 0;
                for (int k = 0; k < c; k++) {
                    max = Math.max(max, x[k]);  // NaN-propagating
                    sumX += x[k];
                }
                double sumExp = 0;
                for (int k = 0; k < c; k++) sumExp += Math.exp(x[k] - max);
                // a NaN or +inf makes this NaN (exp(inf - inf)), as log_softmax does in PyTorch
                double logSumExp = max + Math.log(sumExp);
                long t = ElementIO.getLong(targets.dtype(), targets.seg(), targets.offset() + p);
                double value = 0;
                // without smoothing the sum of the logits plays no part (a -inf logit would make 0 * sumX NaN)
                if (t != ignoreIndex) value = logSumExp - (1 - smoothing) * x[(int) t] - (smoothing > 0 ? smoothing / c * sumX : 0);
                ElementIO.setDouble(loss.dtype(), loss.seg(), loss.offset() + p, value);
                ElementIO.setDouble(lse.dtype(), lse.seg(), lse.offset() + p, logSumExp);
            }
        });
    }

    /**
     * Every target is a class in [0, C) or ignoreIndex; checked first and in order, so that the error names the first
     * bad target whatever the threads do. The backward checks too: a bad target there would index past the row.
     */
    private static void requireClassIndices(Layout l, Operand targets, long ignoreIndex) {
        for (long p = 0; p < l.positions(); p++) {
            long t = ElementIO.getLong(targets.dtype(), targets.seg(), targets.offset() + p);
            if (t != ignoreIndex && (t < 0 || t >= l.classes)) throw BackendContract.badClassIndex(t, l.classes, ignoreIndex);
        }
    }

    static void backward(Operand logits, Operand targets, Operand lse, Operand gradLoss, long ignoreIndex, double smoothing, Operand gradLogits) {
        Layout l = Layout.of(logits);
        int c = l.classes;
        requireClassIndices(l, targets, ignoreIndex);
        double uniform = smoothing / c;
        Parallel.forRange(l.positions(), 8L * Math.max(1, c), (start, end) -> {
            double[] x = new double[c];
            for (long p = start; p < end; p++) {
                long at = l.first(p);
                ElementIO.load(logits.dtype(), logits.seg(), logits.offset() + at, l.inner, x, c);
                long t = ElementIO.getLong(targets.dtype(), targets.seg(), targets.offset() + p);
                double g = t == ignoreIndex ? 0 : ElementIO.getDouble(gradLoss.dtype(), gradLoss.seg(), gradLoss.offset() + p);
                double logSumExp = ElementIO.getDouble(lse.dtype(), lse.seg(), lse.offset() + p);
                for (int k = 0; k < c; k++) x[k] = g * (Math.exp(x[k] - logSumExp) - uniform - (k == t ? 1 - smoothing : 0));
                ElementIO.store(gradLogits.dtype(), gradLogits.seg(), gradLogits.offset() + at, l.inner, x, c);
            }
        });
    }
}
