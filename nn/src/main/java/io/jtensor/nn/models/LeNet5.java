package io.jtensor.nn.models;

import io.jtensor.autograd.Tensor;
import io.jtensor.nn.BatchNorm1d;
import io.jtensor.nn.BatchNorm2d;
import io.jtensor.nn.Conv2d;
import io.jtensor.nn.Linear;
import io.jtensor.nn.MaxPool2d;
import io.jtensor.nn.Module;

/**
 * LeNet-5 in its common modern form (ReLU, max pooling): conv 6@5x5 padding 2 -> pool 2 -> conv 16@5x5 -> pool 2
 * -> fc 120 -> fc 84 -> fc classes. On 28x28 one-channel input it has 61,706 parameters. The batch-norm variant
 * puts BatchNorm after both convolutions and the first two fully connected layers, before each ReLU.
 */
public class LeNet5 extends Module {
    private final Conv2d conv1, conv2;
    private final MaxPool2d pool;
    private final Linear fc1, fc2, fc3;
    private final BatchNorm2d bn1, bn2;
    private final BatchNorm1d bn3, bn4;

    /** The classic configuration: 1x28x28 input, 10 classes, no batch norm. */
    public LeNet5() { this(1, 28, 28, 10, false); }

    public LeNet5(int inChannels, int height, int width, int numClasses, boolean batchNorm) {
        long h = ((height + 4 - 4) / 2 - 4) / 2, w = ((width + 4 - 4) / 2 - 4) / 2;
        if (h < 1 || w < 1) throw new IllegalArgumentException("LeNet5: input " + height + "x" + width + " is too small (need at least 12x12)");
        conv1 = registerModule("conv1", new Conv2d(inChannels, 6, 5, 1, 2));
        bn1 = batchNorm ? registerModule("bn1", new BatchNorm2d(6)) : null;
        pool = registerModule("pool", new MaxPool2d(2));
        conv2 = registerModule("conv2", new Conv2d(6, 16, 5));
        bn2 = batchNorm ? registerModule("bn2", new BatchNorm2d(16)) : null;
        fc1 = registerModule("fc1", new Linear(16 * h * w, 120));
        bn3 = batchNorm ? registerModule("bn3", new BatchNorm1d(120)) : null;
        fc2 = registerModule("fc2", new Linear(120, 84));
        bn4 = batchNorm ? registerModule("bn4", new BatchNorm1d(84)) : null;
        fc3 = registerModule("fc3", new Linear(84, numClasses));
    }

    /** The batch-norm variant for 1x28x28 input and 10 classes. */
    public static LeNet5 withBatchNorm() { return new LeNet5(1, 28, 28, 10, true); }

    @Override public Tensor forward(Tensor x) {
        Tensor y = pool.forward(norm(bn1, conv1.forward(x)).relu());
        y = pool.forward(norm(bn2, conv2.forward(y)).relu());
        y = y.flatten(1, -1);
        y = norm(bn3, fc1.forward(y)).relu();
        y = norm(bn4, fc2.forward(y)).relu();
        return fc3.forward(y);
    }

    private static Tensor norm(Module bn, Tensor x) { return bn == null ? x : bn.forward(x); }
}
