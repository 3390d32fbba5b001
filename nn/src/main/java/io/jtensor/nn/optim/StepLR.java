package io.jtensor.nn.optim;

/** Multiplies the rate by {@code gamma} every {@code stepSize} steps: {@code lr = base * gamma^floor(epoch/stepSize)}. */
public final class StepLR extends LrScheduler {
    private final int stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize < 1) throw new IllegalArgumentException("StepLR: expected stepSize >= 1, got " + stepSize);
        if (!(gamma > 0)) throw new IllegalArgumentException("StepLR: expected gamma > 0, got " + gamma);
        this.stepSize = stepSize;
        this.gamma = gamma;
        start();
    }

    @Override protected double lrAt(double baseLr, int epoch) { return baseLr * Math.pow(gamma, epoch / stepSize); }
}
