package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import java.util.Arrays;

/**
 * Parameter initialisers, as PyTorch's {@code nn.init}: each fills a tensor's data in place (no graph is recorded)
 * from the given {@link Generator} and returns the tensor. Fans follow PyTorch: for a weight [out, in, k...] the
 * fan-in is in * prod(k) and the fan-out out * prod(k).
 */
public final class Init {
    private Init() {}

    /** Which fan scales a Kaiming init: fan-in keeps the forward variance, fan-out the backward one. */
    public enum FanMode { FAN_IN, FAN_OUT }

    /**
     * PyTorch's {@code calculate_gain}: linear, conv*, sigmoid -> 1; tanh -> 5/3; relu -> sqrt(2);
     * leaky_relu -> sqrt(2 / (1 + slope^2)) with {@code param} the negative slope; selu -> 3/4.
     */
    public static double gain(String nonlinearity, double param) {
        return switch (nonlinearity.toLowerCase()) {
            case "linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
                 "conv_transpose1d", "conv_transpose2d", "conv_transpose3d" -> 1.0;
            case "tanh" -> 5.0 / 3;
            case "relu" -> Math.sqrt(2.0);
            case "leaky_relu" -> Math.sqrt(2.0 / (1 + param * param));
            case "selu" -> 3.0 / 4;
            default -> throw new IllegalArgumentException("Init.gain: unknown nonlinearity '" + nonlinearity
                    + "' (expected linear, sigmoid, tanh, relu, leaky_relu, selu or conv*)");
        };
    }

    /** {fanIn, fanOut} of a weight of the given shape (at least 2 dims). */
    public static long[] fans(long[] shape) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("Init.fans: fan in and fan out need a tensor of at least 2 dims, got " + Arrays.toString(shape));
        }
        long receptive = 1;
        for (int i = 2; i < shape.length; i++) receptive *= shape[i];
        return new long[] {shape[1] * receptive, shape[0] * receptive};
    }

    public static Tensor uniform(Tensor t, double lo, double hi, Generator g) {
        if (!(lo <= hi)) throw new IllegalArgumentException("Init.uniform: expected lo <= hi, got " + lo + ", " + hi);
        return fill(t, NDArray.uniform(g, lo, hi, DType.F64, Device.cpu(), t.shape()));
    }

    public static Tensor normal(Tensor t, double mean, double std, Generator g) {
        if (!(std >= 0)) throw new IllegalArgumentException("Init.normal: expected std >= 0, got " + std);
        return fill(t, NDArray.normal(g, mean, std, DType.F64, Device.cpu(), t.shape()));
    }

    public static Tensor constant(Tensor t, double value) {
        t.data().fill(value);
        return t;
    }

    public static Tensor zeros(Tensor t) { return constant(t, 0); }
    public static Tensor ones(Tensor t) { return constant(t, 1); }

    /** Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fanIn + fanOut)). */
    public static Tensor xavierUniform(Tensor t, double gain, Generator g) {
        long[] f = fans(t.shape());
        double bound = gain * Math.sqrt(6.0 / (f[0] + f[1]));
        return uniform(t, -bound, bound, g);
    }

    /** Glorot normal: N(0, s^2) with s = gain * sqrt(2 / (fanIn + fanOut)). */
    public static Tensor xavierNormal(Tensor t, double gain, Generator g) {
        long[] f = fans(t.shape());
        return normal(t, 0, gain * Math.sqrt(2.0 / (f[0] + f[1])), g);
    }

    /**
     * He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = {@link #gain}(nonlinearity, a).
     * PyTorch's default for Linear and Conv weights is a = sqrt(5), fan-in, leaky_relu: b = 1 / sqrt(fanIn).
     */
    public static Tensor kaimingUniform(Tensor t, double a, FanMode mode, String nonlinearity, Generator g) {
        double std = gain(nonlinearity, a) / Math.sqrt(fan(t, mode));
        double bound = Math.sqrt(3.0) * std;
        return uniform(t, -bound, bound, g);
    }

    /** He normal: N(0, s^2) with s = gain / sqrt(fan). */
    public static Tensor kaimingNormal(Tensor t, double a, FanMode mode, String nonlinearity, Generator g) {
        return normal(t, 0, gain(nonlinearity, a) / Math.sqrt(fan(t, mode)), g);
    }

    private static long fan(Tensor t, FanMode mode) {
        long[] f = fans(t.shape());
        long fan = mode == FanMode.FAN_IN ? f[0] : f[1];
        if (fan == 0) throw new IllegalArgumentException("Init: zero " + mode + " for shape " + Arrays.toString(t.shape()));
        return fan;
    }

    /**
     * A (semi-)orthogonal matrix scaled by gain: the tensor viewed as [shape[0], rest] gets orthonormal rows (when
     * rows <= columns) or columns (otherwise), from the QR decomposition of a standard normal matrix with R's
     * diagonal made positive, as PyTorch does.
     */
    public static Tensor orthogonal(Tensor t, double gain, Generator g) {
        long[] shape = t.shape();
        if (shape.length < 2) throw new IllegalArgumentException("Init.orthogonal: expected at least 2 dims, got " + Arrays.toString(shape));
        int rows = Math.toIntExact(shape[0]);
        int cols = Math.toIntExact(t.numel() / Math.max(shape[0], 1));
        double[] a;
        try (NDArray r = NDArray.normal(g, 0, 1, DType.F64, Device.cpu(), rows, cols)) {
            a = r.toDoubleArray();
        }
        boolean tall = rows >= cols;
        int m = tall ? rows : cols, n = tall ? cols : rows;
        // Column j of the m x n matrix: a[i*cols+j] when tall, else the transpose a[j*cols+i].
        double[][] q = new double[n][m];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) q[j][i] = tall ? a[i * cols + j] : a[j * cols + i];
        }
        // Modified Gram-Schmidt: the Q of A = QR with R's diagonal positive (the norms it divides by).
        for (int j = 0; j < n; j++) {
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < m; i++) dot += q[k][i] * q[j][i];
                for (int i = 0; i < m; i++) q[j][i] -= dot * q[k][i];
            }
            double norm = 0;
            for (int i = 0; i < m; i++) norm += q[j][i] * q[j][i];
            norm = Math.sqrt(norm);
            if (norm == 0) throw new IllegalStateException("Init.orthogonal: a degenerate random matrix; try another seed");
            for (int i = 0; i < m; i++) q[j][i] /= norm;
        }
        double[] out = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) out[i * cols + j] = gain * (tall ? q[j][i] : q[i][j]);
        }
        return fill(t, NDArray.of(out, shape));
    }

    /** Copies host values (owned, closed here) into the tensor's data, casting and moving them. */
    private static Tensor fill(Tensor t, NDArray values) {
        try (values; NDArray moved = values.to(t.device())) {
            t.data().copyFrom(moved);
        }
        return t;
    }
}
