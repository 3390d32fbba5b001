package io.jtensor.nn;

import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;

/** Max pooling over kernel x kernel windows; the stride defaults to the kernel size, as in PyTorch. */
public class MaxPool2d extends Module {
    private final int kernel, stride, padding, dilation;
    private final boolean ceilMode;

    public MaxPool2d(int kernel) { this(kernel, kernel, 0); }
    public MaxPool2d(int kernel, int stride) { this(kernel, stride, 0); }
    public MaxPool2d(int kernel, int stride, int padding) { this(kernel, stride, padding, 1); }

    public MaxPool2d(int kernel, int stride, int padding, int dilation) { this(kernel, stride, padding, dilation, false); }

    /** PyTorch's {@code ceil_mode}: the output size rounds up (see {@link PoolingModes}). */
    public MaxPool2d(int kernel, int stride, int padding, int dilation, boolean ceilMode) {
        this.ceilMode = ceilMode;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        new ConvParams(stride, stride, padding, padding, dilation, dilation, 1); // validates now, not at the first forward
    }

    @Override public Tensor forward(Tensor x) {
        return PoolingModes.maxPool2d(x, kernel, stride, padding, dilation, ceilMode);
    }

    /** The output and PyTorch's {@code return_indices} (h * W + w of each maximum within its plane, I64). */
    public record WithIndices(Tensor output, NDArray indices) {}

    /** forward(x) and the indices of the maxima, as PyTorch's MaxPool2d(return_indices=True) returns them. */
    public WithIndices forwardWithIndices(Tensor x) {
        return new WithIndices(forward(x), PoolingModes.maxPool2dIndices(x, kernel, stride, padding, dilation, ceilMode));
    }

    @Override protected String extraRepr() {
        return "kernel_size=" + kernel + ", stride=" + stride + ", padding=" + padding + ", dilation=" + dilation + ", ceil_mode=" + py(ceilMode);
    }
}
