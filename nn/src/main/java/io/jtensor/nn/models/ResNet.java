package io.jtensor.nn.models;

import io.jtensor.autograd.Tensor;
import io.jtensor.nn.AdaptiveAvgPool2d;
import io.jtensor.nn.BatchNorm2d;
import io.jtensor.nn.Conv2d;
import io.jtensor.nn.Linear;
import io.jtensor.nn.Module;
import io.jtensor.nn.Sequential;
import java.util.Arrays;

/**
 * A small ResNet for small images (the CIFAR-style design of He et al., 2016): a 3x3 stem conv, then one stage of
 * basic blocks per width (the first block of each later stage halves the resolution), global average pooling and
 * a linear classifier. The default (3 stages of 16/32/64 channels, 3 blocks each) is ResNet-20.
 */
public class ResNet extends Module {
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final Sequential stages;
    private final AdaptiveAvgPool2d pool;
    private final Linear fc;

    /** ResNet-20 for 1-channel input and 10 classes. */
    public ResNet() { this(1, 10, new int[] {16, 32, 64}, 3); }

    public ResNet(int inChannels, int numClasses, int[] widths, int blocksPerStage) {
        if (widths.length == 0 || blocksPerStage < 1) {
            throw new IllegalArgumentException("ResNet: expected at least one stage and one block, got widths " + Arrays.toString(widths)
                    + ", blocks " + blocksPerStage);
        }
        conv1 = registerModule("conv1", new Conv2d(inChannels, widths[0], 3, 1, 1, false));
        bn1 = registerModule("bn1", new BatchNorm2d(widths[0]));
        stages = registerModule("layers", new Sequential());
        int in = widths[0];
        for (int s = 0; s < widths.length; s++) {
            Sequential stage = new Sequential();
            for (int b = 0; b < blocksPerStage; b++) {
                stage.add(new BasicBlock(in, widths[s], b == 0 && s > 0 ? 2 : 1));
                in = widths[s];
            }
            stages.add(stage);
        }
        pool = registerModule("avgpool", new AdaptiveAvgPool2d(1));
        fc = registerModule("fc", new Linear(in, numClasses));
    }

    @Override public Tensor forward(Tensor x) {
        Tensor y = bn1.forward(conv1.forward(x)).relu();
        y = stages.forward(y);
        return fc.forward(pool.forward(y).flatten(1, -1));
    }
}
