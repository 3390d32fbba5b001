package io.jtensor.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that cannot be read or written as asked: truncated, a malformed header, an unknown dtype,
 * offsets that do not describe the data, or arguments that cannot be saved. It is a checked {@link IOException}
 * because every {@link SafeTensors} call already does file I/O and callers handle the two the same way: the file
 * (named in the message) is unusable.
 */
public final class SafeTensorsException extends IOException {
    public SafeTensorsException(Path file, String message) {
        super("safetensors " + file + ": " + message);
    }

    public SafeTensorsException(Path file, String message, Throwable cause) {
        super("safetensors " + file + ": " + message, cause);
    }
}
