package io.jtensor.backend.cpu;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.Backend;
import io.jtensor.backend.BackendContract;
import io.jtensor.backend.BinaryOp;
import io.jtensor.backend.ConvParams;
import io.jtensor.backend.ReduceOp;
import io.jtensor.backend.UnaryOp;
import io.jtensor.memory.Allocator;
import java.lang.foreign.MemorySegment;

/**
 * The CPU backend: host memory from libc, kernels in Java over FFM memory segments, SIMD through the Vector API
 * for contiguous F32, and a small shared pool for large work. Every logical CPU device (cpu:0..N) shares these
 * kernels and keeps its own memory accounting. This class only adapts arrays to the kernels' {@link Operand}s.
 */
public final class CpuBackend implements Backend {
    private final CpuAllocator allocator = new CpuAllocator();

    @Override public Allocator allocator() { return allocator; }

    /** Returns the allocator's cached large blocks to libc. */
    @Override public void emptyCache() { allocator.emptyCache(); }

    @Override public void copyFromHost(MemorySegment src, NDArray dst) { CpuCopy.copyFromHost(src, Operand.of(dst)); }

    @Override public void copyToHost(NDArray src, MemorySegment dst) { CpuCopy.copyToHost(Operand.of(src), dst); }

    @Override public void copy(NDArray src, NDArray dst) { CpuCopy.copy(Operand.of(src), Operand.of(dst)); }

    /** Logical CPU devices share host memory: a plain copy, done when this returns. */
    @Override public void copyBetweenDevices(NDArray src, NDArray dst) {
        BackendContract.requireDeviceCopy(Device.Type.CPU, src, dst);
        CpuCopy.copy(Operand.of(src), Operand.of(dst));
    }

    @Override public void fill(NDArray dst, double value) { CpuCopy.fill(Operand.of(dst), value); }

    @Override public void unary(UnaryOp op, NDArray x, NDArray out, double p1, double p2) {
        CpuElementwise.unary(op, Operand.of(x), Operand.of(out), p1, p2);
    }

    @Override public void binary(BinaryOp op, NDArray a, NDArray b, NDArray out) {
        CpuElementwise.binary(op, Operand.of(a), Operand.of(b), Operand.of(out));
    }

    @Override public void where(NDArray cond, NDArray a, NDArray b, NDArray out) {
        CpuElementwise.where(Operand.of(cond), Operand.of(a), Operand.of(b), Operand.of(out));
    }

    @Override public void reduce(ReduceOp op, NDArray x, int[] dims, NDArray out, NDArray indices) {
        CpuReduce.reduce(op, Operand.of(x), dims, Operand.of(out), indices == null ? null : Operand.of(indices));
    }

    @Override public void matmul(NDArray a, NDArray bm, NDArray out) { CpuGemm.matmul(a, bm, out); }

    @Override public void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p) { CpuConv.conv2d(x, w, out, p); }

    @Override public void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p) {
        CpuConv.conv2dBackwardInput(gradOut, w, gradIn, p);
    }

    @Override public void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p) {
        CpuConv.conv2dBackwardWeight(x, gradOut, gradW, p);
    }

    @Override public void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices) {
        CpuConv.maxPool2d(x, kH, kW, p, out, indices);
    }

    @Override public void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn) {
        CpuConv.maxPool2dBackward(gradOut, indices, gradIn);
    }

    @Override public void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out) {
        CpuConv.avgPool2d(x, kH, kW, p, countIncludePad, out);
    }

    @Override public void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn) {
        CpuConv.avgPool2dBackward(gradOut, kH, kW, p, countIncludePad, gradIn);
    }

    @Override public void softmax(NDArray x, int dim, boolean log, NDArray out) {
        CpuSoftmax.softmax(Operand.of(x), dim, log, Operand.of(out), bytes -> allocator.scratch(x.device(), bytes));
    }

    @Override public void softmaxBackward(NDArray y, NDArray gy, int dim, boolean log, NDArray gx) {
        CpuSoftmax.softmaxBackward(Operand.of(y), Operand.of(gy), dim, log, Operand.of(gx));
    }

    @Override public void layerNorm(NDArray x, int normalizedSize, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray rstd) {
        CpuNorm.forward(Operand.of(x), normalizedSize, weight == null ? null : Operand.of(weight), bias == null ? null : Operand.of(bias), eps,
                Operand.of(out), Operand.of(mean), Operand.of(rstd));
    }

    @Override public void batchNorm(NDArray x, NDArray weight, NDArray bias, double eps, NDArray out, NDArray mean, NDArray var) {
        CpuBatchNorm.forward(Operand.of(x), weight == null ? null : Operand.of(weight), bias == null ? null : Operand.of(bias), eps,
                Operand.of(out), Operand.of(mean), Operand.of(var));
    }

    @Override public void batchNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray var, NDArray weight, double eps,
                                            NDArray gradX, NDArray gradWeight, NDArray gradBias) {
        CpuBatchNorm.backward(Operand.of(gradOut), Operand.of(x), Operand.of(mean), Operand.of(var), weight == null ? null : Operand.of(weight),
                eps, gradX == null ? null : Operand.of(gradX), gradWeight == null ? null : Operand.of(gradWeight),
                gradBias == null ? null : Operand.of(gradBias));
    }

    @Override public void crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, double smoothing, NDArray loss, NDArray lse) {
        CpuCrossEntropy.forward(Operand.of(logits), Operand.of(targets), ignoreIndex, smoothing, Operand.of(loss), Operand.of(lse));
    }

    @Override public void crossEntropyBackward(NDArray logits, NDArray targets, NDArray lse, NDArray gradLoss, long ignoreIndex,
                                               double smoothing, NDArray gradLogits) {
        CpuCrossEntropy.backward(Operand.of(logits), Operand.of(targets), Operand.of(lse), Operand.of(gradLoss), ignoreIndex, smoothing,
                Operand.of(gradLogits));
    }

    @Override public void layerNormBackward(NDArray gradOut, NDArray x, NDArray mean, NDArray rstd, NDArray weight,
                                            NDArray gradX, NDArray gradWeight, NDArray gradBias) {
        CpuNorm.backward(Operand.of(gradOut), Operand.of(x), Operand.of(mean), Operand.of(rstd), weight == null ? null : Operand.of(weight),
                gradX == null ? null : Operand.of(gradX), gradWeight == null ? null : Operand.of(gradWeight), gradBias == null ? null : Operand.of(gradBias));
    }

    @Override public void gather(NDArray x, int dim, NDArray index, NDArray out) {
        CpuIndexing.gather(Operand.of(x), dim, Operand.of(index), Operand.of(out));
    }

    @Override public void scatterAdd(NDArray out, int dim, NDArray index, NDArray src) {
        CpuIndexing.scatterAdd(Operand.of(out), dim, Operand.of(index), Operand.of(src));
    }

    @Override public void indexSelect(NDArray x, int dim, NDArray index, NDArray out) {
        CpuIndexing.indexSelect(Operand.of(x), dim, Operand.of(index), Operand.of(out));
    }

    @Override public void random(RandomKind kind, long seed, long offset, double lo, double hi, NDArray out) {
        CpuRandom.random(kind, seed, offset, lo, hi, Operand.of(out));
    }
}
