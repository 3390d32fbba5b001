package io.jtensor.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The compiled kernels: the fatbin resource io/jtensor/kernels/jtensor.fatbin that the build puts in the engine jar,
 * or a file named by {@code -Djtensor.cuda.fatbin=PATH} (to try kernels rebuilt on a GPU host without repackaging).
 */
final class KernelImage {
    static final String RESOURCE = "/io/jtensor/kernels/jtensor.fatbin";
    static final String OVERRIDE_PROPERTY = "jtensor.cuda.fatbin";

    private KernelImage() {}

    /** Where the image comes from, for messages. */
    static String source() {
        String p = System.getProperty(OVERRIDE_PROPERTY);
        return p != null && !p.isBlank() ? p : "classpath:" + RESOURCE;
    }

    /** The image bytes, or null when this build has none. */
    static byte[] load() {
        String p = System.getProperty(OVERRIDE_PROPERTY);
        try {
            if (p != null && !p.isBlank()) return Files.readAllBytes(Path.of(p));
            try (InputStream in = KernelImage.class.getResourceAsStream(RESOURCE)) {
                return in == null ? null : in.readAllBytes();
            }
        } catch (IOException e) {
            throw new IllegalStateException("CUDA kernels: cannot read " + source() + ": " + e.getMessage(), e);
        }
    }

    /** Why there are no kernels, or null when there are. */
    static String missingReason() {
        String p = System.getProperty(OVERRIDE_PROPERTY);
        if (p != null && !p.isBlank()) return Files.isRegularFile(Path.of(p)) ? null : "-D" + OVERRIDE_PROPERTY + "=" + p + " does not exist";
        return KernelImage.class.getResource(RESOURCE) != null ? null
                : "this build of jtensor was built without CUDA kernels (nvcc was not found when it was built; "
                        + "see scripts/build-kernels.sh, or point -D" + OVERRIDE_PROPERTY + "= at a fatbin)";
    }
}
