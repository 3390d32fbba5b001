package io.jtensor.backend;

import io.jtensor.NDArray;

/**
 * {@link Backend#batchNorm} and {@link Backend#batchNormBackward} composed of a backend's reductions and elementwise
 * ops, for a backend without fused kernels for them (CUDA, for now). Statistics are computed in the stats dtype
 * (F32 for half-precision input).
 */
public final class ComposedBatchNorm {
    private ComposedBatchNorm() {}

    public static void forward(NDArray x, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray var) {
        long[] perChannel = perChannelShape(x);
        int[] dims = reducedDims(x);
        try (NDArray xs = x.to(mean.dtype()); NDArray m = xs.mean(dims, true); NDArray c = xs.sub(m);
             NDArray sq = c.square(); NDArray v = sq.mean(dims, true); NDArray ve = v.add(eps); NDArray rstd = ve.rsqrt();
             NDArray y = c.mul(rstd); NDArray yw = affine(y, weight, bias, perChannel)) {
            x.backend().copy(yw, out);
            try (NDArray mFlat = m.reshape(mean.shape()); NDArray vFlat = v.reshape(var.shape())) {
                x.backend().copy(mFlat, mean);
                x.backend().copy(vFlat, var);
            }
        }
    }

    public static void backward(NDArray gradOut, NDArray x, NDArray mean, NDArray var, NDArray weight, double eps,
                                NDArray gradX, NDArray gradWeight, NDArray gradBias) {
        long[] perChannel = perChannelShape(x);
        int[] dims = reducedDims(x);
        double count = x.numel() / Math.max(1, x.shape()[1]);
        try (NDArray g = gradOut.to(mean.dtype()); NDArray xs = x.to(mean.dtype());
             NDArray m = mean.reshape(perChannel); NDArray v = var.reshape(perChannel); NDArray ve = v.add(eps);
             NDArray rstd = ve.rsqrt(); NDArray c = xs.sub(m); NDArray xhat = c.mul(rstd);
             NDArray sumG = g.sum(dims, true); NDArray gXhat = g.mul(xhat); NDArray sumGX = gXhat.sum(dims, true)) {
            if (gradBias != null) copyPerChannel(sumG, gradBias);
            if (gradWeight != null) copyPerChannel(sumGX, gradWeight);
            if (gradX == null) return;
            try (NDArray meanG = sumG.div(count); NDArray meanGX = sumGX.div(count); NDArray t = xhat.mul(meanGX);
                 NDArray d1 = g.sub(meanG); NDArray d2 = d1.sub(t); NDArray scaled = d2.mul(rstd);
                 NDArray result = weight == null ? scaled.share() : scaledByWeight(scaled, weight, perChannel)) {
                x.backend().copy(result, gradX);
            }
        }
    }

    private static NDArray affine(NDArray y, NDArray weight, NDArray bias, long[] perChannel) {
        try (NDArray yw = weight == null ? y.share() : scaledByWeight(y, weight, perChannel)) {
            if (bias == null) return yw.share();
            try (NDArray b = bias.reshape(perChannel)) {
                return yw.add(b);
            }
        }
    }

    private static NDArray scaledByWeight(NDArray y, NDArray weight, long[] perChannel) {
        try (NDArray w = weight.reshape(perChannel)) {
            return y.mul(w);
        }
    }

    private static void copyPerChannel(NDArray keptDims, NDArray dst) {
        try (NDArray flat = keptDims.reshape(dst.shape())) {
            dst.backend().copy(flat, dst);
        }
    }

    /** [1, C, 1, ...]: the shape that broadcasts a per-channel value over x. */
    private static long[] perChannelShape(NDArray x) {
        long[] s = new long[x.dim()];
        java.util.Arrays.fill(s, 1);
        s[1] = x.shape()[1];
        return s;
    }

    private static int[] reducedDims(NDArray x) {
        int[] d = new int[x.dim() - 1];
        for (int i = 0, j = 0; i < x.dim(); i++) if (i != 1) d[j++] = i;
        return d;
    }
}
