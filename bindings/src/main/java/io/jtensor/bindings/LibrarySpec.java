package io.jtensor.bindings;

import java.util.List;

/**
 * What to look for when locating a native library.
 *
 * @param displayName   how messages name the library ("CUDA driver", "cuBLAS")
 * @param stems         file names without version suffix, e.g. {@code libcublas.so}; a directory matches a stem when it
 *                      holds the stem itself or a versioned {@code stem.N[.M...]} (the highest version wins)
 * @param loaderNames   names handed to the system loader (dlopen) as they are, e.g. {@code libcuda.so.1}
 * @param loaderFirst   try the loader names before scanning directories (driver libraries live on the loader path)
 * @param companions    stems of libraries to load from the same directory first, so that dependencies that the
 *                      library's own RUNPATH may not name are already resident (libcublasLt for libcublas)
 */
public record LibrarySpec(String displayName, List<String> stems, List<String> loaderNames, boolean loaderFirst,
                          List<String> companions) {
    public LibrarySpec {
        stems = List.copyOf(stems);
        loaderNames = List.copyOf(loaderNames);
        companions = List.copyOf(companions);
        if (stems.isEmpty() && loaderNames.isEmpty()) throw new IllegalArgumentException("LibrarySpec " + displayName + ": nothing to look for");
    }

    /** A library that lives on the loader path (the driver, NVML): loader first, then the directories. */
    public static LibrarySpec driver(String displayName, String soname) {
        return new LibrarySpec(displayName, List.of(soname), List.of(soname), true, List.of());
    }

    /** A toolkit library (cuBLAS, cuDNN): directories first, the loader last. */
    public static LibrarySpec toolkit(String displayName, String stem, List<String> companions, String... loaderNames) {
        return new LibrarySpec(displayName, List.of(stem), List.of(loaderNames), false, companions);
    }
}
