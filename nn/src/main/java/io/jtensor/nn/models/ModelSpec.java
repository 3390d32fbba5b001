package io.jtensor.nn.models;

import java.util.Map;

/**
 * What a model is built for: images of {@code channels} x {@code height} x {@code width}, {@code numClasses}
 * outputs, and model-specific options as strings (e.g. "hidden" -> "256,128" for the MLP; see {@link Models}).
 */
public record ModelSpec(int channels, int height, int width, int numClasses, Map<String, String> options) {
    public ModelSpec {
        if (channels < 1 || height < 1 || width < 1 || numClasses < 1) {
            throw new IllegalArgumentException("ModelSpec: channels, height, width and numClasses must be >= 1, got "
                    + channels + ", " + height + ", " + width + ", " + numClasses);
        }
        options = Map.copyOf(options);
    }

    /** 1x28x28 images in 10 classes (MNIST, Fashion-MNIST). */
    public static ModelSpec mnist() { return new ModelSpec(1, 28, 28, 10, Map.of()); }

    public ModelSpec withOptions(Map<String, String> more) {
        var m = new java.util.HashMap<>(options);
        m.putAll(more);
        return new ModelSpec(channels, height, width, numClasses, m);
    }

    public String option(String key, String fallback) { return options.getOrDefault(key, fallback); }
}
