package io.jtensor.backend;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.memory.Allocator;
import java.lang.foreign.MemorySegment;

/**
 * The primitive ops every device implements. The engine decides shapes, broadcasting and dtypes once, in Java,
 * and calls exactly one of these; nothing else branches on the device.
 *
 * <p>Conventions for every method: all arrays are on this backend's device and alive; inputs may have any strides
 * (zero strides for broadcast); {@code out} arrays are freshly allocated by the caller in the right shape and dtype
 * and are contiguous unless a method says otherwise. Inputs and outputs never overlap unless stated.
 */
public interface Backend {
    Allocator allocator();

    /** Copies a contiguous host buffer into a contiguous array. */
    void copyFromHost(MemorySegment src, NDArray dst);

    /** Copies a contiguous array into a host buffer. */
    void copyToHost(NDArray src, MemorySegment dst);

    /** dst[i] = cast(src[i]) for arrays of one shape; both may be strided (dst may be a non-overlapping view). */
    void copy(NDArray src, NDArray dst);

    /**
     * Copies src into dst where the two live on different devices of this backend (cpu:i to cpu:j, cuda:i to
     * cuda:j); host <-> device transfers are {@link #copyFromHost} and {@link #copyToHost}. Both arrays are
     * contiguous with one dtype and shape ({@link BackendContract#requireDeviceCopy}); dst is freshly allocated on its
     * device, by the calling thread (NDArray.to's output). The same device on both sides is allowed (a plain copy).
     *
     * <p>Ordering, for backends that queue work asynchronously (CUDA streams):
     * <ul>
     *   <li>the copy reads src after everything queued so far on src's device through the calling thread's current
     *       stream there (the work that wrote src);</li>
     *   <li>work queued afterwards through the calling thread's current stream on dst's device sees the copied
     *       values, without the caller synchronising anything;</li>
     *   <li>src may be closed as soon as this returns: its memory is not handed out again before the copy has read
     *       it, as long as it is freed through the device's current stream of the calling thread (the allocator's
     *       rule for every array);</li>
     *   <li>the host need not wait for the copy; it may return while the copy is still queued.</li>
     * </ul>
     */
    void copyBetweenDevices(NDArray src, NDArray dst);

    /** Every element of dst (possibly strided) set to value, cast to dst's dtype. */
    void fill(NDArray dst, double value);

    /** out = op(x) elementwise; x and out have one shape; out's dtype may differ (ISNAN writes BOOL). */
    void unary(UnaryOp op, NDArray x, NDArray out, double p1, double p2);

    /** out = a op b elementwise; a and b are already broadcast to out's shape and cast to one dtype. */
    void binary(BinaryOp op, NDArray a, NDArray b, NDArray out);

    /** out = cond ? a : b; all three broadcast to out's shape; a, b, out share a dtype. */
    void where(NDArray cond, NDArray a, NDArray b, NDArray out);

    /**
     * Reduces x over {@code dims} (sorted, distinct). {@code out} has x's rank with the reduced dims of size 1.
     * For MAX/MIN {@code indices} (I64, out's shape) receives the flat index over the reduced dims, or is null.
     * For ARGMAX/ARGMIN out itself is I64.
     */
    void reduce(ReduceOp op, NDArray x, int[] dims, NDArray out, NDArray indices);

    /** out[b] = a[b] @ bm[b]: a is [B,M,K], bm is [B,K,N] (any strides), out is [B,M,N] contiguous. */
    void matmul(NDArray a, NDArray bm, NDArray out);

