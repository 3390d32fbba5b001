package io.jtensor.nn;

import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;

/**
 * Average pooling over kernel x kernel windows; stride defaults to the kernel size and padding counts in the
 * divisor unless {@code countIncludePad} is false, as in PyTorch.
 */
public class AvgPool2d extends Module {
    private final int kernel, stride, padding;
    private final boolean countIncludePad, ceilMode;
    private final Integer divisorOverride;

    public AvgPool2d(int kernel) { this(kernel, kernel, 0, true); }
    public AvgPool2d(int kernel, int stride) { this(kernel, stride, 0, true); }

    public AvgPool2d(int kernel, int stride, int padding, boolean countIncludePad) { this(kernel, stride, padding, false, countIncludePad, null); }

    /**
     * PyTorch's argument order: {@code ceilMode} rounds the output size up; {@code divisorOverride} (null: none, else
     * non-zero) divides every window's sum instead of its size (see {@link PoolingModes}).
     */
    public AvgPool2d(int kernel, int stride, int padding, boolean ceilMode, boolean countIncludePad, Integer divisorOverride) {
        if (divisorOverride != null && divisorOverride == 0) throw new IllegalArgumentException("AvgPool2d: divisorOverride must not be 0");
        this.ceilMode = ceilMode;
        this.divisorOverride = divisorOverride;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.countIncludePad = countIncludePad;
        new ConvParams(stride, stride, padding, padding, 1, 1, 1);
    }

    @Override public Tensor forward(Tensor x) {
        return PoolingModes.avgPool2d(x, kernel, stride, padding, ceilMode, countIncludePad, divisorOverride);
    }

    @Override protected String extraRepr() { return "kernel_size=" + kernel + ", stride=" + stride + ", padding=" + padding; }
}
