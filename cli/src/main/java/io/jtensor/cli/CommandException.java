package io.jtensor.cli;

/** A command that could not do its job for a reason the user can act on; printed without a stack trace, exit 1. */
final class CommandException extends RuntimeException {
    CommandException(String message) { super(message); }

    CommandException(String message, Throwable cause) { super(message, cause); }
}
