package io.jtensor.bindings;

import java.util.List;

/** A native library could not be found or loaded; the message lists every place searched and what was found there. */
public final class LibraryNotFoundException extends RuntimeException {
    private final List<String> searched;

    public LibraryNotFoundException(String message, List<String> searched) {
        super(message);
        this.searched = List.copyOf(searched);
    }

    /** One line per place searched, in search order. */
    public List<String> searched() { return searched; }
}
