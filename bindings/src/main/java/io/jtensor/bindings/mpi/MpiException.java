package io.jtensor.bindings.mpi;

/** An MPI call returned an error code; the message names the call, the code and MPI's own text for it. */
public final class MpiException extends RuntimeException {
    private final int code;
    private final String call;

    public MpiException(String call, int code, String text) {
        super(call + " failed: MPI error " + code + (text == null || text.isEmpty() ? "" : " (" + text + ")"));
        this.code = code;
        this.call = call;
    }

    public int code() { return code; }
    public String call() { return call; }
}
