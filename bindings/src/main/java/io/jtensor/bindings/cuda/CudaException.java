package io.jtensor.bindings.cuda;

/** A CUDA driver call returned something other than CUDA_SUCCESS: the message names the error and the call. */
public final class CudaException extends RuntimeException {
    private final int code;
    private final String errorName;
    private final String call;

    public CudaException(int code, String errorName, String call, String detail) {
        super(errorName + " in " + call + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.code = code;
        this.errorName = errorName;
        this.call = call;
    }

    /** The CUresult value. */
    public int code() { return code; }
    /** Its name, e.g. CUDA_ERROR_OUT_OF_MEMORY. */
    public String errorName() { return errorName; }
    /** The driver function that returned it, e.g. cuMemAlloc. */
    public String call() { return call; }

    public boolean isOutOfMemory() { return code == CudaErrors.OUT_OF_MEMORY; }
}
