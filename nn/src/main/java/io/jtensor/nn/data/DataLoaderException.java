package io.jtensor.nn.data;

/**
 * A batch could not be produced: the dataset, a transform or the collate function failed (the cause), or the
 * loader was closed while the consumer waited. Thrown on the consumer's thread, whichever thread failed.
 */
public final class DataLoaderException extends RuntimeException {
    public DataLoaderException(String message, Throwable cause) { super(message, cause); }
}
