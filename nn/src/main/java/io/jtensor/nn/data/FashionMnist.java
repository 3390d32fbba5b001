package io.jtensor.nn.data;

import io.jtensor.DType;
import io.jtensor.NDArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fashion-MNIST (Xiao et al., 2017): 28x28 grey images of clothing in 10 classes, 60000 for training and 10000
 * for testing, as {@link TensorDataset}s of images F32 [N, 1, 28, 28] scaled to [0, 1] and labels I64 [N].
 * The same loader reads MNIST, which has the same files.
 *
 * <p>The four IDX files ({@code train-images-idx3-ubyte.gz} and so on, gzipped or not) are looked for in the
 * directory the caller gives (or its {@code fashion-mnist/} or torchvision-style {@code FashionMNIST/raw/}
 * subdirectory), and when none is given in {@link #SYSTEM_DIR}, where the Debian package
 * {@code dataset-fashion-mnist} installs them.
 */
public final class FashionMnist {
    /** Where {@code sudo apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path SYSTEM_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int CLASSES = 10;
    public static final int SIDE = 28;
    public static final List<String> CLASS_NAMES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    public enum Split {
        TRAIN("train"), TEST("t10k");

        final String prefix;

        Split(String prefix) { this.prefix = prefix; }

        String imagesFile() { return prefix + "-images-idx3-ubyte"; }
        String labelsFile() { return prefix + "-labels-idx1-ubyte"; }
    }

    private FashionMnist() {}

    public static TensorDataset train(Path dir) throws IOException { return load(dir, Split.TRAIN); }

    public static TensorDataset test(Path dir) throws IOException { return load(dir, Split.TEST); }

    /** The split's images and labels from {@code dir} (null: the system directory). */
    public static TensorDataset load(Path dir, Split split) throws IOException {
        Path found = locate(dir);
        Path imagesFile = file(found, split.imagesFile());
        Path labelsFile = file(found, split.labelsFile());
        try (NDArray images = images(imagesFile); NDArray labels = labels(labelsFile)) {
            if (images.size(0) != labels.size(0)) {
                throw new IdxFormatException(labelsFile, "holds " + labels.size(0) + " labels but " + imagesFile + " holds "
                        + images.size(0) + " images; expected one label per image");
            }
            return new TensorDataset(images, labels);
        }
    }

    /**
     * The directory holding all four files: {@code dir} or one of its known subdirectories, or the system
     * directory when {@code dir} is null.
     */
    public static Path locate(Path dir) throws DatasetNotFoundException {
        List<Path> candidates = dir == null ? List.of(SYSTEM_DIR) : List.of(dir, dir.resolve("fashion-mnist"), dir.resolve("FashionMNIST").resolve("raw"));
        for (Path c : candidates) if (missing(c).isEmpty()) return c;
        Path first = candidates.get(0);
        StringBuilder msg = new StringBuilder("Fashion-MNIST not found: looked in ");
        msg.append(candidates).append(" for ").append(allNames()).append(" (each may also be uncompressed)");
        if (Files.isDirectory(first)) msg.append("; ").append(first).append(" lacks ").append(missing(first));
        msg.append(". To get it, run `sudo apt-get install dataset-fashion-mnist` (installs to ").append(SYSTEM_DIR)
                .append("), or download the four files from https://github.com/zalandoresearch/fashion-mnist and pass --data DIR.");
        throw new DatasetNotFoundException(msg.toString());
    }

    /** Images F32 [N, 1, H, W] in [0, 1] from an IDX image file. */
    public static NDArray images(Path file) throws IOException {
        try (NDArray raw = Idx.readImages(file)) {
            long[] s = raw.shape();
            if (s[1] != SIDE || s[2] != SIDE) {
                throw new IdxFormatException(file, "expected " + SIDE + "x" + SIDE + " images, got " + Arrays.toString(s));
            }
            try (NDArray f = raw.to(DType.F32); NDArray scaled = f.div(255.0)) {
                return scaled.reshape(s[0], 1, s[1], s[2]);
            }
        }
    }

    /** Labels I64 [N] from an IDX label file; every label must be a class in [0, 10). */
    public static NDArray labels(Path file) throws IOException {
        try (NDArray raw = Idx.readLabels(file)) {
            byte[] bytes = raw.toBytes();
            for (int i = 0; i < bytes.length; i++) {
                int label = bytes[i] & 0xFF;
                if (label >= CLASSES) {
                    throw new IdxFormatException(file, "label " + label + " at index " + i + " is not a class in [0, " + CLASSES + ")");
                }
            }
            return raw.to(DType.I64);
        }
    }

    /** The gzipped name when present, else the uncompressed one. */
    private static Path file(Path dir, String baseName) {
        Path gz = dir.resolve(baseName + ".gz");
        return Files.isRegularFile(gz) ? gz : dir.resolve(baseName);
    }

    private static List<String> missing(Path dir) {
        List<String> out = new ArrayList<>();
        for (Split s : Split.values()) {
            for (String base : List.of(s.imagesFile(), s.labelsFile())) {
                if (!Files.isRegularFile(dir.resolve(base + ".gz")) && !Files.isRegularFile(dir.resolve(base))) out.add(base + ".gz");
            }
        }
        return out;
    }

    private static List<String> allNames() {
        List<String> out = new ArrayList<>();
        for (Split s : Split.values()) {
            out.add(s.imagesFile() + ".gz");
            out.add(s.labelsFile() + ".gz");
        }
        return out;
    }
}
