package io.nag4j.gpu.opencl;

/**
 * An OpenCL call returned an error code. The message names the call and the code's name
 * (for example {@code clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11)}), plus any detail
 * such as a build log.
 */
public class OpenClException extends RuntimeException {
    private final String call;
    private final int code;

    public OpenClException(String call, int code, String detail) {
        super(call + " failed: " + OpenCl.errorName(code) + " (" + code + ")"
                + (detail == null || detail.isEmpty() ? "" : "\n" + detail));
        this.call = call;
        this.code = code;
    }

    private OpenClException(String call, int code, String message, Throwable cause) {
        super(message, cause);
        this.call = call;
        this.code = code;
    }

    /**
     * The same failure with the generated source of {@code kernel} appended, numbered as the
     * build log's line numbers count: a build failure is only readable beside the code.
     */
    public OpenClException withSource(String kernel, String source) {
        return new OpenClException(call, code, getMessage() + "\n--- generated OpenCL C of kernel '" + kernel + "' ---\n"
                + io.nag4j.gpu.device.Listing.numbered(source), this);
    }

    /** The OpenCL function that failed, e.g. {@code clEnqueueNDRangeKernel}. */
    public String call() { return call; }

    /** The raw error code (negative). */
    public int code() { return code; }

    /** The standard name of {@link #code()}, e.g. {@code CL_OUT_OF_RESOURCES}. */
    public String codeName() { return OpenCl.errorName(code); }
}
