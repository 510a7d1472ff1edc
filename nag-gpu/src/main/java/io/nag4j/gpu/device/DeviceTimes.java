package io.nag4j.gpu.device;

/** Device-side durations (from the driver's own events) accumulated since the last drain. */
public record DeviceTimes(long copyInNanos, long kernelNanos, long copyOutNanos, int launches) {
    public static final DeviceTimes ZERO = new DeviceTimes(0, 0, 0, 0);

    public DeviceTimes plus(DeviceTimes o) {
        return new DeviceTimes(copyInNanos + o.copyInNanos, kernelNanos + o.kernelNanos, copyOutNanos + o.copyOutNanos, launches + o.launches);
    }
}
