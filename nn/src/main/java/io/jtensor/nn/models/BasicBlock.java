package io.jtensor.nn.models;

import io.jtensor.autograd.Tensor;
import io.jtensor.nn.BatchNorm2d;
import io.jtensor.nn.Conv2d;
import io.jtensor.nn.Module;
import io.jtensor.nn.Sequential;

/**
 * The ResNet basic block: conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, plus a shortcut (the identity, or a
 * strided 1x1 conv + BN when the shape changes), then ReLU. Convolutions have no bias (BN follows them).
 */
public class BasicBlock extends Module {
    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;
    private final Sequential downsample;

    public BasicBlock(int inChannels, int outChannels, int stride) {
        conv1 = registerModule("conv1", new Conv2d(inChannels, outChannels, 3, stride, 1, false));
        bn1 = registerModule("bn1", new BatchNorm2d(outChannels));
        conv2 = registerModule("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1, false));
        bn2 = registerModule("bn2", new BatchNorm2d(outChannels));
        downsample = stride != 1 || inChannels != outChannels
                ? registerModule("downsample", new Sequential(new Conv2d(inChannels, outChannels, 1, stride, 0, false), new BatchNorm2d(outChannels)))
                : null;
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = bn1.forward(conv1.forward(x)).relu();
        y = bn2.forward(conv2.forward(y));
        Tensor shortcut = downsample == null ? x : downsample.forward(x);
        return y.add(shortcut).relu();
    }
}
