package io.nag4j.gpu.plan;

import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceTimes;
import io.nag4j.gpu.device.Driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;

/**
 * Runs one or more {@link ImmutableTaskGraph}s on one device, modelled on TornadoVM's
 * {@code TornadoExecutionPlan}. The plan owns everything it makes on the device (the context,
 * the buffers, the compiled kernels) and frees it on {@link #close()}; any use after close throws
 * {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (ExecutionPlan plan = new ExecutionPlan(graph).withDevice(driver, 0).withProfiler(true).withWarmUp()) {
 *     ExecutionResult r = plan.execute();          // copies in, launches, copies out, waits
 *     r.transferToHost("param");                  // an UNDER_DEMAND read-back
 *     System.out.println(plan.profile().toJson());
 * }
 * }</pre>
 *
 * <p>Buffers are named plan-wide: graphs that name the same buffer share its device memory (it
 * must have one size). On each {@link #execute()}, graph by graph: FIRST_EXECUTION copies in (on
 * the plan's first execution only; device-only buffers are zero-filled then), EVERY_EXECUTION
 * copies in, the tasks in order, FIRST_EXECUTION and EVERY_EXECUTION copies out; then the plan
 * waits for the device. Argument lists are built once, so an execution allocates nothing of its
 * own and looks nothing up by name.
 *
 * <p>No silent fallback: a task the device cannot run as asked (EXACT mode on a device that is
 * not bit-exact, a compile or launch failure) makes {@code execute()} throw
 * {@link TaskFailedException} naming the task and the device. Not thread-safe.
 */
public final class ExecutionPlan implements AutoCloseable {
    private final List<ImmutableTaskGraph> graphs;
    private final LinkedHashMap<String, Slot> slots = new LinkedHashMap<>();
    private final GraphRun[] runs;
    private final List<DeviceBuffer> ownBuffers = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final ExecutionResult result = new ExecutionResult(this);

    private Driver driver;
    private int deviceIndex = -1;
    private boolean profiler;
    private DeviceContext ctx;
    private DeviceInfo info;
    private String deviceLabel = "(no device)";
    private boolean prepared;
    private boolean executedOnce;
    private boolean closed;

    private long lastCompile, lastCopyIn, lastKernel, lastCopyOut, lastHost, lastLaunches, lastExecutions;
    private long totExecutions, totLaunches, totCompile, totCopyIn, totKernel, totCopyOut, totHost;

    /** A named device buffer, shared by every graph that names it. */
    private static final class Slot {
        final String name;
        final long byteSize;
        DeviceBuffer buffer;
        /** {@link #buffer}, or a caller's buffer standing in for it during {@link #executeWith}. */
        DeviceBuffer current;
        MemorySegment hostOut;

        Slot(String name, long byteSize) {
            this.name = name;
            this.byteSize = byteSize;
        }
    }

    private record CopyIn(Slot slot, MemorySegment source) {}

    private static final class TaskRun {
        final String label;
        final ImmutableTaskGraph.Task task;
        final Slot[] slots;
        final DeviceBuffer[] args;
        /** A fixed-size view of {@link #args}: swapping an array entry is seen through it. */
        final List<DeviceBuffer> argList;
        final int scalarCount;
        CompiledKernel compiled;

        TaskRun(String label, ImmutableTaskGraph.Task task, Slot[] slots) {
            this.label = label;
            this.task = task;
            this.slots = slots;
            this.args = new DeviceBuffer[slots.length];
            this.argList = Arrays.asList(args);
            this.scalarCount = task.kernel().scalars().size();
        }
    }

    private record GraphRun(CopyIn[] firstIn, CopyIn[] everyIn, TaskRun[] tasks, Slot[] firstOut, Slot[] everyOut) {}

