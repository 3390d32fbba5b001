package io.jtensor.nn;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;
import java.util.Arrays;
import java.util.List;

/**
 * PyTorch's pooling options that the backends' pooling primitives do not take, composed around them: {@code ceil_mode}
 * (the output size rounds up; a last window must still start inside the input or its left padding) and
 * {@code divisor_override} for average pooling. Formulas from PyTorch 1.13 (pooling_output_shape and the CPU
 * avg_pool2d kernel):
 * <pre>
 *   out = floor((H + 2p - d(k-1) - 1 + (ceil ? s-1 : 0)) / s) + 1;  if ceil and (out-1)s >= H + p: out -= 1
 *   avg divisor at (oh, ow): divisorOverride, else with hs = oh s - p, he = min(hs + k, H + p) (and w alike)
 *     countIncludePad: (he - hs)(we - ws), else the same after clipping hs, he to [0, H] (ws, we to [0, W])
 * </pre>
 * Ceil mode appends the rows and columns the last windows reach past the padded input (-inf for max, 0 for the
 * average's sum), so that the floor-mode primitive gives the ceil-mode size; gradients flow back through that
 * concatenation.
 */
final class PoolingModes {
    private PoolingModes() {}

    /** One dimension's output size. */
    static long outputSize(long in, int k, int s, int p, int d, boolean ceil) {
        long out = Math.floorDiv(in + 2L * p - (long) d * (k - 1) - 1 + (ceil ? s - 1 : 0), s) + 1;
        if (ceil && (out - 1) * s >= in + p) out--;
        return out;
    }

    /** Rows (or columns) to append so that floor mode over the padded input gives {@code out} windows. */
    private static long extra(long in, long out, int k, int s, int p, int d) {
        return Math.max(0, (out - 1) * s + (long) d * (k - 1) + 1 - (in + 2L * p));
    }

    static Tensor maxPool2d(Tensor x, int k, int s, int p, int d, boolean ceil) {
        ConvParams params = new ConvParams(s, s, p, p, d, d, 1);
        if (!ceil) return Tensor.maxPool2d(x, k, k, params);
        check("MaxPool2d", x);
        long h = x.size(-2), w = x.size(-1);
        long eh = extra(h, outputSize(h, k, s, p, d, true), k, s, p, d), ew = extra(w, outputSize(w, k, s, p, d, true), k, s, p, d);
        return Tensor.maxPool2d(appendAtEnd(x, eh, ew, Double.NEGATIVE_INFINITY), k, k, params);
    }

    /**
     * PyTorch's {@code return_indices}: for each output position, the index h * W + w (within its [H, W] plane of
     * the input) of the maximum, I64 of the output's shape; the same choice as {@link #maxPool2d}'s (one more
     * pass of the primitive, outside the graph).
     */
    static NDArray maxPool2dIndices(Tensor x, int k, int s, int p, int d, boolean ceil) {
        ConvParams params = new ConvParams(s, s, p, p, d, d, 1);
        if (!ceil) {
            NDArray.ValuesIndices vi = x.data().maxPool2d(k, k, params);
            vi.values().close();
            return vi.indices();
        }
        check("MaxPool2d", x);
        long h = x.size(-2), w = x.size(-1);
        long eh = extra(h, outputSize(h, k, s, p, d, true), k, s, p, d), ew = extra(w, outputSize(w, k, s, p, d, true), k, s, p, d);
        NDArray.ValuesIndices vi = appendAtEnd(x.detach(), eh, ew, Double.NEGATIVE_INFINITY).data().maxPool2d(k, k, params);
        vi.values().close();
        // Indices into the widened plane (W + ew columns) back into the input's: a maximum never lies in the appended -inf.
        try (NDArray wide = vi.indices()) {
            long[] idx = wide.toLongArray();
            for (int i = 0; i < idx.length; i++) idx[i] = idx[i] / (w + ew) * w + idx[i] % (w + ew);
            try (NDArray host = NDArray.of(idx, wide.shape())) {
                return host.to(x.device());
            }
        }
    }

    static Tensor avgPool2d(Tensor x, int k, int s, int p, boolean ceil, boolean countIncludePad, Integer divisorOverride) {
        if (!ceil && divisorOverride == null) return Tensor.avgPool2d(x, k, k, ConvParams.of(s, p), countIncludePad);
        check("AvgPool2d", x);
        long h = x.size(-2), w = x.size(-1);
        long oh = outputSize(h, k, s, p, 1, ceil), ow = outputSize(w, k, s, p, 1, ceil);
        // Window sums: zero padding on every side, the ceil-mode overhang appended, then an unpadded average times k^2.
        Tensor padded = appendAtEnd(prependAndAppend(x, p), extra(h, oh, k, s, p, 1), extra(w, ow, k, s, p, 1), 0);
        Tensor sums = Tensor.avgPool2d(padded, k, k, ConvParams.of(s, 0), true).mul((double) k * k);
        return sums.div(Tensor.wrap(divisors(h, w, oh, ow, k, s, p, countIncludePad, divisorOverride, x)));
    }

    /** The divisor of each output position [OH, OW], in x's dtype and on its device. */
    private static NDArray divisors(long h, long w, long oh, long ow, int k, int s, int p, boolean countIncludePad, Integer override, Tensor x) {
        double[] d = new double[Math.toIntExact(oh * ow)];
        for (long i = 0; i < oh; i++) {
            for (long j = 0; j < ow; j++) {
                long hs = i * s - p, ws = j * s - p, he = Math.min(hs + k, h + p), we = Math.min(ws + k, w + p);
                long size = (he - hs) * (we - ws);
                if (!countIncludePad) size = (Math.min(he, h) - Math.max(hs, 0)) * (Math.min(we, w) - Math.max(ws, 0));
                d[(int) (i * ow + j)] = override != null ? override : size;
            }
        }
        try (NDArray host = NDArray.of(d, oh, ow); NDArray typed = host.to(x.dtype())) {
            return typed.to(x.device());
        }
    }

    private static Tensor prependAndAppend(Tensor x, int p) {
        if (p == 0) return x;
        Tensor rows = Tensor.zeros(x.dtype(), x.device(), with(x.shape(), -2, p));
        Tensor y = Tensor.cat(List.of(rows, x, rows), -2);
        Tensor cols = Tensor.zeros(x.dtype(), x.device(), with(y.shape(), -1, p));
        return Tensor.cat(List.of(cols, y, cols), -1);
    }

    private static Tensor appendAtEnd(Tensor x, long rows, long cols, double fill) {
        Tensor y = x;
        if (rows > 0) y = Tensor.cat(List.of(y, Tensor.full(fill, x.dtype(), x.device(), with(y.shape(), -2, rows))), -2);
        if (cols > 0) y = Tensor.cat(List.of(y, Tensor.full(fill, x.dtype(), x.device(), with(y.shape(), -1, cols))), -1);
        return y;
    }

    private static long[] with(long[] shape, int dim, long size) {
        long[] r = shape.clone();
        r[r.length + dim] = size;
        return r;
    }

    private static void check(String op, Tensor x) {
        if (x.dim() != 4) throw new IllegalArgumentException(op + ": expected input [N, C, H, W], got " + Arrays.toString(x.shape()));
    }
}
