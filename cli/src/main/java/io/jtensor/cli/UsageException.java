package io.jtensor.cli;

/** A bad command line: the message names the bad flag or value; the command prints usage and exits with 2. */
final class UsageException extends RuntimeException {
    UsageException(String message) { super(message); }
}
