package io.jtensor.nn.data.transforms;

import io.jtensor.NDArray;
import io.jtensor.nn.data.Transform;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * {@code (x[c] - mean[c]) / std[c]} per channel of an image [C,H,W] or a batch [N,C,H,W]; with one mean and std
 * they apply to every channel. Runs as array ops on the input's device and dtype; uses no randomness.
 */
public final class Normalize implements Transform {
    private final double[] mean;
    private final double[] std;

    public Normalize(double[] mean, double[] std) {
        if (mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalize: expected mean and std of one nonzero length, got " + mean.length + " and " + std.length);
        }
        for (double s : std) {
            if (!(s > 0) || Double.isInfinite(s)) throw new IllegalArgumentException("Normalize: expected std > 0, got " + Arrays.toString(std));
        }
        this.mean = mean.clone();
        this.std = std.clone();
    }

    /** One mean and std for all channels. */
    public Normalize(double mean, double std) { this(new double[] {mean}, new double[] {std}); }

    @Override public NDArray apply(NDArray x, RandomGenerator rng) {
        long[] s = HostImages.checkImageShape("Normalize", x);
        if (!x.dtype().isFloating()) throw new IllegalArgumentException("Normalize: expected a floating image, got " + x.dtype());
        long channels = s[s.length - 3];
        if (mean.length != 1 && mean.length != channels) {
            throw new IllegalArgumentException("Normalize: configured for " + mean.length + " channels, got an image " + Arrays.toString(s));
        }
        try (NDArray m = perChannel(mean, x); NDArray d = perChannel(std, x); NDArray centred = x.sub(m)) {
            return centred.div(d);
        }
    }

    /** The values as [C,1,1] in x's dtype and on its device, which broadcasts over [C,H,W] and [N,C,H,W]. */
    private static NDArray perChannel(double[] v, NDArray x) {
        try (NDArray host = NDArray.of(v, v.length, 1, 1); NDArray cast = host.to(x.dtype())) {
            return cast.to(x.device());
        }
    }
}
