package io.nag4j.gpu.plan;

import java.lang.foreign.MemorySegment;

/**
 * What an {@link ExecutionPlan#execute()} leaves on the device, read back on demand (TornadoVM's
 * {@code TornadoExecutionResult}). It is a view of the plan's buffers: it reads what they hold
 * now, and fails once the plan is closed.
 */
public final class ExecutionResult {
    private final ExecutionPlan plan;

    ExecutionResult(ExecutionPlan plan) { this.plan = plan; }

    /** Copies each named buffer into the host destination its graph registered with {@code transferToHost}. */
    public ExecutionResult transferToHost(String... bufferNames) {
        for (String b : bufferNames) plan.readBack(b);
        return this;
    }

    /** Copies the first {@code dst.byteSize()} bytes of buffer {@code bufferName} into {@code dst}. */
    public ExecutionResult readInto(String bufferName, MemorySegment dst) {
        plan.readInto(bufferName, 0, dst);
        return this;
    }

    /** Copies {@code dst.byteSize()} bytes of buffer {@code bufferName}, starting at {@code offsetBytes}, into {@code dst}. */
    public ExecutionResult readInto(String bufferName, long offsetBytes, MemorySegment dst) {
        plan.readInto(bufferName, offsetBytes, dst);
        return this;
    }

    /** The plan's profile of its last execution. */
    public Profile profile() { return plan.profile(); }
}
