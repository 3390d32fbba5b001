package io.jtensor.nn.data.transforms;

import io.jtensor.NDArray;
import io.jtensor.nn.data.Transform;
import java.util.random.RandomGenerator;

/**
 * Rotates each image about its centre by an angle uniform in [-maxRotation, maxRotation] degrees and shifts it
 * by (tx, ty) each uniform in [-maxShift, maxShift] pixels; pixels that come from outside the image are 0.
 *
 * <p>Geometry: a positive angle turns the picture counter-clockwise as displayed (x to the right, y down, like
 * torchvision); a positive tx moves content right and a positive ty moves it down. Each output pixel (x, y) is
 * sampled at the source point found by undoing the shift and then the rotation about the centre
 * ((W-1)/2, (H-1)/2), by {@link Interpolation#NEAREST nearest} neighbour (round half up) or
 * {@link Interpolation#BILINEAR bilinear} weighting of the four surrounding pixels.
 */
public final class RandomAffine implements Transform {
    public enum Interpolation { NEAREST, BILINEAR }

    private final double maxShift;
    private final double maxRotation;
    private final Interpolation interpolation;

    public RandomAffine(double maxShift, double maxRotation, Interpolation interpolation) {
        if (!(maxShift >= 0) || !(maxRotation >= 0) || Double.isInfinite(maxShift) || Double.isInfinite(maxRotation)) {
            throw new IllegalArgumentException("RandomAffine: expected finite maxShift >= 0 and maxRotation >= 0, got " + maxShift + ", " + maxRotation);
        }
        this.maxShift = maxShift;
        this.maxRotation = maxRotation;
        this.interpolation = java.util.Objects.requireNonNull(interpolation, "interpolation");
    }

    public RandomAffine(double maxShift, double maxRotation) { this(maxShift, maxRotation, Interpolation.BILINEAR); }

    @Override public NDArray apply(NDArray x, RandomGenerator rng) {
        return HostImages.map("RandomAffine", x, img -> {
            double angle = symmetric(rng, maxRotation);
            double tx = symmetric(rng, maxShift);
            double ty = symmetric(rng, maxShift);
            return affine(img, angle, tx, ty, interpolation);
        });
    }

    private static double symmetric(RandomGenerator rng, double max) {
        return max == 0 ? 0 : (2 * rng.nextDouble() - 1) * max;
    }

    /** Every image of x rotated by angleDegrees and shifted by (tx, ty), as described in the class comment. */
    public static NDArray affine(NDArray x, double angleDegrees, double tx, double ty, Interpolation interpolation) {
        return HostImages.map("RandomAffine.affine", x, img -> affine(img, angleDegrees, tx, ty, interpolation));
    }

    static Image affine(Image in, double angleDegrees, double tx, double ty, Interpolation interpolation) {
        double theta = Math.toRadians(angleDegrees);
        double cos = Math.cos(theta), sin = Math.sin(theta);
        // Snap the exact quarter turns so that 90-degree rotations move whole pixels instead of sampling at 1e-16.
        if (Math.abs(cos) < 1e-12) cos = 0;
        if (Math.abs(sin) < 1e-12) sin = 0;
        double cx = (in.width - 1) / 2.0, cy = (in.height - 1) / 2.0;
        Image out = Image.zeros(in.channels, in.height, in.width);
        for (int y = 0; y < in.height; y++) {
            for (int x = 0; x < in.width; x++) {
                // Inverse map: undo the shift, then rotate by -theta (in y-down coordinates) about the centre.
                double dx = x - cx - tx, dy = y - cy - ty;
                double sx = cx + dx * cos - dy * sin;
                double sy = cy + dx * sin + dy * cos;
                for (int c = 0; c < in.channels; c++) {
                    out.set(c, y, x, interpolation == Interpolation.NEAREST ? nearest(in, c, sx, sy) : bilinear(in, c, sx, sy));
                }
            }
        }
        return out;
    }

    private static double nearest(Image in, int c, double sx, double sy) {
        return in.getOrZero(c, (int) Math.floor(sy + 0.5), (int) Math.floor(sx + 0.5));
    }

    private static double bilinear(Image in, int c, double sx, double sy) {
        int x0 = (int) Math.floor(sx), y0 = (int) Math.floor(sy);
        double fx = sx - x0, fy = sy - y0;
        return (1 - fy) * ((1 - fx) * in.getOrZero(c, y0, x0) + fx * in.getOrZero(c, y0, x0 + 1))
                + fy * ((1 - fx) * in.getOrZero(c, y0 + 1, x0) + fx * in.getOrZero(c, y0 + 1, x0 + 1));
    }
}