    /**
     * A plan over {@code graphs}, run in this order on each execution.
     *
     * @throws IllegalArgumentException if no graph is given, or graphs disagree on a shared buffer
     */
    public ExecutionPlan(ImmutableTaskGraph... graphs) {
        Objects.requireNonNull(graphs, "graphs");
        if (graphs.length == 0) throw new IllegalArgumentException("an execution plan needs at least one task graph");
        this.graphs = List.of(graphs);
        this.runs = new GraphRun[graphs.length];
        LinkedHashMap<String, String> declaredIn = new LinkedHashMap<>();
        for (int g = 0; g < graphs.length; g++) {
            ImmutableTaskGraph graph = graphs[g];
            List<CopyIn> firstIn = new ArrayList<>(), everyIn = new ArrayList<>();
            for (ImmutableTaskGraph.Buffer b : graph.buffers()) {
                Slot s = slots.get(b.name());
                if (s == null) {
                    s = new Slot(b.name(), b.byteSize());
                    slots.put(b.name(), s);
                    declaredIn.put(b.name(), graph.name());
                } else if (s.byteSize != b.byteSize()) {
                    throw new IllegalArgumentException("buffer '" + b.name() + "' has " + s.byteSize + " bytes in graph '"
                            + declaredIn.get(b.name()) + "' but " + b.byteSize() + " in graph '" + graph.name() + "'");
                } else if (b.deviceOnly()) {
                    continue; // already on the device from an earlier graph: do not zero it again
                }
                MemorySegment src = b.deviceOnly() ? arena.allocate(Math.max(1, b.byteSize()), 64).asSlice(0, b.byteSize()) : b.source();
                (b.inMode() == TransferMode.EVERY_EXECUTION ? everyIn : firstIn).add(new CopyIn(s, src));
            }
            List<TaskRun> tasks = new ArrayList<>();
            for (ImmutableTaskGraph.Task t : graph.tasks()) {
                Slot[] ts = new Slot[t.buffers().size()];
                for (int i = 0; i < ts.length; i++) ts[i] = slots.get(t.buffers().get(i));
                tasks.add(new TaskRun(graph.name() + "." + t.name(), t, ts));
            }
            List<Slot> firstOut = new ArrayList<>(), everyOut = new ArrayList<>();
            for (ImmutableTaskGraph.HostTransfer h : graph.transfersToHost()) {
                Slot s = slots.get(h.buffer());
                if (s.hostOut != null && !s.hostOut.equals(h.destination())) {
                    throw new IllegalArgumentException("buffer '" + h.buffer() + "' has two different host destinations (graph '" + graph.name() + "')");
                }
                s.hostOut = h.destination();
                if (h.mode() == TransferMode.FIRST_EXECUTION) firstOut.add(s);
                else if (h.mode() == TransferMode.EVERY_EXECUTION) everyOut.add(s);
            }
            runs[g] = new GraphRun(firstIn.toArray(CopyIn[]::new), everyIn.toArray(CopyIn[]::new), tasks.toArray(TaskRun[]::new),
                    firstOut.toArray(Slot[]::new), everyOut.toArray(Slot[]::new));
        }
    }

    /** Runs on device {@code index} of {@code driver}; fixed once the device is opened (at warm-up or the first execution). */
    public ExecutionPlan withDevice(Driver driver, int index) {
        checkOpen();
        Objects.requireNonNull(driver, "driver");
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
        if (ctx != null) throw new IllegalStateException("this plan already runs on " + deviceLabel + "; make a new plan for another device");
        this.driver = driver;
        this.deviceIndex = index;
        return this;
    }

    /** Runs on the device {@code info} describes, through the {@link Drivers} registry. */
    public ExecutionPlan withDevice(DeviceInfo info) {
        Objects.requireNonNull(info, "device info");
        return withDevice(Drivers.get(info.backend()), info.index());
    }

    /** Runs on the device of {@code spec} ({@code opencl}, {@code opencl:1}, ...), through the {@link Drivers} registry. */
    public ExecutionPlan withDevice(String spec) {
        Drivers.Spec s = Drivers.parseSpec(spec);
        return withDevice(Drivers.get(s.driver()), s.index());
    }

