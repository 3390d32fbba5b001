package io.jtensor.nn.optim;

/**
 * Cosine annealing (Loshchilov and Hutter, SGDR without restarts) after an optional linear warm-up.
 * For {@code epoch < warmup}: {@code lr = base * (startFactor + (1 - startFactor) * epoch / warmup)}, rising
 * linearly from {@code base*startFactor} toward base. Then, with {@code progress = (epoch - warmup) / (tMax - warmup)}
 * capped at 1: {@code lr = etaMin + (base - etaMin) * (1 + cos(pi * progress)) / 2}, reaching etaMin at
 * {@code epoch = tMax} and staying there. Without warm-up this is PyTorch's CosineAnnealingLR up to tMax.
 */
public final class CosineAnnealingLR extends LrScheduler {
    private final int tMax;
    private final double etaMin;
    private final int warmup;
    private final double startFactor;

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) { this(optimizer, tMax, etaMin, 0, 1); }

    /**
     * @param tMax        the step at which the rate reaches etaMin (warm-up steps included)
     * @param warmup      steps of linear warm-up before the cosine starts
     * @param startFactor the fraction of the base rate at step 0 of the warm-up
     */
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin, int warmup, double startFactor) {
        super(optimizer);
        if (warmup < 0) throw new IllegalArgumentException("CosineAnnealingLR: expected warmup >= 0, got " + warmup);
        if (tMax <= warmup) throw new IllegalArgumentException("CosineAnnealingLR: expected tMax > warmup, got tMax " + tMax + " and warmup " + warmup);
        if (!(etaMin >= 0)) throw new IllegalArgumentException("CosineAnnealingLR: expected etaMin >= 0, got " + etaMin);
        if (!(startFactor >= 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("CosineAnnealingLR: expected startFactor in [0, 1], got " + startFactor);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        this.warmup = warmup;
        this.startFactor = startFactor;
        start();
    }

    @Override protected double lrAt(double baseLr, int epoch) {
        if (epoch < warmup) return baseLr * (startFactor + (1 - startFactor) * epoch / (double) warmup);
        double progress = Math.min(1.0, (epoch - warmup) / (double) (tMax - warmup));
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * progress)) / 2;
    }
}
