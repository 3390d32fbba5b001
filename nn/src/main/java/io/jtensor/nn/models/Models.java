package io.jtensor.nn.models;

import io.jtensor.nn.Module;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.LinkedHashMap;

/**
 * The models the command line can train, by name. Every model takes images [B, C, H, W] and returns logits
 * [B, classes]. Options (all optional): mlp "hidden" (comma-separated sizes, default 256,128) and "dropout";
 * resnet "widths" (default 16,32,64) and "blocks" (per stage, default 3); gru/lstm "hidden" (default 128),
 * "layers" (1) and "bidirectional" (false); bert-small "layers" (8), "heads" (8), "hidden" (256),
 * "intermediate" (4 x hidden) and "dropout" (0.1).
 */
public final class Models {
    private Models() {}

    private static final Map<String, Function<ModelSpec, Module>> FACTORIES = new LinkedHashMap<>();

    static {
        FACTORIES.put("mlp", Models::mlp);
        FACTORIES.put("lenet5", s -> new LeNet5(s.channels(), s.height(), s.width(), s.numClasses(), false));
        FACTORIES.put("lenet5-bn", s -> new LeNet5(s.channels(), s.height(), s.width(), s.numClasses(), true));
        FACTORIES.put("resnet", s -> new ResNet(s.channels(), s.numClasses(), ints(s, "widths", "16,32,64"),
                integer(s, "blocks", 3)));
        FACTORIES.put("gru", s -> rowReader(s, RowReader.CellType.GRU));
        FACTORIES.put("lstm", s -> rowReader(s, RowReader.CellType.LSTM));
        FACTORIES.put("bert-small", Models::bertSmall);
    }

    /** The registered names, in a stable order. */
    public static List<String> names() { return List.copyOf(FACTORIES.keySet()); }

    /** A model for 1x28x28 images in 10 classes. */
    public static Module create(String name) { return create(name, ModelSpec.mnist()); }

    public static Module create(String name, ModelSpec spec) {
        Function<ModelSpec, Module> f = FACTORIES.get(name.toLowerCase());
        if (f == null) throw new IllegalArgumentException("Models.create: unknown model '" + name + "'; expected one of " + String.join(", ", names()));
        return f.apply(spec);
    }

    private static Module mlp(ModelSpec s) {
        int[] hidden = ints(s, "hidden", "256,128");
        long[] sizes = new long[hidden.length + 2];
        sizes[0] = (long) s.channels() * s.height() * s.width();
        for (int i = 0; i < hidden.length; i++) sizes[i + 1] = hidden[i];
        sizes[sizes.length - 1] = s.numClasses();
        return new MLP(real(s, "dropout", 0), sizes);
    }

    private static Module rowReader(ModelSpec s, RowReader.CellType type) {
        return new RowReader(type, (long) s.channels() * s.width(), integer(s, "hidden", 128), integer(s, "layers", 1),
                Boolean.parseBoolean(s.option("bidirectional", "false")), s.numClasses());
    }

    private static Module bertSmall(ModelSpec s) {
        int hidden = integer(s, "hidden", 256);
        BertConfig c = BertConfig.smallForFeatures((long) s.channels() * s.width(), s.height(), s.numClasses())
                .withLayers(integer(s, "layers", 8), integer(s, "heads", 8), hidden, integer(s, "intermediate", 4 * hidden))
                .withDropout(real(s, "dropout", 0.1));
        return new BertClassifier(c);
    }

    private static int integer(ModelSpec s, String key, int fallback) {
        String v = s.option(key, null);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Models: option '" + key + "' expects an integer, got '" + v + "'");
        }
    }

    private static double real(ModelSpec s, String key, double fallback) {
        String v = s.option(key, null);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Models: option '" + key + "' expects a number, got '" + v + "'");
        }
    }

    private static int[] ints(ModelSpec s, String key, String fallback) {
        String v = s.option(key, fallback);
        try {
            return Arrays.stream(v.split(",")).map(String::trim).filter(p -> !p.isEmpty()).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Models: option '" + key + "' expects comma-separated integers, got '" + v + "'");
        }
    }
}
