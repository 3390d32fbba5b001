package io.jtensor.nn;

import io.jtensor.DType;
import io.jtensor.Device;
import io.jtensor.Generator;
import io.jtensor.NDArray;
import io.jtensor.autograd.Tensor;
import io.jtensor.backend.ConvParams;

/**
 * 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] with weight [O, C/groups, kH, kW] and an
 * optional bias [O]. Zero padding; stride, dilation and groups as in PyTorch. Default init as PyTorch's:
 * Kaiming uniform with a = sqrt(5) and a bias in U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = C/groups * kH * kW.
 */
public class Conv2d extends Module {
    private final int inChannels, outChannels, kernelH, kernelW;
    private final ConvParams params;
    private final Tensor weight;
    private final Tensor bias;

    public Conv2d(int inChannels, int outChannels, int kernel) { this(inChannels, outChannels, kernel, 1, 0); }

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding) {
        this(inChannels, outChannels, kernel, kernel, new ConvParams(stride, stride, padding, padding, 1, 1, 1), true);
    }

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias) {
        this(inChannels, outChannels, kernel, kernel, new ConvParams(stride, stride, padding, padding, 1, 1, 1), bias);
    }

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation, int groups, boolean bias) {
        this(inChannels, outChannels, kernel, kernel, new ConvParams(stride, stride, padding, padding, dilation, dilation, groups), bias);
    }

    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, ConvParams params, boolean bias) {
        this(inChannels, outChannels, kernelH, kernelW, params, bias, Generator.defaultGenerator());
    }

    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, ConvParams params, boolean bias, Generator g) {
        if (inChannels < 1 || outChannels < 1 || kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("Conv2d: channels and kernel must be >= 1, got in=" + inChannels + ", out=" + outChannels
                    + ", kernel=" + kernelH + "x" + kernelW);
        }
        if (inChannels % params.groups() != 0 || outChannels % params.groups() != 0) {
            throw new IllegalArgumentException("Conv2d: in (" + inChannels + ") and out (" + outChannels
                    + ") channels must be divisible by groups (" + params.groups() + ")");
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.params = params;
        this.weight = registerParameter("weight",
                NDArray.empty(DType.F32, Device.cpu(), outChannels, inChannels / params.groups(), kernelH, kernelW));
        this.bias = bias ? registerParameter("bias", NDArray.empty(DType.F32, Device.cpu(), outChannels)) : null;
        resetParameters(g);
    }

    public void resetParameters(Generator g) {
        Init.kaimingUniform(weight, Math.sqrt(5), Init.FanMode.FAN_IN, "leaky_relu", g);
        if (bias != null) {
            double bound = 1 / Math.sqrt(Init.fans(weight.shape())[0]);
            Init.uniform(bias, -bound, bound, g);
        }
    }

    @Override public Tensor forward(Tensor x) {
        if (x.dim() != 4 || x.size(1) != inChannels) {
            throw new IllegalArgumentException("Conv2d: expected input [N, " + inChannels + ", H, W], got " + java.util.Arrays.toString(x.shape()));
        }
        return Tensor.conv2d(x, weight, bias, params);
    }

    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }
    public ConvParams params() { return params; }

    @Override protected String extraRepr() {
        StringBuilder sb = new StringBuilder().append(inChannels).append(", ").append(outChannels)
                .append(", kernel_size=(").append(kernelH).append(", ").append(kernelW).append(')')
                .append(", stride=(").append(params.strideH()).append(", ").append(params.strideW()).append(')');
        if (params.padH() != 0 || params.padW() != 0) sb.append(", padding=(").append(params.padH()).append(", ").append(params.padW()).append(')');
        if (params.dilationH() != 1 || params.dilationW() != 1) {
            sb.append(", dilation=(").append(params.dilationH()).append(", ").append(params.dilationW()).append(')');
        }
        if (params.groups() != 1) sb.append(", groups=").append(params.groups());
        if (bias == null) sb.append(", bias=False");
        return sb.toString();
    }
}
