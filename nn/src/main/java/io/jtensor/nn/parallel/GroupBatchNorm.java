package io.jtensor.nn.parallel;

import io.jtensor.DType;
import io.jtensor.NDArray;
import io.jtensor.autograd.Recorder;
import io.jtensor.autograd.Tensor;
import io.jtensor.distributed.ProcessGroup;
import io.jtensor.nn.BatchNorm;
import io.jtensor.nn.Functional;
import java.util.Arrays;

/**
 * The math of {@link SyncBatchNorm}: batch norm over x [N, C, ...] with the statistics of every rank's x together.
 * <pre>
 *   n    = allReduce(local count per channel)              (not differentiated)
 *   mean = allReduce(sum of x over N and spatial dims) / n
 *   var  = allReduce(sum of (x - mean)^2) / n              (biased, as batch norm normalises)
 *   y    = (x - mean) / sqrt(var + eps) * weight + bias
 * </pre>
 * Two passes (mean first, then squared deviations) rather than sum and sum of squares in one collective, because
 * {@code E[x^2] - E[x]^2} loses the variance to cancellation when |mean| >> std in F32. The all-reduces are
 * differentiable ops: y_r = sum_s x_s on every rank, so the gradient reaching x_s is sum_r dL_r/dy_r, the
 * all-reduced sum of the incoming gradients; every rank's share of the graph gets its part of the whole-batch
 * gradient, which DDP's averaging then completes. The running statistics move towards the global mean and the
 * global unbiased variance, so they stay equal on every rank.
 */
final class GroupBatchNorm implements BatchNorm.Normalizer {
    private final ProcessGroup group;

    GroupBatchNorm(ProcessGroup group) { this.group = group; }

    @Override public Tensor apply(Tensor x, NDArray runningMean, NDArray runningVar, Tensor weight, Tensor bias, boolean training,
                                  double momentum, double eps) {
        boolean batchStats = training || runningMean == null;
        if (!batchStats || group.size() == 1) return Functional.batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
        if (x.dim() < 2) throw new IllegalArgumentException("SyncBatchNorm: expected input [N, C, ...], got " + Arrays.toString(x.shape()));
        long channels = x.size(1);
        int[] dims = new int[x.dim() - 1];
        for (int i = 0, j = 0; i < x.dim(); i++) if (i != 1) dims[j++] = i;
        long[] bshape = new long[x.dim()];
        Arrays.fill(bshape, 1);
        bshape[1] = channels;

        double n;
        try (NDArray count = NDArray.full(x.numel() / (double) channels, DType.F64, x.device(), 1)) {
            group.allReduce(count, ProcessGroup.ReduceOp.SUM);
            n = count.item();
        }
        if (training && n <= 1) {
            throw new IllegalArgumentException("SyncBatchNorm: expected more than 1 value per channel over the group when training, got input "
                    + Arrays.toString(x.shape()) + " on rank " + group.rank());
        }
        Tensor mean = allReduceSum(x.sum(dims, false)).div(n);
        Tensor centred = x.sub(mean.reshape(bshape));
        Tensor var = allReduceSum(centred.square().sum(dims, false)).div(n);
        Tensor invStd = var.add(eps).rsqrt();
        Tensor y = centred.mul(invStd.reshape(bshape));
        if (weight != null) y = y.mul(weight.reshape(bshape));
        if (bias != null) y = y.add(bias.reshape(bshape));
        if (training && runningMean != null) {
            // Running statistics are plain arrays: updating them must not join the graph.
            try (NDArray unbiased = var.data().mul(n / (n - 1)); NDArray m = mean.data().to(runningMean.dtype());
                 NDArray u = unbiased.to(runningVar.dtype())) {
                runningMean.mulInPlace(1 - momentum).addInPlace(m, momentum);
                runningVar.mulInPlace(1 - momentum).addInPlace(u, momentum);
            }
        }
        return y;
    }

    /** A differentiable all-reduce (sum): forward and backward both sum over the group. */
    private Tensor allReduceSum(Tensor t) {
        NDArray result = t.data().copy();
        try {
            group.allReduce(result, ProcessGroup.ReduceOp.SUM);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        return Recorder.record("allReduce", result, t, saved -> (gradOut, needs) -> {
            NDArray g = gradOut.copy();
            try {
                group.allReduce(g, ProcessGroup.ReduceOp.SUM);
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
            return new NDArray[] {g};
        });
    }
}
