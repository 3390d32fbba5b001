package io.jtensor.bindings.cudnn;

/** A cuDNN call returned something other than CUDNN_STATUS_SUCCESS. */
public final class CudnnException extends RuntimeException {
    private final int status;
    private final String call;

    public CudnnException(int status, String call) {
        this(status, call, null);
    }

    /** detail: what cuDNN itself said (cudnnGetErrorString, or its last error message), or null. */
    public CudnnException(int status, String call, String detail) {
        super(Cudnn.statusName(status) + " in " + call + (detail == null || detail.isBlank() ? "" : ": " + detail));
        this.status = status;
        this.call = call;
    }

    public int status() { return status; }
    public String call() { return call; }
}
