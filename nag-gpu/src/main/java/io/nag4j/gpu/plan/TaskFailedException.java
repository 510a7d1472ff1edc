package io.nag4j.gpu.plan;

/**
 * A task cannot run on the plan's device (EXACT mode on a device that is not bit-exact, a
 * compile or launch failure). There is no silent fallback to another device: the message names
 * the graph, the task and the device, and why.
 */
public class TaskFailedException extends RuntimeException {
    private final String task;
    private final String device;

    public TaskFailedException(String task, String device, String message, Throwable cause) {
        super(message, cause);
        this.task = task;
        this.device = device;
    }

    /** {@code graph.task}. */
    public String task() { return task; }

    /** The device's spec and name, e.g. {@code opencl:0 (cpu-haswell)}. */
    public String device() { return device; }
}
