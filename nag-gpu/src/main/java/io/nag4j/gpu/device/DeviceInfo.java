package io.nag4j.gpu.device;

/**
 * What a driver says of one device. {@link #bitExact()} is the promise EXACT mode needs: fp32
 * denormals kept and correctly rounded fp32 divide and sqrt.
 *
 * @param backend the driver's name, {@code opencl} or {@code cuda}
 * @param index   the device's number in {@code --backend backend:index}
 */
public record DeviceInfo(String backend, int index, String name, String vendor, String version,
                         long globalMemoryBytes, int computeUnits, boolean fp32Denormals,
                         boolean correctlyRoundedDivideSqrt) {
    public boolean bitExact() { return fp32Denormals && correctlyRoundedDivideSqrt; }

    /** Why EXACT mode cannot promise bits here, or an empty string. */
    public String whyNotBitExact() {
        if (bitExact()) return "";
        StringBuilder sb = new StringBuilder();
        if (!fp32Denormals) sb.append("flushes fp32 denormals to zero");
        if (!correctlyRoundedDivideSqrt) sb.append(sb.isEmpty() ? "" : "; ").append("fp32 divide/sqrt not correctly rounded");
        return sb.toString();
    }

    /** {@code backend:index}, as {@code --backend} takes it. */
    public String spec() { return backend + ":" + index; }
}