    /** x [N,C,H,W], w [O,C/groups,KH,KW] -> out [N,O,OH,OW]. */
    void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p);

    /** Gradient of conv2d with respect to its input: gradOut [N,O,OH,OW], w -> gradIn [N,C,H,W]. */
    void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p);

    /** Gradient of conv2d with respect to its weight: x, gradOut -> gradW [O,C/groups,KH,KW]. */
    void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p);

    /** Max pooling of x [N,C,H,W] into out; indices (I64, out's shape) receives h*W+w of each maximum. */
    void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices);

    /** gradIn (zeroed by the callee) += gradOut scattered to the recorded indices. */
    void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn);

    /** Average pooling; padding counts in the divisor when countIncludePad. */
    void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out);

    void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn);

    /** Softmax (or log-softmax) of x along dim into out. */
    void softmax(NDArray x, int dim, boolean log, NDArray out);

    /** Gradient of softmax/log-softmax given its output y and the incoming gradient gy. */
    void softmaxBackward(NDArray y, NDArray gy, int dim, boolean log, NDArray gx);

    /**
     * Layer normalisation of each row of x: x is contiguous and every run of {@code normalizedSize} elements is a
     * row; out (x's shape and dtype) = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(biased variance + eps).
     * weight and bias are contiguous [normalizedSize] arrays of x's dtype, or null (ones, zeros). mean and rstd
     * ([rows], F64 when x is F64, else F32) receive each row's statistics for the backward.
     */
    void layerNorm(NDArray x, int normalizedSize, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray rstd);

    /**
     * Gradient of {@link #layerNorm} given the saved mean and rstd: gradOut and x contiguous, of x's shape;
     * gradX (x's shape and dtype) = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gradOut * weight and
     * xhat = (x - mean) * rstd; gradWeight = sum over rows of gradOut * xhat, gradBias = sum over rows of gradOut
     * ([normalizedSize], x's dtype, overwritten). Any of gradX, gradWeight, gradBias may be null (not needed);
     * weight may be null (ones).
     */
    void layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight,
                           NDArray gradX, NDArray gradWeight, NDArray gradBias);

    /**
     * Batch normalisation in training mode, per channel (dim 1) of a contiguous x [N, C, ...] of a floating dtype:
     * mean and var ([C], F64 when x is F64, else F32) receive each channel's batch mean and biased variance over
     * the N and spatial positions, and out (x's shape and dtype) = (x - mean) / sqrt(var + eps) * weight + bias.
     * weight and bias are contiguous [C] arrays of x's dtype, or null (ones, zeros).
     */
    void batchNorm(NDArray x, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray var);

    /**
     * Gradient of {@link #batchNorm} given its saved mean and var: gradOut and x contiguous, of x's shape. With
     * xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps) and M = the elements per channel: gradBias = sum of
     * gradOut per channel, gradWeight = sum of gradOut * xhat, gradX = weight * rstd * (gradOut - gradBias / M -
     * xhat * gradWeight / M). Any of gradX (x's shape and dtype), gradWeight and gradBias ([C], x's dtype) may be null
     * (not needed); weight may be null (ones).
     */
    void batchNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray var, NDArray weight, double eps,
                           NDArray gradX, NDArray gradWeight, NDArray gradBias);

    /**
     * Cross-entropy per position of logits [N, C, ...] (contiguous, floating; classes along dim 1) against class
     * indices targets (I64, contiguous, [N, ...]): with lse = log(sum_c exp(logits[c])) and e = smoothing,
     * loss = lse - (1 - e) logits[target] - (e / C) sum_c logits[c] (= -(1 - e) lp[target] - e mean_c lp[c], lp the
     * log-softmax) where target != ignoreIndex, and 0 where it is. A NaN or a +inf among a position's logits makes
     * its loss NaN, as in PyTorch. loss is [N, ...] of the logits' dtype; lse ([N, ...], F64 for F64 logits, else
     * F32) receives each position's log-sum-exp for {@link #crossEntropyBackward}. A target outside [0, C) that is
     * not ignoreIndex throws {@link BackendContract#badClassIndex}.
     */
    void crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double smoothing, NDArray loss, NDArray lse);

    /**
     * Gradient of {@link #crossEntropy}: gradLogits (the logits' shape and dtype) = gradLoss[pos] * (exp(logits -
     * lse[pos]) - (1 - e) [c == target] - e / C) where target != ignoreIndex, 0 where it is. gradLoss is contiguous
     * [N, ...] of the logits' dtype; lse is the forward's.
     */
    void crossEntropyBackward(NDArray logits, NDArray targets, NDArray lse, NDArray gradLoss, long ignoreIndex, double smoothing,
                              NDArray gradLogits);

    /** out = x gathered along dim at index (I64, out's shape). */
    void gather(NDArray x, int dim, NDArray index, NDArray out);

    /** out (contiguous, already holding values) [index[i]] along dim += src[i]. */
    void scatterAdd(NDArray out, int dim, NDArray index, NDArray src);

    /** out = x.indexSelect(dim, index) with index a 1-D I64 array. */
    void indexSelect(NDArray x, int dim, NDArray index, NDArray out);

    /**
     * Fills out (contiguous, floating) from the Philox 4x32-10 stream for (seed, offset): element i uses counter
     * (offset + i/4) and lane i%4. UNIFORM gives [lo, hi); NORMAL gives mean lo, std hi by Box-Muller.
     */
    void random(RandomKind kind, long seed, long offset, double lo, double hi, NDArray out);

    /** Frees what this backend caches: the CUDA allocator's free blocks, the CPU allocator's cached large blocks. */
    default void emptyCache() {}

    /** Waits for all work queued on this backend's devices. */
    default void synchronize() {}

    enum RandomKind { UNIFORM, NORMAL }
}
