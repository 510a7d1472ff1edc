package io.nag4j.gpu.plan;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A builder of named device buffers, kernel tasks and transfers, modelled on TornadoVM's
 * {@code TaskGraph}; {@link #snapshot()} validates it and freezes it for an {@link ExecutionPlan}.
 *
 * <pre>{@code
 * ImmutableTaskGraph g = new TaskGraph("step")
 *     .transferToDevice(TransferMode.FIRST_EXECUTION, "param", paramsHost)
 *     .transferToDevice(TransferMode.EVERY_EXECUTION, "update", updatesHost)
 *     .deviceBuffer("phi", bytes)                       // device-only, zero on the first execution
 *     .task("nag", kernel, Mode.EXACT, n, List.of("param", "update", "phi"), () -> scalars)
 *     .transferToHost(TransferMode.UNDER_DEMAND, "param", paramsHost)
 *     .snapshot();
 * }</pre>
 *
 * Buffers are named and sized from their host segments. Within a task, buffers follow the kernel
 * ABI: one per kernel input, in order. Not thread-safe.
 */
public final class TaskGraph {
    private final String name;
    private final LinkedHashMap<String, ImmutableTaskGraph.Buffer> buffers = new LinkedHashMap<>();
    private final List<ImmutableTaskGraph.Task> tasks = new ArrayList<>();
    private final List<ImmutableTaskGraph.HostTransfer> toHost = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();

    public TaskGraph(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a task graph needs a non-blank name");
        this.name = name;
    }

    public String name() { return name; }

    /**
     * Declares buffer {@code bufferName}, sized as {@code hostData}, copied in from it on the first
     * execution only or on every execution ({@link TransferMode#UNDER_DEMAND} is for reading back).
     * {@code hostData} must stay alive until every plan running this graph is closed: plans read it
     * at each execution, and page-lock EVERY_EXECUTION sources with the driver (CUDA) until they close.
     */
    public TaskGraph transferToDevice(TransferMode mode, String bufferName, MemorySegment hostData) {
        Objects.requireNonNull(mode, "transfer mode");
        checkName(bufferName);
        Objects.requireNonNull(hostData, "host data of buffer '" + bufferName + "'");
        if (mode == TransferMode.UNDER_DEMAND) {
            throw new IllegalArgumentException("graph '" + name + "': buffer '" + bufferName
                    + "': UNDER_DEMAND applies to transferToHost only; copy in with FIRST_EXECUTION or EVERY_EXECUTION");
        }
        declare(new ImmutableTaskGraph.Buffer(bufferName, hostData.byteSize(), hostData, mode));
        return this;
    }

    /** Declares a device-only buffer of {@code byteSize} bytes, zero-filled on the first execution. */
    public TaskGraph deviceBuffer(String bufferName, long byteSize) {
        checkName(bufferName);
        if (byteSize < 0) throw new IllegalArgumentException("graph '" + name + "': buffer '" + bufferName + "' has negative size " + byteSize);
        declare(new ImmutableTaskGraph.Buffer(bufferName, byteSize, null, TransferMode.FIRST_EXECUTION));
        return this;
    }

    /**
     * Adds a launch of {@code kernel} over {@code n} elements. {@code bufferNames} name one
     * buffer per kernel input, in the kernel's order; {@code scalars} are asked for at every
     * execution.
     */
    public TaskGraph task(String taskName, Kernel kernel, Mode mode, long n, List<String> bufferNames, ScalarSource scalars) {
        if (taskName == null || taskName.isBlank()) throw new IllegalArgumentException("graph '" + name + "': a task needs a non-blank name");
        Objects.requireNonNull(kernel, "kernel of task '" + taskName + "'");
        Objects.requireNonNull(mode, "mode of task '" + taskName + "'");
        Objects.requireNonNull(bufferNames, "buffers of task '" + taskName + "'");
        Objects.requireNonNull(scalars, "scalars of task '" + taskName + "'");
        tasks.add(new ImmutableTaskGraph.Task(taskName, kernel, mode, n, List.copyOf(bufferNames), scalars));
        return this;
    }

    /**
     * Copies buffer {@code bufferName} back into {@code hostDst} (which must have the buffer's
     * size): after the first execution, after every execution, or only on demand through
     * {@link ExecutionResult#transferToHost(String...)}.
     */
    public TaskGraph transferToHost(TransferMode mode, String bufferName, MemorySegment hostDst) {
        Objects.requireNonNull(mode, "transfer mode");
        checkName(bufferName);
        Objects.requireNonNull(hostDst, "host destination of buffer '" + bufferName + "'");
        if (hostDst.isReadOnly()) problems.add("host destination of buffer '" + bufferName + "' is read-only");
        toHost.add(new ImmutableTaskGraph.HostTransfer(bufferName, mode, hostDst));
        return this;
    }

    /**
     * Validates and freezes the graph.
     *
     * @throws IllegalArgumentException naming the graph, task and buffer of the first problem:
     *                                  an unknown buffer name, a buffer too small for a task's
     *                                  element count, a wrong number of buffers for the kernel, a
     *                                  host destination whose size differs from its buffer's
     */
    public ImmutableTaskGraph snapshot() {
        if (!problems.isEmpty()) throw bad(problems.getFirst());
        Set<String> taskNames = new HashSet<>();
        for (ImmutableTaskGraph.Task t : tasks) {
            String where = "task '" + t.name() + "'";
            if (!taskNames.add(t.name())) throw bad("two tasks are named '" + t.name() + "'");
            if (t.n() < 0) throw bad(where + " has a negative element count " + t.n());
            int want = t.kernel().bufferCount();
            if (t.buffers().size() != want) {
                throw bad(where + ": kernel '" + t.kernel().name() + "' takes " + want + " buffers " + t.kernel().inputs()
                        + (t.kernel().usesRandom() ? " and its tensor table" : "") + ", got " + t.buffers().size() + " " + t.buffers());
            }
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < want; i++) {
                String b = t.buffers().get(i);
                ImmutableTaskGraph.Buffer buf = buffers.get(b);
                boolean table = i == t.kernel().inputs().size(); // random's tensor table (Kernel's class comment), not per element
                String role = "buffer '" + b + "' (" + (table ? "the tensor table" : "kernel input '" + t.kernel().inputs().get(i) + "'") + ")";
                if (buf == null) throw bad(where + ": unknown " + role + "; declared: " + buffers.keySet());
                if (!seen.add(b)) throw bad(where + ": " + role + " is passed twice; kernel inputs must not alias");
                if (table) continue;
                long need;
                try {
                    need = Math.multiplyExact(t.n(), (long) t.kernel().storage(i).bytes());
                } catch (ArithmeticException e) {
                    throw bad(where + ": element count " + t.n() + " is too large");
                }
                if (buf.byteSize() < need) {
                    throw bad(where + ": " + role + " has " + buf.byteSize() + " bytes but " + t.n() + " " + t.kernel().storage(i).mnemonic() + " elements need " + need);
                }
            }
        }
        Set<String> outNames = new HashSet<>();
        for (ImmutableTaskGraph.HostTransfer h : toHost) {
            ImmutableTaskGraph.Buffer buf = buffers.get(h.buffer());
            if (buf == null) throw bad("transferToHost: unknown buffer '" + h.buffer() + "'; declared: " + buffers.keySet());
            if (!outNames.add(h.buffer())) throw bad("transferToHost: buffer '" + h.buffer() + "' already has a host destination");
            if (h.destination().byteSize() != buf.byteSize()) {
                throw bad("transferToHost: buffer '" + h.buffer() + "' has " + buf.byteSize() + " bytes but its host destination has "
                        + h.destination().byteSize());
            }
        }
        return new ImmutableTaskGraph(name, List.copyOf(buffers.values()), tasks, toHost);
    }

    private void declare(ImmutableTaskGraph.Buffer b) {
        if (buffers.containsKey(b.name())) problems.add("buffer '" + b.name() + "' is declared twice");
        else buffers.put(b.name(), b);
    }

    private void checkName(String bufferName) {
        if (bufferName == null || bufferName.isBlank()) throw new IllegalArgumentException("graph '" + name + "': a buffer needs a non-blank name");
    }

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("task graph '" + name + "': " + what);
    }

    /** Buffer names declared so far, in order. */
    public List<String> bufferNames() { return List.copyOf(buffers.keySet()); }
}
