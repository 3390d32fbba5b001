package io.jtensor.nn;

import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;

/** Max pooling over kernel x kernel windows; the stride defaults to the kernel size, as in PyTorch. */
public class MaxPool2d extends Module {
    private final int kernel, stride, padding, dilation;

    public MaxPool2d(int kernel) { this(kernel, kernel, 0); }
    public MaxPool2d(int kernel, int stride) { this(kernel, stride, 0); }
    public MaxPool2d(int kernel, int stride, int padding) { this(kernel, stride, padding, 1); }

    public MaxPool2d(int kernel, int stride, int padding, int dilation) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        new ConvParams(stride, stride, padding, padding, dilation, dilation, 1); // validates now, not at the first forward
    }

    @Override public Tensor forward(Tensor x) {
        return Tensor.maxPool2d(x, kernel, kernel, new ConvParams(stride, stride, padding, padding, dilation, dilation, 1));
    }

    @Override protected String extraRepr() {
        return "kernel_size=" + kernel + ", stride=" + stride + ", padding=" + padding + ", dilation=" + dilation;
    }
}
