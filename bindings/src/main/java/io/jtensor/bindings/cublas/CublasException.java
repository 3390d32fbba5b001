package io.jtensor.bindings.cublas;

/** A cuBLAS call returned something other than CUBLAS_STATUS_SUCCESS. */
public final class CublasException extends RuntimeException {
    private final int status;
    private final String call;

    public CublasException(int status, String call) {
        super(Cublas.statusName(status) + " in " + call);
        this.status = status;
        this.call = call;
    }

    public int status() { return status; }
    public String call() { return call; }
}
