package io.jtensor.nn.data;

import java.io.IOException;
import java.nio.file.Path;

/** An IDX file (the MNIST format) whose content is not what was expected; the message names the file. */
public final class IdxFormatException extends IOException {
    public IdxFormatException(Path file, String message) {
        super("IDX file " + file + ": " + message);
    }

    /** With the low-level failure (a ZipException, an EOFException) that this one states in the file's terms. */
    public IdxFormatException(Path file, String message, Throwable cause) {
        super("IDX file " + file + ": " + message, cause);
    }
}
