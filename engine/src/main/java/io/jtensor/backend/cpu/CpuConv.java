package io.jtensor.backend.cpu;

import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;

/** 2-D convolution and pooling on the CPU (see Backend for the contracts). */
final class CpuConv {
    private CpuConv() {}

    static void conv2d(NDArray x, NDArray w, NDArray out, ConvParams p) { throw new UnsupportedOperationException("conv2d"); }
    static void conv2dBackwardInput(NDArray gradOut, NDArray w, NDArray gradIn, ConvParams p) { throw new UnsupportedOperationException("conv2dBackwardInput"); }
    static void conv2dBackwardWeight(NDArray x, NDArray gradOut, NDArray gradW, ConvParams p) { throw new UnsupportedOperationException("conv2dBackwardWeight"); }
    static void maxPool2d(NDArray x, int kH, int kW, ConvParams p, NDArray out, NDArray indices) { throw new UnsupportedOperationException("maxPool2d"); }
    static void maxPool2dBackward(NDArray gradOut, NDArray indices, NDArray gradIn) { throw new UnsupportedOperationException("maxPool2dBackward"); }
    static void avgPool2d(NDArray x, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray out) { throw new UnsupportedOperationException("avgPool2d"); }
    static void avgPool2dBackward(NDArray gradOut, int kH, int kW, ConvParams p, boolean countIncludePad, NDArray gradIn) { throw new UnsupportedOperationException("avgPool2dBackward"); }
}