    /** Collects the device's event times for {@link #profile()} (off by default: it costs host time). */
    public ExecutionPlan withProfiler(boolean on) {
        checkOpen();
        profiler = on;
        if (ctx != null) ctx.profile(on);
        return this;
    }

    /**
     * Opens the device, allocates every buffer and compiles every task now, so the first
     * {@link #execute()} pays none of it. Copies nothing: FIRST_EXECUTION data still moves on the
     * first execution.
     *
     * @throws TaskFailedException if a task cannot run on the device
     */
    public ExecutionPlan withWarmUp() {
        checkOpen();
        prepare();
        return this;
    }

    /**
     * Runs every graph once and waits for the device.
     *
     * @return the plan's result view, from which UNDER_DEMAND buffers are read back
     * @throws TaskFailedException      if a task cannot run on the device
     * @throws IllegalArgumentException if a task's scalar source gives the wrong number of scalars
     * @throws IllegalStateException    if the plan is closed or has no device
     */
    public ExecutionResult execute() {
        return run(null, null);
    }

    /**
     * As {@link #execute()}, with {@code external} (a buffer from {@link #allocate}) standing in
     * for buffer {@code bufferName} for this one execution; its copies in are skipped. This is how
     * data already on the device (updates a training step produced there) enters a graph.
     */
    public ExecutionResult executeWith(String bufferName, DeviceBuffer external) {
        checkOpen();
        Slot s = slot(bufferName);
        Objects.requireNonNull(external, "device buffer for '" + bufferName + "'");
        if (!ownBuffers.contains(external)) {
            throw new IllegalArgumentException("device buffer '" + external.name() + "' was not allocated by this plan (use ExecutionPlan.allocate)");
        }
        if (external.isClosed()) throw new IllegalArgumentException("device buffer '" + external.name() + "' is closed");
        if (external.byteSize() < s.byteSize) {
            throw new IllegalArgumentException("device buffer '" + external.name() + "' has " + external.byteSize()
                    + " bytes but buffer '" + bufferName + "' needs " + s.byteSize);
        }
        return run(s, external);
    }

