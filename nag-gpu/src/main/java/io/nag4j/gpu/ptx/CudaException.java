package io.nag4j.gpu.ptx;

/** A CUDA driver call returned a {@code CUresult} other than {@code CUDA_SUCCESS}. */
public class CudaException extends RuntimeException {
    private final String call;
    private final int code;
    private final String errorName;

    public CudaException(String call, int code, String errorName) {
        this(call, code, errorName, null);
    }

    /** With {@code detail} (the JIT's error log, say) appended to the message. */
    public CudaException(String call, int code, String errorName, String detail) {
        super(call + " failed: " + errorName + " (" + code + ")" + (detail == null || detail.isEmpty() ? "" : ":\n" + detail));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver function that failed. */
    public String call() { return call; }

    /** The raw {@code CUresult}. */
    public int code() { return code; }

    /** {@code cuGetErrorName}'s name for it, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() { return errorName; }
}
