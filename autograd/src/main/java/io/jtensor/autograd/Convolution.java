package io.jtensor.autograd;

import io.jtensor.NDArray;
import io.jtensor.backend.ConvParams;

/** Derivative rules of 2-D convolution and pooling, each delegating to the backend's backward kernels. */
final class Convolution {
    private Convolution() {}

    /** x [N,C,H,W], w [O,C/groups,KH,KW], optional bias [O]. */
    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvParams p) {
        return Autocasting.run(AutocastOp.CONV2D, in -> conv2dAsGiven(in[0], in[1], in[2], p), x, w, bias);
    }

    private static Tensor conv2dAsGiven(Tensor x, Tensor w, Tensor bias, ConvParams p) {
        NDArray out = NDArray.conv2d(x.data(), w.data(), bias == null ? null : bias.data(), p);
        Tensor[] inputs = bias == null ? new Tensor[] {x, w} : new Tensor[] {x, w, bias};
        long[] xShape = x.shape(), wShape = w.shape();
        return Recorder.record("conv2d", out, inputs, s -> {
            NDArray xv = w.requiresGrad() ? s.save(x.data()) : null;
            NDArray wv = x.requiresGrad() ? s.save(w.data()) : null;
            return (g, need) -> {
                NDArray[] r = new NDArray[need.length];
                try (NDArray gc = g.contiguous()) {
                    if (need[0]) r[0] = NDArray.conv2dBackwardInput(gc, wv, xShape, p);
                    if (need[1]) r[1] = NDArray.conv2dBackwardWeight(xv, gc, wShape, p);
                    if (need.length > 2 && need[2]) r[2] = gc.sum(new int[] {0, 2, 3}, false);
                }
                return r;
            };
        });
    }

    /** The gradient of each window goes to the element that was its maximum. */
    static Tensor maxPool2d(Tensor x, int kH, int kW, ConvParams p) {
        NDArray.ValuesIndices vi = x.data().maxPool2d(kH, kW, p);
        long[] xShape = x.shape();
        try (NDArray indices = vi.indices()) {
            return Recorder.record("maxPool2d", vi.values(), x, s -> {
                NDArray idx = s.save(indices);
                return (g, need) -> {
                    try (NDArray gc = g.contiguous()) {
                        return new NDArray[] {NDArray.maxPool2dBackward(gc, idx, xShape)};
                    }
                };
            });
        }
    }

    static Tensor avgPool2d(Tensor x, int kH, int kW, ConvParams p, boolean countIncludePad) {
        long[] xShape = x.shape();
        return Recorder.record("avgPool2d", x.data().avgPool2d(kH, kW, p, countIncludePad), x, s -> (g, need) -> {
            try (NDArray gc = g.contiguous()) {
                return new NDArray[] {NDArray.avgPool2dBackward(gc, kH, kW, p, countIncludePad, xShape)};
            }
        });
    }
}
