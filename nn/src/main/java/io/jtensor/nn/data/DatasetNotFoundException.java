package io.jtensor.nn.data;

import java.io.FileNotFoundException;

/** A dataset's files are not where they were looked for; the message says where that was and how to get them. */
public final class DatasetNotFoundException extends FileNotFoundException {
    public DatasetNotFoundException(String message) { super(message); }
}
