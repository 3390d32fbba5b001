package io.jtensor.bindings;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds NVIDIA libraries where they are usually installed, without hand-set paths. Search order:
 * <ol>
 *   <li>the directories of {@code -Djtensor.cuda.libs=DIR[:DIR]};</li>
 *   <li>for driver libraries ({@link LibrarySpec#loaderFirst()}), the system loader (dlopen of the soname);</li>
 *   <li>{@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64};</li>
 *   <li>the entries of {@code LD_LIBRARY_PATH};</li>
 *   <li>the usual system directories ({@code /usr/local/cuda/lib64}, {@code /usr/lib/x86_64-linux-gnu}, ...);</li>
 *   <li>Python wheels: {@code nvidia/*}{@code /lib} under the common site-packages roots (system, user, pyenv, conda,
 *       /opt venvs, {@code $VIRTUAL_ENV}, {@code $CONDA_PREFIX}) - a fixed list of globs, not Python's sys.path,
 *       which would take a Python start-up to learn;</li>
 *   <li>for toolkit libraries, the system loader last.</li>
 * </ol>
 * When nothing loads, {@link LibraryNotFoundException} lists every place and what was found there.
 */
public final class NativeLibraryLocator {
    public static final String OVERRIDE_PROPERTY = "jtensor.cuda.libs";

    static final List<String> DEFAULT_SYSTEM_DIRS = List.of(
            "/usr/local/cuda/lib64", "/usr/local/cuda/lib", "/usr/local/nvidia/lib64", "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib");

    static final List<String> DEFAULT_PYTHON_ROOTS = List.of(
            "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
            "/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages",
            "~/.local/lib/python3*/site-packages", "~/.pyenv/versions/*/lib/python3*/site-packages",
            "/opt/*/lib/python3*/site-packages", "/opt/*/.venv/lib/python3*/site-packages",
            "/opt/conda/envs/*/lib/python3*/site-packages",
            "$VIRTUAL_ENV/lib/python3*/site-packages", "$CONDA_PREFIX/lib/python3*/site-packages");

    private static final Pattern VERSION_SUFFIX = Pattern.compile("(\\.[0-9]+)*");

    private final Map<String, String> env;
    private final String overrideDirs;
    private final String home;
    private final List<String> systemDirs;
    private final List<String> pythonRoots;

    public NativeLibraryLocator(Map<String, String> env, String overrideDirs, String home,
                                List<String> systemDirs, List<String> pythonRoots) {
        this.env = Map.copyOf(env);
        this.overrideDirs = overrideDirs;
        this.home = home;
        this.systemDirs = List.copyOf(systemDirs);
        this.pythonRoots = List.copyOf(pythonRoots);
    }

    /** The locator for this process: its environment, the override property and the default directory lists. */
    public static NativeLibraryLocator system() {
        return new NativeLibraryLocator(System.getenv(), System.getProperty(OVERRIDE_PROPERTY),
                System.getProperty("user.home", ""), DEFAULT_SYSTEM_DIRS, DEFAULT_PYTHON_ROOTS);
    }

    /** A loaded library and where it came from (a file path, or "loader:NAME"). */
    public record Loaded(SymbolLookup lookup, String where) {}

    /** Loads the library described by spec, or throws listing every place searched. */
    public Loaded load(LibrarySpec spec) {
        List<String> report = new ArrayList<>();
        Loaded found = null;
        if (overrideDirs == null || overrideDirs.isBlank()) {
            report.add("-D" + OVERRIDE_PROPERTY + ": not set");
        } else {
            for (String d : overrideDirs.split(":")) {
                if (found == null && !d.isBlank()) found = tryDirectory(Path.of(d), "-D" + OVERRIDE_PROPERTY, spec, report);
            }
        }
        if (found == null && spec.loaderFirst()) found = tryLoader(spec, report);
        if (found == null) {
            for (Place p : directoryPlaces()) {
                if (p.dir() == null) {
                    report.add(p.label());
                    continue;
                }
                found = tryDirectory(p.dir(), p.label(), spec, report);
                if (found != null) break;
            }
        }
        if (found == null && !spec.loaderFirst()) found = tryLoader(spec, report);
        if (found != null) return found;
        String what = spec.stems().isEmpty() ? String.join(", ", spec.loaderNames()) : String.join("*, ", spec.stems()) + "*";
        StringBuilder msg = new StringBuilder(spec.displayName() + " library (" + what + ") not found. Searched, in order:");
        for (String line : report) msg.append("\n  ").append(line);
        msg.append("\nPoint -D").append(OVERRIDE_PROPERTY).append("=DIR[:DIR] at the directory that holds it.");
        throw new LibraryNotFoundException(msg.toString(), report);
    }

    /** A directory to scan, or (dir null) a line for the report about a place that names no directory. */
    private record Place(Path dir, String label) {
        static Place note(String line) { return new Place(null, line); }
    }

    /** Every directory to scan after the override, in search order, with notes for places that name none. */
    private List<Place> directoryPlaces() {
        List<Place> places = new ArrayList<>();
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String v = env.get(var);
            if (v == null || v.isBlank()) places.add(Place.note(var + ": not set"));
            else places.add(new Place(Path.of(v, "lib64"), var + "/lib64"));
        }
        String ld = env.get("LD_LIBRARY_PATH");
        if (ld == null || ld.isBlank()) places.add(Place.note("LD_LIBRARY_PATH: not set"));
        else for (String d : ld.split(":")) if (!d.isBlank()) places.add(new Place(Path.of(d), "LD_LIBRARY_PATH"));
        for (String d : systemDirs) places.add(new Place(Path.of(d), "system"));
        for (String root : pythonRoots) {
            String expanded = expandVariables(root);
            if (expanded == null) {
                String var = root.startsWith("~") ? "home directory" : root.substring(1, root.indexOf('/'));
                places.add(Place.note("python wheels under " + root + ": " + var + " not set"));
                continue;
            }
            List<Path> libs = Globs.expand(expanded + "/nvidia/*/lib");
            if (libs.isEmpty()) places.add(Place.note("python wheels " + expanded + "/nvidia/*/lib: no match"));
            for (Path p : libs) places.add(new Place(p, "python wheel"));
        }
        return places;
    }

    /** Replaces a leading ~ or $VAR; null when the variable is unset. */
    private String expandVariables(String pattern) {
        if (pattern.startsWith("~/")) return home == null || home.isEmpty() ? null : home + pattern.substring(1);
        if (pattern.startsWith("$")) {
            int slash = pattern.indexOf('/');
            String v = env.get(pattern.substring(1, slash));
            return v == null || v.isBlank() ? null : v + pattern.substring(slash);
        }
        return pattern;
    }

    private Loaded tryDirectory(Path dir, String label, LibrarySpec spec, List<String> report) {
        String where = dir + " (" + label + ")";
        if (!Files.isDirectory(dir)) {
            report.add(where + ": no such directory");
            return null;
        }
        List<Path> candidates = new ArrayList<>();
        for (String stem : spec.stems()) candidates.addAll(matches(dir, stem));
        if (candidates.isEmpty()) {
            report.add(where + ": no " + String.join("*, ", spec.stems()) + "*");
            return null;
        }
        for (String companion : spec.companions()) {
            for (Path c : matches(dir, companion)) {
                try {
                    SymbolLookup.libraryLookup(c, Arena.global());
                    break;
                } catch (RuntimeException e) {
                    report.add(where + ": companion " + c.getFileName() + " failed to load: " + e.getMessage());
                }
            }
        }
        for (Path c : candidates) {
            try {
                return new Loaded(SymbolLookup.libraryLookup(c, Arena.global()), c.toString());
            } catch (RuntimeException e) {
                report.add(where + ": " + c.getFileName() + " found but failed to load: " + e.getMessage());
            }
        }
        return null;
    }

    private Loaded tryLoader(LibrarySpec spec, List<String> report) {
        for (String name : spec.loaderNames()) {
            try {
                return new Loaded(SymbolLookup.libraryLookup(name, Arena.global()), "loader:" + name);
            } catch (RuntimeException e) {
                report.add("system loader dlopen(\"" + name + "\"): not loadable (" + e.getMessage() + ")");
            }
        }
        return null;
    }

    /** Files named stem or stem.N[.M...] in dir, highest version first. */
    static List<Path> matches(Path dir, String stem) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, stem + "*")) {
            for (Path p : ds) {
                String suffix = p.getFileName().toString().substring(stem.length());
                if (VERSION_SUFFIX.matcher(suffix).matches() && Files.isRegularFile(p)) out.add(p);
            }
        } catch (IOException | RuntimeException e) {
            return out;
        }
        out.sort(Comparator.comparing((Path p) -> versionOf(p.getFileName().toString().substring(stem.length())),
                NativeLibraryLocator::compareVersions).reversed());
        return out;
    }

    private static int[] versionOf(String suffix) {
        if (suffix.isEmpty()) return new int[0];
        String[] parts = suffix.substring(1).split("\\.");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                v[i] = 0;
            }
        }
        return v;
    }

    /** Compares versions numerically; a plain stem (no version) sorts lowest, a longer equal prefix higher. */
    private static int compareVersions(int[] a, int[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i] != b[i]) return Integer.compare(a[i], b[i]);
        }
        return Integer.compare(a.length, b.length);
    }
}
