package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A validated, frozen {@link TaskGraph} (TornadoVM's {@code ImmutableTaskGraph}): what an
 * {@link ExecutionPlan} runs. Later changes to the builder do not reach it. The host segments it
 * names are the caller's: the graph holds references, not copies, so a FIRST_EXECUTION or
 * EVERY_EXECUTION source is read when the plan executes.
 */
public final class ImmutableTaskGraph {
    /**
     * A named device buffer.
     *
     * @param source the host data copied in, or {@code null} for a device-only buffer (zero-filled on the first execution)
     * @param inMode when {@code source} is copied in; {@code FIRST_EXECUTION} for a device-only buffer
     */
    public record Buffer(String name, long byteSize, MemorySegment source, TransferMode inMode) {
        public boolean deviceOnly() { return source == null; }
    }

    /** One kernel launch over elements {@code [0, n)} on the named buffers (one per kernel input, in order). */
    public record Task(String name, Kernel kernel, Mode mode, long n, List<String> buffers, ScalarSource scalars) {}

    /** A copy from a device buffer to a host segment of the same size. */
    public record HostTransfer(String buffer, TransferMode mode, MemorySegment destination) {}

    private final String name;
    private final List<Buffer> buffers;
    private final List<Task> tasks;
    private final List<HostTransfer> toHost;

    ImmutableTaskGraph(String name, List<Buffer> buffers, List<Task> tasks, List<HostTransfer> toHost) {
        this.name = name;
        this.buffers = List.copyOf(buffers);
        this.tasks = List.copyOf(tasks);
        this.toHost = List.copyOf(toHost);
    }

    public String name() { return name; }

    public List<Buffer> buffers() { return buffers; }

    public List<Task> tasks() { return tasks; }

    public List<HostTransfer> transfersToHost() { return toHost; }

    @Override
    public String toString() {
        return "ImmutableTaskGraph[" + name + ": buffers " + buffers.stream().map(Buffer::name).toList()
                + ", tasks " + tasks.stream().map(Task::name).toList() + "]";
    }
}
