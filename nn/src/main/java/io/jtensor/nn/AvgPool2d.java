package io.jtensor.nn;

import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;

/**
 * Average pooling over kernel x kernel windows; stride defaults to the kernel size and padding counts in the
 * divisor unless {@code countIncludePad} is false, as in PyTorch.
 */
public class AvgPool2d extends Module {
    private final int kernel, stride, padding;
    private final boolean countIncludePad;

    public AvgPool2d(int kernel) { this(kernel, kernel, 0, true); }
    public AvgPool2d(int kernel, int stride) { this(kernel, stride, 0, true); }

    public AvgPool2d(int kernel, int stride, int padding, boolean countIncludePad) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.countIncludePad = countIncludePad;
        new ConvParams(stride, stride, padding, padding, 1, 1, 1);
    }

    @Override public Tensor forward(Tensor x) {
        return Tensor.avgPool2d(x, kernel, kernel, ConvParams.of(stride, padding), countIncludePad);
    }

    @Override protected String extraRepr() { return "kernel_size=" + kernel + ", stride=" + stride + ", padding=" + padding; }
}
