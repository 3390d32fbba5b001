package io.jtensor.cli;

import io.jtensor.nn.data.DatasetNotFoundException;
import io.jtensor.nn.data.FashionMnist;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds Fashion-MNIST for the train and eval commands. When it is missing from the system directory and no
 * --data-dir was given, says how to get it, and when running as root with apt-get at hand installs the Debian
 * package {@code dataset-fashion-mnist} itself, saying so.
 */
final class FashionMnistSetup {
    static final String PACKAGE = "dataset-fashion-mnist";

    private FashionMnistSetup() {}

    /** The directory holding the four files; {@code dataDir} null means the system directory. */
    static Path locate(Path dataDir, PrintStream err) {
        try {
            return FashionMnist.locate(dataDir);
        } catch (DatasetNotFoundException missing) {
            if (dataDir != null || !canInstall()) {
                throw new CommandException(missing.getMessage()
                        + (dataDir == null ? "" : " (or leave out --data-dir to use " + FashionMnist.SYSTEM_DIR + ")"));
            }
            err.println("jtensor: Fashion-MNIST is not in " + FashionMnist.SYSTEM_DIR + "; running as root, so installing it now with"
                    + " `apt-get install -y " + PACKAGE + "` ...");
            boolean ok = runQuietly(err, "apt-get", "install", "-y", "-q", PACKAGE);
            if (!ok) {
                err.println("jtensor: that failed; refreshing the package lists with `apt-get update` and trying again ...");
                ok = runQuietly(err, "apt-get", "update", "-q") && runQuietly(err, "apt-get", "install", "-y", "-q", PACKAGE);
            }
            try {
                Path found = FashionMnist.locate(null);
                err.println("jtensor: installed " + PACKAGE + " into " + FashionMnist.SYSTEM_DIR);
                return found;
            } catch (DatasetNotFoundException stillMissing) {
                throw new CommandException("installing " + PACKAGE + " with apt-get " + (ok ? "did not provide the files" : "failed")
                        + ". " + missing.getMessage());
            }
        }
    }

    /** Root, and apt-get on the PATH. */
    static boolean canInstall() { return isRoot() && onPath("apt-get"); }

    static boolean isRoot() {
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && out.equals("0");
        } catch (IOException e) {
            return "root".equals(System.getProperty("user.name"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) return true;
        }
        return false;
    }

    /** Runs a command with its output going to err; whether it exited 0. */
    private static boolean runQuietly(PrintStream err, String... command) {
        try {
            ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true);
            pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
            Process p = pb.start();
            p.getInputStream().transferTo(err);
            return p.waitFor() == 0;
        } catch (IOException e) {
            err.println("jtensor: could not run " + String.join(" ", command) + ": " + e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
