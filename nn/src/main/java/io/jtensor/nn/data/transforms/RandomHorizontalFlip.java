package io.jtensor.nn.data.transforms;

import io.jtensor.NDArray;
import io.jtensor.nn.data.Transform;
import java.util.random.RandomGenerator;

/** Mirrors each image left to right with probability p (decided per image of a batch). */
public final class RandomHorizontalFlip implements Transform {
    private final double p;

    public RandomHorizontalFlip(double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("RandomHorizontalFlip: expected p in [0, 1], got " + p);
        this.p = p;
    }

    public RandomHorizontalFlip() { this(0.5); }

    @Override public NDArray apply(NDArray x, RandomGenerator rng) {
        return HostImages.map("RandomHorizontalFlip", x, img -> rng.nextDouble() < p ? flip(img) : img);
    }

    /** Every image of x mirrored: out[c][y][x] = in[c][y][W-1-x]. */
    public static NDArray flip(NDArray x) { return HostImages.map("flip", x, RandomHorizontalFlip::flip); }

    static Image flip(Image in) {
        Image out = Image.zeros(in.channels, in.height, in.width);
        for (int c = 0; c < in.channels; c++) {
            for (int y = 0; y < in.height; y++) {
                for (int x = 0; x < in.width; x++) out.set(c, y, x, in.get(c, y, in.width - 1 - x));
            }
        }
        return out;
    }
}
