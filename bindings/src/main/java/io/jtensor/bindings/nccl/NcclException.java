package io.jtensor.bindings.nccl;

/** An NCCL call returned something other than ncclSuccess: names the call, the ncclResult_t and NCCL's last error text. */
public final class NcclException extends RuntimeException {
    private final int result;
    private final String call;

    public NcclException(String call, int result, String lastError) {
        super(Nccl.resultName(result) + " in " + call
                + (lastError == null || lastError.isBlank() ? "" : ": " + lastError.strip()));
        this.result = result;
        this.call = call;
    }

    /** The ncclResult_t value. */
    public int result() { return result; }
    public String call() { return call; }
}
