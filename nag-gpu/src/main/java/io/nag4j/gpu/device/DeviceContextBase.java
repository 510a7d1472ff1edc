package io.nag4j.gpu.device;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The one implementation of the {@link DeviceContext} contract that every driver shares; a driver
 * (OpenCL, CUDA, the tests' fakes) writes only the native calls. The contract:
 *
 * <ul>
 *   <li>Ownership: buffers and compiled kernels belong to the context that made them; handing one
 *       to another context is an {@link IllegalArgumentException} naming it. Closing the context
 *       frees everything it made; a closed context, or a closed buffer, throws
 *       {@link IllegalStateException} on use, never crashes. Closing twice does nothing.</li>
 *   <li>Sizes: a buffer of 0 bytes is allowed (nothing is allocated; 0-byte copies and 0-element
 *       launches are validated and then do nothing); a negative size is refused.</li>
 *   <li>Ranges: every copy is checked against its buffers before anything is enqueued; the message
 *       names the buffer, its size and the range.</li>
 *   <li>Copies in: a non-blocking copy from the Java heap is safe (the driver stages it, or copies
 *       it blocking, since the collector may move the array before the device reads it).</li>
 *   <li>Launches: the kernel, the buffer count, the scalar count and each buffer's size against
 *       {@code n} are checked before anything is enqueued, without allocating; a launch of
 *       {@code n = 0} enqueues nothing and is not counted in {@link DeviceTimes#launches()}.</li>
 *   <li>Compiles: one per (IR hash, mode) per context; later calls return the same program marked
 *       {@linkplain CompiledKernel#cached() cached}.</li>
 *   <li>Times: launches are always counted; device times only while {@linkplain #profile profiling}.</li>
 *   <li>Close: waits for the queue, then releases programs, buffers and the driver's own objects,
 *       continuing past failures and throwing the first (the rest suppressed).</li>
 * </ul>
 *
 * @param <M> the driver's handle of device memory
 * @param <P> the driver's handle of a compiled program
 */
public abstract class DeviceContextBase<M, P> implements DeviceContext {
    /** What a recorded device time was spent on. */
    protected enum TimeKind { COPY_IN, KERNEL, COPY_OUT }

    private final DeviceInfo info;
    private final String driver;
    private final Set<Buffer<M>> buffers = new LinkedHashSet<>();
    private final Map<String, Compiled<P>> compiled = new HashMap<>();
    private boolean closed, profiling;
    private long copyInNanos, kernelNanos, copyOutNanos;
    private int launches;

    /** @param driver the driver as messages name it: {@code OpenCL}, {@code CUDA} */
    protected DeviceContextBase(DeviceInfo info, String driver) {
        this.info = Objects.requireNonNull(info, "info");
        this.driver = driver;
    }

    // ---------------------------------------------------------------- what a driver writes

    /** Device memory of {@code bytes > 0} bytes. */
    protected abstract M allocateMemory(String name, long bytes);

    /** Frees what {@link #allocateMemory} returned. */
    protected abstract void freeMemory(M memory);

    /**
     * Renders and compiles {@code kernel}; {@link #compiled} makes the result. Throws with the
     * compiler's log and the generated source when the driver refuses it.
     */
    protected abstract Compiled<P> compileProgram(Kernel kernel, Mode mode);

    /** Releases a program {@link #compileProgram} made. */
    protected abstract void releaseProgram(P program);

    /** Enqueues {@code src.byteSize() > 0} bytes into {@code dst} at {@code offset} (checked); a heap {@code src} must not be read after return. */
    protected abstract void copyInMemory(M dst, long offset, MemorySegment src, boolean blocking);

    /** Copies {@code dst.byteSize() > 0} bytes out of {@code src} at {@code offset} (checked), blocking. */
    protected abstract void copyOutMemory(M src, long offset, MemorySegment dst);

    /** Enqueues a device-side copy of {@code bytes > 0} bytes (checked, not overlapping). */
    protected abstract void copyMemory(M src, long srcOffset, M dst, long dstOffset, long bytes);

    /**
     * Enqueues one launch of {@code n > 0} elements; everything is checked. Reads each buffer's
     * handle with {@link #memory(DeviceBuffer)}; should not allocate (it is the hot path).
     */
    protected abstract void launchProgram(P program, Kernel kernel, long n, List<DeviceBuffer> buffers, float[] scalars);

    /** Waits for everything enqueued. */
    protected abstract void finishQueue();

    /** Adds the device times of finished work recorded while profiling ({@link #addTime}). */
    protected void collectTimes() {}

    /** Releases the driver's own objects (events, queue, context) on close, adding failures to {@code errors}. */
    protected abstract void closeDriver(List<RuntimeException> errors);

    /** Makes this context current for the calling thread before a driver call (CUDA); nothing by default. */
    protected void makeCurrent() {}

    // ---------------------------------------------------------------- for drivers

    /** Whether device times are being recorded. */
    protected final boolean profiling() { return profiling; }

    /** Adds a device time recorded while profiling. */
    protected final void addTime(TimeKind kind, long nanos) {
        switch (kind) {
            case COPY_IN -> copyInNanos += nanos;
            case KERNEL -> kernelNanos += nanos;
            case COPY_OUT -> copyOutNanos += nanos;
        }
    }

    /** A compiled kernel of this context holding the driver's {@code program}. */
    protected final Compiled<P> compiled(Kernel kernel, Mode mode, String source, long compileNanos, boolean fromCache, String log, P program) {
        return new Compiled<>(this, kernel, mode, source, compileNanos, fromCache, log, program);
    }

    /** The handle of a buffer already checked to be this context's and open (as in {@link #launchProgram}); 0-byte buffers have null. */
    @SuppressWarnings("unchecked")
    protected final M memory(DeviceBuffer b) {
        return ((Buffer<M>) b).memory;
    }

    /** Throws if closed; else makes the context current. */
    protected final void checkOpen() {
        if (closed) throw new IllegalStateException(driver + " context on " + info.spec() + " (" + info.name() + ") is closed");
        makeCurrent();
    }

    // ---------------------------------------------------------------- the contract

    @Override public final DeviceInfo info() { return info; }

    public final boolean isClosed() { return closed; }

    @Override
    public final DeviceBuffer allocate(String name, long bytes) {
        Objects.requireNonNull(name, "name");
        checkOpen();
        if (bytes < 0) throw new IllegalArgumentException("device buffer '" + name + "': size must be >= 0, got " + bytes);
        Buffer<M> b = new Buffer<>(this, name, bytes, bytes == 0 ? null : allocateMemory(name, bytes));
        buffers.add(b);
        return b;
    }

    @Override
    public final CompiledKernel compile(Kernel kernel, Mode mode) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(mode, "mode");
        checkOpen();
        String key = kernel.hash() + "/" + mode;
        Compiled<P> hit = compiled.get(key);
        if (hit != null) return hit.asCached();
        Compiled<P> k = compileProgram(kernel, mode);
        compiled.put(key, k);
        return k;
    }

    @Override
    public final void copyIn(DeviceBuffer dst, long dstOffsetBytes, MemorySegment src, boolean blocking) {
        checkOpen();
        Buffer<M> b = own(dst, "copyIn destination");
        long bytes = src.byteSize();
        checkRange(b, dstOffsetBytes, bytes, "copyIn");
        if (bytes > 0) copyInMemory(b.memory, dstOffsetBytes, src, blocking);
    }

    @Override
    public final void copyOut(DeviceBuffer src, long srcOffsetBytes, MemorySegment dst) {
        checkOpen();
        Buffer<M> b = own(src, "copyOut source");
        if (dst.isReadOnly()) throw new IllegalArgumentException("copyOut from '" + b.name + "': the destination segment is read-only");
        long bytes = dst.byteSize();
        checkRange(b, srcOffsetBytes, bytes, "copyOut");
        if (bytes > 0) copyOutMemory(b.memory, srcOffsetBytes, dst);
    }

    @Override
    public final void copy(DeviceBuffer src, long srcOffsetBytes, DeviceBuffer dst, long dstOffsetBytes, long bytes) {
        checkOpen();
        Buffer<M> s = own(src, "copy source"), d = own(dst, "copy destination");
        checkRange(s, srcOffsetBytes, bytes, "copy from");
        checkRange(d, dstOffsetBytes, bytes, "copy to");
        DeviceContext.checkNoOverlap(s, srcOffsetBytes, d, dstOffsetBytes, bytes);
        if (bytes > 0) copyMemory(s.memory, srcOffsetBytes, d.memory, dstOffsetBytes, bytes);
    }

    @Override
    public final void launch(CompiledKernel kernel, long n, List<DeviceBuffer> args, float[] scalars) {
        checkOpen();
        Objects.requireNonNull(kernel, "kernel");
        if (!(kernel instanceof Compiled<?> c) || c.owner != this) {
            throw new IllegalArgumentException("kernel " + kernel + " was not compiled by this " + driver + " context");
        }
        Kernel k = c.kernel;
        if (n < 0) throw new IllegalArgumentException("kernel '" + k.name() + "': element count must be >= 0, got " + n);
        if (args.size() != k.bufferCount()) {
            throw new IllegalArgumentException("kernel '" + k.name() + "' takes " + k.bufferCount() + " buffers " + k.inputs()
                    + (k.usesRandom() ? " and its tensor table" : "") + ", got " + args.size());
        }
        if (scalars.length != k.scalars().size()) {
            throw new IllegalArgumentException("kernel '" + k.name() + "' takes " + k.scalars().size() + " scalars " + k.scalars() + ", got " + scalars.length);
        }
        for (int i = 0; i < args.size(); i++) {
            DeviceBuffer db = args.get(i);
            // Checked inline, not through own(), so the hot path builds no message strings.
            boolean table = i == k.inputs().size(); // random's tensor table (Kernel's class comment): not per element
            if (!(db instanceof Buffer<?> b) || b.owner != this || b.closed) {
                own(db, table ? "the tensor table" : "buffer for input '" + k.inputs().get(i) + "'");
                throw new AssertionError("unreachable");
            }
            if (table) {
                if (b.byteSize < 8) throw new IllegalArgumentException("kernel '" + k.name() + "': the tensor table '" + b.name + "' holds no count");
            } else if (b.byteSize / k.storage(i).bytes() < n) {
                throw new IllegalArgumentException("kernel '" + k.name() + "' input '" + k.inputs().get(i) + "': buffer '" + b.name + "' holds "
                        + b.byteSize / k.storage(i).bytes() + " " + k.storage(i).mnemonic() + " elements, the launch needs " + n);
            }
        }
        if (n == 0) return;
        @SuppressWarnings("unchecked") P program = ((Compiled<P>) c).program;
        launchProgram(program, k, n, args, scalars);
        launches++;
    }

    @Override
    public final void finish() {
        checkOpen();
        finishQueue();
    }

    @Override
    public final void profile(boolean on) {
        checkOpen();
        profiling = on;
    }

    @Override
    public final DeviceTimes drainTimes() {
        checkOpen();
        collectTimes();
        DeviceTimes t = new DeviceTimes(copyInNanos, kernelNanos, copyOutNanos, launches);
        copyInNanos = kernelNanos = copyOutNanos = 0;
        launches = 0;
        return t;
    }

    @Override
    public final void close() {
        if (closed) return;
        List<RuntimeException> errors = new ArrayList<>();
        run(errors, () -> {
            makeCurrent();
            finishQueue();
        });
        closed = true;
        for (Compiled<P> k : compiled.values()) run(errors, () -> releaseProgram(k.program));
        compiled.clear();
        for (Buffer<M> b : buffers) {
            b.closed = true;
            if (b.memory != null) run(errors, () -> freeMemory(b.memory));
        }
        buffers.clear();
        closeDriver(errors);
        if (!errors.isEmpty()) {
            RuntimeException first = errors.getFirst();
            for (int i = 1; i < errors.size(); i++) first.addSuppressed(errors.get(i));
            throw first;
        }
    }

    /** Runs {@code r}, adding a failure to {@code errors} (for {@link #closeDriver}). */
    protected static void run(List<RuntimeException> errors, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            errors.add(e);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + info.spec() + " " + info.name() + (closed ? ", closed" : "") + "]";
    }

    // ---------------------------------------------------------------- checks

    private Buffer<M> own(DeviceBuffer b, String role) {
        Objects.requireNonNull(b, role);
        if (!(b instanceof Buffer<?> buf) || buf.owner != this) {
            throw new IllegalArgumentException(role + " '" + b.name() + "' does not belong to this " + driver + " context");
        }
        if (buf.closed) throw new IllegalStateException(role + ": device buffer '" + buf.name + "' is closed");
        @SuppressWarnings("unchecked") Buffer<M> mine = (Buffer<M>) buf;
        return mine;
    }

    private static void checkRange(Buffer<?> b, long offset, long bytes, String what) {
        if (offset < 0 || bytes < 0 || offset > b.byteSize - bytes) {
            throw new IllegalArgumentException(what + ": device buffer '" + b.name + "' (" + b.byteSize + " bytes): range ["
                    + offset + ", " + offset + " + " + bytes + ") is out of bounds");
        }
    }

    private void free(Buffer<M> b) {
        if (closed || !buffers.remove(b)) return; // the context already freed it
        makeCurrent();
        if (b.memory != null) freeMemory(b.memory);
    }

    /** Device memory of one context; closing frees it, use after close throws. */
    public static final class Buffer<M> implements DeviceBuffer {
        private final DeviceContextBase<M, ?> owner;
        private final String name;
        private final long byteSize;
        private final M memory;
        private boolean closed;

        private Buffer(DeviceContextBase<M, ?> owner, String name, long byteSize, M memory) {
            this.owner = owner;
            this.name = name;
            this.byteSize = byteSize;
            this.memory = memory;
        }

        @Override public String name() { return name; }
        @Override public long byteSize() { return byteSize; }
        @Override public boolean isClosed() { return closed || owner.closed; }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            owner.free(this);
        }

        @Override
        public String toString() { return "DeviceBuffer[" + name + ", " + byteSize + " bytes" + (isClosed() ? ", closed" : "") + "]"; }
    }

    /** A kernel compiled by one context. */
    public static final class Compiled<P> implements CompiledKernel {
        private final DeviceContextBase<?, P> owner;
        private final Kernel kernel;
        private final Mode mode;
        private final String source;
        private final long compileNanos;
        private final boolean cached;
        private final String log;
        private final P program;

        private Compiled(DeviceContextBase<?, P> owner, Kernel kernel, Mode mode, String source, long compileNanos, boolean cached, String log, P program) {
            this.owner = owner;
            this.kernel = kernel;
            this.mode = mode;
            this.source = source;
            this.compileNanos = compileNanos;
            this.cached = cached;
            this.log = log == null ? "" : log;
            this.program = program;
        }

        private Compiled<P> asCached() { return new Compiled<>(owner, kernel, mode, source, 0, true, log, program); }

        @Override public Kernel kernel() { return kernel; }
        @Override public Mode mode() { return mode; }
        @Override public String source() { return source; }
        @Override public long compileNanos() { return compileNanos; }
        @Override public boolean cached() { return cached; }
        @Override public String compileLog() { return log; }

        @Override
        public String toString() { return "CompiledKernel[" + kernel.name() + ", " + mode + (cached ? ", cached" : "") + "]"; }
    }
}
