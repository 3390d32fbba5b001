package io.jtensor.backend.cpu;

import io.jtensor.Device;
import io.jtensor.NDArray;
import io.jtensor.backend.*;
import io.jtensor.memory.Allocator;
import io.jtensor.memory.MemoryStats;
import java.lang.foreign.MemorySegment;

/** Stub: replaced by the real CPU backend. */
public final class CpuBackend implements Backend {
    public Allocator allocator() { throw new UnsupportedOperationException(); }
    public void copyFromHost(MemorySegment src, NDArray dst) { throw new UnsupportedOperationException(); }
    public void copyToHost(NDArray src, MemorySegment dst) { throw new UnsupportedOperationException(); }
    public void copy(NDArray src, NDArray dst) { throw new UnsupportedOperationException(); }
    public void fill(NDArray dst, double value) { throw new UnsupportedOperationException(); }
    public void unary(UnaryOp op, NDArray x, NDArray out, double p1, double p2) { throw new UnsupportedOperationException(); }
    public void binary(BinaryOp op, NDArray a, NDArray b, NDArray out) { throw new UnsupportedOperationException(); }
    public void where(NDArray cond, NDArray a, NDArray b, NDArray out) { throw new UnsupportedOperationException(); }
    public void reduce(ReduceOp op, NDArray x, int[] dims, NDArray out, NDArray indices) { throw new UnsupportedOperationException(); }
    public void matmul(NDArray a, NDArray bm, NDArray out) { throw new UnsupportedOperationException(); }
    public void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p) { throw new UnsupportedOperationException(); }
    public void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p) { throw new UnsupportedOperationException(); }
    public void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p) { throw new UnsupportedOperationException(); }
    public void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices) { throw new UnsupportedOperationException(); }
    public void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn) { throw new UnsupportedOperationException(); }
    public void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out) { throw new UnsupportedOperationException(); }
    public void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn) { throw new UnsupportedOperationException(); }
    public void softmax(NDArray x, int dim, boolean log, NDArray out) { throw new UnsupportedOperationException(); }
    public void softmaxBackward(NDArray y, NDArray gy, int dim, boolean log, NDArray gx) { throw new UnsupportedOperationException(); }
    public void gather(NDArray x, int dim, NDArray index, NDArray out) { throw new UnsupportedOperationException(); }
    public void scatterAdd(NDArray out, int dim, NDArray index, NDArray src) { throw new UnsupportedOperationException(); }
    public void indexSelect(NDArray x, int dim, NDArray index, NDArray out) { throw new UnsupportedOperationException(); }
    public void random(RandomKind kind, long seed, long offset, double lo, double hi, NDArray out) { throw new UnsupportedOperationException(); }
}