    private ExecutionResult run(Slot override, DeviceBuffer external) {
        checkOpen();
        long start = System.nanoTime();
        lastCompile = 0;
        prepare();
        boolean first = !executedOnce;
        long launches = 0;
        if (override != null) swap(override, external);
        try {
            for (GraphRun g : runs) {
                if (first) copyIn(g.firstIn);
                copyIn(g.everyIn);
                for (TaskRun t : g.tasks) launches += launch(t);
                if (first) copyOut(g.firstOut);
                copyOut(g.everyOut);
            }
            ctx.finish();
        } catch (RuntimeException e) {
            // Let what was enqueued complete: a non-blocking copy may still read a host segment the caller reuses.
            try {
                ctx.finish();
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        } finally {
            if (override != null) swap(override, override.buffer);
        }
        executedOnce = true;
        long host = System.nanoTime() - start;
        lastExecutions = 1;
        lastLaunches = launches;
        lastHost = host;
        lastCopyIn = lastKernel = lastCopyOut = 0;
        if (profiler) addDeviceTimes(ctx.drainTimes());
        totExecutions++;
        totLaunches += launches;
        totHost += host;
        return result;
    }

    private void swap(Slot s, DeviceBuffer b) {
        s.current = b;
        for (GraphRun g : runs) {
            for (TaskRun t : g.tasks) {
                for (int i = 0; i < t.slots.length; i++) if (t.slots[i] == s) t.args[i] = b;
            }
        }
    }

    private void copyIn(CopyIn[] copies) {
        for (CopyIn c : copies) {
            Slot s = c.slot;
            if (s.current != s.buffer || s.byteSize == 0) continue; // stood in for by a caller's buffer, or empty
            ctx.copyIn(s.buffer, 0, c.source, false);
        }
    }

    private void copyOut(Slot[] outs) {
        for (Slot s : outs) if (s.byteSize > 0) ctx.copyOut(s.current, 0, s.hostOut);
    }

    private int launch(TaskRun t) {
        float[] scalars = t.task.scalars().scalars();
        if (scalars == null || scalars.length != t.scalarCount) {
            throw new IllegalArgumentException("task '" + t.label + "': kernel '" + t.task.kernel().name() + "' takes "
                    + t.scalarCount + " scalars " + t.task.kernel().scalars() + ", the scalar source gave "
                    + (scalars == null ? "null" : scalars.length));
        }
        if (t.task.n() == 0) return 0;
        try {
            ctx.launch(t.compiled, t.task.n(), t.argList, scalars);
        } catch (RuntimeException e) {
            throw new TaskFailedException(t.label, deviceLabel, "task '" + t.label + "' failed to launch on " + deviceLabel + ": " + e.getMessage(), e);
        }
        return 1;
    }

    private void openDevice() {
        if (ctx != null) return;
        if (driver == null) throw new IllegalStateException("no device chosen: call withDevice(...) before executing");
        ctx = driver.open(deviceIndex);
        info = ctx.info();
        deviceLabel = info.spec() + " (" + info.name() + ")";
        ctx.profile(profiler);
    }

    /** Opens the device, allocates the buffers and compiles the tasks, once; a failure leaves the rest to a retry. */
    private void prepare() {
        if (prepared) return;
        openDevice();
        // The host memory copied on every execution is page-locked where the driver can (CUDA): the
        // copies then go by DMA without the driver staging them. Rarely copied memory is left alone.
        for (GraphRun g : runs) {
            for (CopyIn c : g.everyIn) if (c.source.isNative()) ctx.pinHost(c.source);
            for (Slot s : g.everyOut) if (s.hostOut.isNative()) ctx.pinHost(s.hostOut);
        }
        for (Slot s : slots.values()) {
            if (s.buffer == null) {
                // Some drivers refuse empty buffers; an empty one is never copied nor launched over.
                s.buffer = ctx.allocate(s.name, Math.max(Float.BYTES, s.byteSize));
                s.current = s.buffer;
            }
        }
        for (GraphRun g : runs) {
            for (TaskRun t : g.tasks) {
                if (t.compiled != null) continue;
                Exactness.of(info).require(t.task.kernel(), t.task.mode(), t.label);
                long c0 = System.nanoTime();
                try {
                    t.compiled = ctx.compile(t.task.kernel(), t.task.mode());
                } catch (RuntimeException e) {
                    throw new TaskFailedException(t.label, deviceLabel, "task '" + t.label + "' cannot compile on " + deviceLabel + ": " + e.getMessage(), e);
                } finally {
                    long c = System.nanoTime() - c0;
                    lastCompile += c;
                    totCompile += c;
                }
                for (int i = 0; i < t.slots.length; i++) t.args[i] = t.slots[i].buffer;
            }
        }
        prepared = true;
    }

    private void addDeviceTimes(DeviceTimes d) {
        lastCopyIn += d.copyInNanos();
        lastKernel += d.kernelNanos();
        lastCopyOut += d.copyOutNanos();
        totCopyIn += d.copyInNanos();
        totKernel += d.kernelNanos();
        totCopyOut += d.copyOutNanos();
    }

    /**
     * Device memory of {@code bytes} bytes on the plan's device (opening it if need be), owned and
     * freed by the plan: for {@link #executeWith}.
     */
    public DeviceBuffer allocate(String name, long bytes) {
        checkOpen();
        if (bytes <= 0) throw new IllegalArgumentException("device buffer '" + name + "' needs a positive size, got " + bytes);
        openDevice();
        DeviceBuffer b = ctx.allocate(name, bytes);
        ownBuffers.add(b);
        return b;
    }

    /** Blocking copy of {@code src} into {@code dst} (a buffer from {@link #allocate}) at {@code dstOffsetBytes}. */
    public void copyToDevice(DeviceBuffer dst, long dstOffsetBytes, MemorySegment src) {
        checkOpen();
        Objects.requireNonNull(dst, "device buffer");
        Objects.requireNonNull(src, "source");
        if (!ownBuffers.contains(dst)) throw new IllegalArgumentException("device buffer '" + dst.name() + "' was not allocated by this plan");
        if (dstOffsetBytes < 0 || dstOffsetBytes + src.byteSize() > dst.byteSize()) {
            throw new IllegalArgumentException("copy of " + src.byteSize() + " bytes at offset " + dstOffsetBytes
                    + " does not fit device buffer '" + dst.name() + "' of " + dst.byteSize() + " bytes");
        }
        if (src.byteSize() > 0) ctx.copyIn(dst, dstOffsetBytes, src, true);
    }

    /** Copies buffer {@code name} into its registered host destination. */
    void readBack(String name) {
        checkOpen();
        Slot s = slot(name);
        if (s.hostOut == null) {
            throw new IllegalArgumentException("buffer '" + name + "' has no host destination (TaskGraph.transferToHost); use readInto");
        }
        readInto(s, 0, s.hostOut);
    }

    /** Copies {@code dst.byteSize()} bytes of buffer {@code name}, from {@code offsetBytes} on, into {@code dst}. */
    void readInto(String name, long offsetBytes, MemorySegment dst) {
        checkOpen();
        Objects.requireNonNull(dst, "destination");
        Slot s = slot(name);
        if (dst.isReadOnly()) throw new IllegalArgumentException("destination for buffer '" + name + "' is read-only");
        if (offsetBytes < 0 || offsetBytes > s.byteSize || dst.byteSize() > s.byteSize - offsetBytes) {
            throw new IllegalArgumentException("reading " + dst.byteSize() + " bytes at offset " + offsetBytes + " from buffer '"
                    + name + "' of " + s.byteSize + " bytes is out of range");
        }
        readInto(s, offsetBytes, dst);
    }

    private void readInto(Slot s, long offsetBytes, MemorySegment dst) {
        if (!executedOnce) throw new IllegalStateException("buffer '" + s.name + "' holds nothing yet: the plan has not executed");
        if (dst.byteSize() == 0) return;
        ctx.copyOut(s.buffer, offsetBytes, dst);
        if (profiler) addDeviceTimes(ctx.drainTimes());
    }

    private Slot slot(String name) {
        Slot s = name == null ? null : slots.get(name);
        if (s == null) throw new IllegalArgumentException("no buffer named '" + name + "' in this plan; have " + slots.keySet());
        return s;
    }

    /** Times of the last execution (and the UNDER_DEMAND reads since). */
    public Profile profile() {
        checkOpen();
        return new Profile(deviceLabel, lastExecutions, lastLaunches, profiler, lastCompile, lastCopyIn, lastKernel, lastCopyOut, lastHost);
    }

    /** Times summed over every execution so far, warm-up compile included. */
    public Profile totalProfile() {
        checkOpen();
        return new Profile(deviceLabel, totExecutions, totLaunches, profiler, totCompile, totCopyIn, totKernel, totCopyOut, totHost);
    }

    /** The device, once opened (at warm-up or the first execution); else null. */
    public DeviceInfo device() { return info; }

    /** The graphs, in execution order. */
    public List<ImmutableTaskGraph> graphs() { return graphs; }

    public boolean isClosed() { return closed; }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the execution plan is closed");
    }

    /** Frees the buffers, the compiled kernels and the device context; idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = null;
        List<AutoCloseable> toClose = new ArrayList<>(ownBuffers);
        for (Slot s : slots.values()) if (s.buffer != null) toClose.add(s.buffer);
        if (ctx != null) toClose.add(ctx);
        toClose.add(arena::close);
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("closing the execution plan on " + deviceLabel + " failed", e);
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
