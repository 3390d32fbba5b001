package io.jtensor.nn.data.transforms;

import io.jtensor.NDArray;
import io.jtensor.nn.data.Transform;
import java.util.random.RandomGenerator;

/**
 * Pads each image with {@code padding} zero pixels on every side, then cuts out a {@code size} x {@code size}
 * window at a uniformly random position (torchvision's RandomCrop with zero fill). With padding 4 and size 28 on
 * a 28x28 image this is the usual "shift by up to 4 pixels" augmentation.
 */
public final class RandomCrop implements Transform {
    private final int size;
    private final int padding;

    public RandomCrop(int size, int padding) {
        if (size < 1) throw new IllegalArgumentException("RandomCrop: expected size >= 1, got " + size);
        if (padding < 0) throw new IllegalArgumentException("RandomCrop: expected padding >= 0, got " + padding);
        this.size = size;
        this.padding = padding;
    }

    @Override public NDArray apply(NDArray x, RandomGenerator rng) {
        return HostImages.map("RandomCrop", x, img -> {
            int spanY = img.height + 2 * padding - size, spanX = img.width + 2 * padding - size;
            checkFits(img, spanY, spanX);
            int top = rng.nextInt(spanY + 1), left = rng.nextInt(spanX + 1);
            return crop(img, top, left);
        });
    }

    /** Every image of x cropped at (top, left) of its padded version. */
    public NDArray crop(NDArray x, int top, int left) {
        return HostImages.map("RandomCrop.crop", x, img -> {
            int spanY = img.height + 2 * padding - size, spanX = img.width + 2 * padding - size;
            checkFits(img, spanY, spanX);
            if (top < 0 || top > spanY || left < 0 || left > spanX) {
                throw new IllegalArgumentException("RandomCrop.crop: expected top in [0, " + spanY + "] and left in [0, " + spanX + "], got "
                        + top + ", " + left);
            }
            return crop(img, top, left);
        });
    }

    private Image crop(Image in, int top, int left) {
        Image out = Image.zeros(in.channels, size, size);
        for (int c = 0; c < in.channels; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) out.set(c, y, x, in.getOrZero(c, top + y - padding, left + x - padding));
            }
        }
        return out;
    }

    private void checkFits(Image img, int spanY, int spanX) {
        if (spanY < 0 || spanX < 0) {
            throw new IllegalArgumentException("RandomCrop: a " + size + "x" + size + " crop does not fit a " + img.height + "x" + img.width
                    + " image padded by " + padding);
        }
    }
}
