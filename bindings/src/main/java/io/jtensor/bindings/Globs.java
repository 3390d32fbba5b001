package io.jtensor.bindings;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Expands absolute path patterns whose components may hold '*' into the existing directories they name. */
final class Globs {
    private Globs() {}

    static List<Path> expand(String pattern) {
        if (!pattern.startsWith("/")) throw new IllegalArgumentException("Globs.expand: expected an absolute pattern, got " + pattern);
        List<Path> current = new ArrayList<>(List.of(Path.of("/")));
        for (String part : pattern.substring(1).split("/")) {
            if (part.isEmpty()) continue;
            List<Path> next = new ArrayList<>();
            for (Path base : current) {
                if (part.contains("*")) {
                    if (!Files.isDirectory(base)) continue;
                    try (DirectoryStream<Path> ds = Files.newDirectoryStream(base, part)) {
                        for (Path p : ds) if (Files.isDirectory(p)) next.add(p);
                    } catch (IOException | RuntimeException e) {
                        // unreadable directory: nothing found there
                    }
                } else {
                    Path p = base.resolve(part);
                    if (Files.isDirectory(p)) next.add(p);
                }
            }
            next.sort(null);
            current = next;
            if (current.isEmpty()) break;
        }
        return current;
    }
}
