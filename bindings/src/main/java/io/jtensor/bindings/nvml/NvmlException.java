package io.jtensor.bindings.nvml;

/** An NVML call returned something other than NVML_SUCCESS. */
public final class NvmlException extends RuntimeException {
    private final int code;
    private final String call;

    public NvmlException(int code, String call) {
        super(Nvml.errorName(code) + " in " + call);
        this.code = code;
        this.call = call;
    }

    public int code() { return code; }
    public String call() { return call; }
}
