package io.jtensor.nn.data.transforms;

import io.jtensor.NDArray;
import io.jtensor.nn.data.Transform;
import java.util.random.RandomGenerator;

/**
 * With probability p, sets a random rectangle of each image to a value in all channels (Zhong et al., "Random
 * Erasing Data Augmentation", 2017, as in torchvision): the rectangle's area is a fraction of the image uniform
 * in [minArea, maxArea], its aspect ratio h/w log-uniform in [minRatio, maxRatio], its position uniform. Up to
 * ten draws are tried for a rectangle that fits; if none does the image is left as it is.
 */
public final class RandomErasing implements Transform {
    private static final int ATTEMPTS = 10;

    private final double p;
    private final double minArea;
    private final double maxArea;
    private final double minRatio;
    private final double maxRatio;
    private final double value;

    public RandomErasing(double p, double minArea, double maxArea, double minRatio, double maxRatio, double value) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("RandomErasing: expected p in [0, 1], got " + p);
        if (!(minArea > 0 && minArea <= maxArea && maxArea <= 1)) {
            throw new IllegalArgumentException("RandomErasing: expected 0 < minArea <= maxArea <= 1, got " + minArea + ", " + maxArea);
        }
        if (!(minRatio > 0 && minRatio <= maxRatio) || Double.isInfinite(maxRatio)) {
            throw new IllegalArgumentException("RandomErasing: expected 0 < minRatio <= maxRatio, got " + minRatio + ", " + maxRatio);
        }
        this.p = p;
        this.minArea = minArea;
        this.maxArea = maxArea;
        this.minRatio = minRatio;
        this.maxRatio = maxRatio;
        this.value = value;
    }

    /** torchvision's defaults for the aspect ratio (0.3 to 3.3) and value (0). */
    public RandomErasing(double p, double minArea, double maxArea) { this(p, minArea, maxArea, 0.3, 3.3, 0); }

    @Override public NDArray apply(NDArray x, RandomGenerator rng) {
        return HostImages.map("RandomErasing", x, img -> {
            if (!(rng.nextDouble() < p)) return img;
            double area = (double) img.height * img.width;
            double logLo = Math.log(minRatio), logHi = Math.log(maxRatio);
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                double target = area * (minArea + (maxArea - minArea) * rng.nextDouble());
                double ratio = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
                int h = (int) Math.round(Math.sqrt(target * ratio));
                int w = (int) Math.round(Math.sqrt(target / ratio));
                if (h < 1 || w < 1 || h >= img.height || w >= img.width) continue;
                int top = rng.nextInt(img.height - h + 1), left = rng.nextInt(img.width - w + 1);
                return erase(img, top, left, h, w, value);
            }
            return img;
        });
    }

    /** Every image of x with rows top..top+h-1 and columns left..left+w-1 set to value in all channels. */
    public static NDArray erase(NDArray x, int top, int left, int h, int w, double value) {
        return HostImages.map("RandomErasing.erase", x, img -> {
            if (top < 0 || left < 0 || h < 0 || w < 0 || top + h > img.height || left + w > img.width) {
                throw new IllegalArgumentException("RandomErasing.erase: rectangle at (" + top + ", " + left + ") of " + h + "x" + w
                        + " does not fit a " + img.height + "x" + img.width + " image");
            }
            return erase(img, top, left, h, w, value);
        });
    }

    static Image erase(Image in, int top, int left, int h, int w, double value) {
        Image out = in.copy();
        for (int c = 0; c < in.channels; c++) {
            for (int y = top; y < top + h; y++) {
                for (int x = left; x < left + w; x++) out.set(c, y, x, value);
            }
        }
        return out;
    }
}
