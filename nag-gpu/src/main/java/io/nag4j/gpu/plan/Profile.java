package io.nag4j.gpu.plan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the time of one or more executions went, in nanoseconds. Device times (copy-in, kernel,
 * copy-out) come from the driver's own events and are zero unless the plan's profiler is on;
 * compile and host-total are host wall times, always measured.
 *
 * @param device        spec and name of the device
 * @param executions    how many {@code execute()} calls this covers
 * @param launches      kernel launches in them
 * @param profiled      whether device event times were collected
 * @param compileNanos  wall time spent rendering and compiling kernels (0 once compiled)
 * @param hostTotalNanos wall time of the executions, from entering {@code execute()} to its return
 */
public record Profile(String device, long executions, long launches, boolean profiled, long compileNanos,
                      long copyInNanos, long kernelNanos, long copyOutNanos, long hostTotalNanos) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Device time: copy-in plus kernel plus copy-out. */
    public long deviceNanos() { return copyInNanos + kernelNanos + copyOutNanos; }

    /** Host time not spent on the device nor compiling: what the runtime itself costs (meaningful when profiled). */
    public long hostOverheadNanos() { return hostTotalNanos - compileNanos - deviceNanos(); }

    /** One JSON object with every field above plus {@code deviceNanos} and {@code hostOverheadNanos}. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", device);
        m.put("executions", executions);
        m.put("launches", launches);
        m.put("profiled", profiled);
        m.put("compileNanos", compileNanos);
        m.put("copyInNanos", copyInNanos);
        m.put("kernelNanos", kernelNanos);
        m.put("copyOutNanos", copyOutNanos);
        m.put("hostTotalNanos", hostTotalNanos);
        m.put("deviceNanos", deviceNanos());
        m.put("hostOverheadNanos", hostOverheadNanos());
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write profile as JSON", e);
        }
    }
}
