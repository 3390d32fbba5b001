package io.jtensor.nn.data.transforms;

/** One image [C, H, W] as doubles on the heap, for the pixel loops of the augmentations. */
final class Image {
    final double[] data;
    final int channels;
    final int height;
    final int width;

    Image(double[] data, int channels, int height, int width) {
        this.data = data;
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    static Image zeros(int channels, int height, int width) {
        return new Image(new double[channels * height * width], channels, height, width);
    }

    double get(int c, int y, int x) { return data[(c * height + y) * width + x]; }

    /** The pixel, or 0 outside the image: the fill value of padding, shifts and rotations. */
    double getOrZero(int c, int y, int x) {
        return y < 0 || y >= height || x < 0 || x >= width ? 0 : data[(c * height + y) * width + x];
    }

    void set(int c, int y, int x, double v) { data[(c * height + y) * width + x] = v; }

    Image copy() { return new Image(data.clone(), channels, height, width); }
}
