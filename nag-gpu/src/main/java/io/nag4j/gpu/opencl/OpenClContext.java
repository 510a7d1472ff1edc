package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceTimes;
import io.nag4j.gpu.device.DeviceUnavailableException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An OpenCL context with one in-order, profiling-enabled queue on one device. Owns every buffer
 * and program it creates and releases them on {@link #close()}. Launches and copies reuse
 * preallocated argument segments, so the hot path allocates no native memory.
 */
public final class OpenClContext implements DeviceContext {
    /** Work-items are launched in multiples of this; the kernel's bounds check drops the excess. */
    static final long GLOBAL_ROUNDING = 64;

    private static final int COPY_IN = 0, KERNEL = 1, COPY_OUT = 2;

    private final OpenCl cl;
    private final OpenClDriver.OpenClDevice device;
    private final ProgramCache diskCache;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment context, queue;
    // Preallocated argument memory for the hot path.
    private final MemorySegment argValue, globalSize, eventOut, eventScratch;
    private final Map<String, OpenClKernel.Program> programs = new HashMap<>();
    private final Set<OpenClBuffer> buffers = new LinkedHashSet<>();
    private boolean closed;

    private boolean profiling;
    private MemorySegment[] pendingEvents = new MemorySegment[16];
    private int[] pendingKinds = new int[16];
    private int pending;
    private long copyInNanos, kernelNanos, copyOutNanos;
    private int launches;

    OpenClContext(OpenCl cl, OpenClDriver.OpenClDevice device, ProgramCache diskCache) {
        this.cl = cl;
        this.device = device;
        this.diskCache = diskCache;
        MemorySegment ctx = null, q;
        try {
            ctx = cl.createContext(device.device());
            q = cl.createProfilingQueue(ctx, device.device(), device.openCl2());
        } catch (RuntimeException e) {
            if (ctx != null) cl.releaseContext(ctx);
            arena.close();
            throw e;
        }
        this.context = ctx;
        this.queue = q;
        this.argValue = arena.allocate(8, 8);
        this.globalSize = arena.allocate(8, 8);
        this.eventOut = arena.allocate(ADDRESS);
        this.eventScratch = arena.allocate(8, 8);
    }

    @Override
    public DeviceInfo info() { return device.info(); }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() { return closed; }

    /** The on-disk program cache this context reads and writes. */
    public ProgramCache diskCache() { return diskCache; }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("OpenCL context on " + device.info().spec() + " (" + device.info().name() + ") is closed");
    }

    // ---------------------------------------------------------------- memory

    @Override
    public DeviceBuffer allocate(String name, long bytes) {
        checkOpen();
        Objects.requireNonNull(name, "name");
        if (bytes <= 0) throw new IllegalArgumentException("device buffer '" + name + "': size must be positive, got " + bytes);
        OpenClBuffer b = new OpenClBuffer(this, name, bytes, cl.createBuffer(context, bytes));
        buffers.add(b);
        return b;
    }

    void forget(OpenClBuffer b) {
        buffers.remove(b);
        b.release(cl);
    }

    private OpenClBuffer own(DeviceBuffer b, String role) {
        Objects.requireNonNull(b, role);
        if (!(b instanceof OpenClBuffer ob) || ob.owner() != this) {
            throw new IllegalArgumentException(role + " '" + b.name() + "' does not belong to this OpenCL context");
        }
        return ob;
    }

    @Override
    public void copyIn(DeviceBuffer dst, long dstOffsetBytes, MemorySegment src, boolean blocking) {
        checkOpen();
        OpenClBuffer b = own(dst, "copyIn destination");
        MemorySegment mem = b.mem();
        long bytes = src.byteSize();
        checkRange(b, dstOffsetBytes, bytes);
        if (!blocking && !src.isNative()) {
            throw new IllegalArgumentException("non-blocking copyIn to '" + b.name() + "' needs native memory (the device reads it later), got a heap segment");
        }
        if (bytes == 0) return;
        cl.enqueueWrite(queue, mem, blocking, dstOffsetBytes, bytes, src, eventTarget());
        recordEvent(COPY_IN);
    }

    @Override
    public void copyOut(DeviceBuffer src, long srcOffsetBytes, MemorySegment dst) {
        checkOpen();
        OpenClBuffer b = own(src, "copyOut source");
        MemorySegment mem = b.mem();
        long bytes = dst.byteSize();
        checkRange(b, srcOffsetBytes, bytes);
        if (dst.isReadOnly()) throw new IllegalArgumentException("copyOut from '" + b.name() + "': destination segment is read-only");
        if (bytes == 0) return;
        cl.enqueueRead(queue, mem, true, srcOffsetBytes, bytes, dst, eventTarget());
        recordEvent(COPY_OUT);
        collectEvents();
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffsetBytes, DeviceBuffer dst, long dstOffsetBytes, long bytes) {
        checkOpen();
        OpenClBuffer s = own(src, "copy source"), d = own(dst, "copy destination");
        checkRange(s, srcOffsetBytes, bytes);
        checkRange(d, dstOffsetBytes, bytes);
        DeviceContext.checkNoOverlap(s, srcOffsetBytes, d, dstOffsetBytes, bytes);
        if (bytes == 0) return;
        cl.enqueueCopy(queue, s.mem(), d.mem(), srcOffsetBytes, dstOffsetBytes, bytes, eventTarget());
        recordEvent(COPY_IN); // device-side copy time is reported with the copies in
    }

    private static void checkRange(OpenClBuffer b, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset > b.byteSize() - bytes) {
            throw new IllegalArgumentException("device buffer '" + b.name() + "' (" + b.byteSize() + " bytes): range ["
                    + offset + ", " + offset + " + " + bytes + ") is out of bounds");
        }
    }

    // ---------------------------------------------------------------- compile

    @Override
    public CompiledKernel compile(Kernel kernel, Mode mode) {
        checkOpen();
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(mode, "mode");
        String source = OpenClRenderer.render(kernel, mode);
        String options = OpenClRenderer.buildOptions(mode);
        String key = ProgramCache.key(kernel, source, device.identity(), mode, options);

        OpenClKernel.Program hit = programs.get(key);
        if (hit != null) return new OpenClKernel(kernel, mode, source, 0, true, hit);

        long t0 = System.nanoTime();
        String name = OpenClRenderer.kernelName(kernel);
        OpenClKernel.Program p = null;
        Optional<byte[]> binary = diskCache.load(key);
        if (binary.isPresent()) {
            try {
                p = fromBinary(binary.get(), options, name, kernel);
            } catch (OpenClException e) {
                diskCache.remove(key); // refused (driver update, corrupt file): compile from source below
            }
        }
        if (p == null) {
            p = buildSource(source, options, name, kernel);
            try {
                diskCache.store(key, cl.programBinary(p.program()));
            } catch (RuntimeException e) {
                // A driver that cannot hand out the binary only loses the disk cache: the program is built and kept.
            }
        }
        programs.put(key, p);
        return new OpenClKernel(kernel, mode, source, System.nanoTime() - t0, p.fromDisk(), p);
    }

    /** Compiles OpenCL C {@code source} and creates kernel {@code kernelName} (not cached; for tests and tools too). */
    OpenClKernel.Program buildSource(String source, String options, String kernelName) {
        return buildSource(source, options, kernelName, new Kernel(kernelName, List.of(), List.of(), List.of(), List.of()));
    }

    private OpenClKernel.Program buildSource(String source, String options, String kernelName, Kernel ir) {
        checkOpen();
        MemorySegment program = cl.createProgramWithSource(context, source);
        try {
            cl.buildProgram(program, device.device(), options);
            return new OpenClKernel.Program(this, program, cl.createKernel(program, kernelName), false, ir);
        } catch (RuntimeException e) {
            cl.releaseProgram(program);
            throw e;
        }
    }

    private OpenClKernel.Program fromBinary(byte[] binary, String options, String kernelName, Kernel ir) {
        MemorySegment program = cl.createProgramWithBinary(context, device.device(), binary);
        try {
            cl.buildProgram(program, device.device(), options);
            return new OpenClKernel.Program(this, program, cl.createKernel(program, kernelName), true, ir);
        } catch (RuntimeException e) {
            cl.releaseProgram(program);
            throw e;
        }
    }

    // ---------------------------------------------------------------- launch

    @Override
    public void launch(CompiledKernel compiled, long n, List<DeviceBuffer> bufs, float[] scalars) {
        checkOpen();
        Objects.requireNonNull(compiled, "kernel");
        if (!(compiled instanceof OpenClKernel ok) || ok.program().owner() != this) {
            throw new IllegalArgumentException("kernel " + compiled + " was not compiled by this OpenCL context");
        }
        Kernel k = ok.kernel();
        if (n < 0) throw new IllegalArgumentException("element count must be >= 0, got " + n);
        if (bufs.size() != k.inputs().size()) {
            throw new IllegalArgumentException("kernel " + k.name() + " takes " + k.inputs().size() + " buffers " + k.inputs() + ", got " + bufs.size());
        }
        if (scalars.length != k.scalars().size()) {
            throw new IllegalArgumentException("kernel " + k.name() + " takes " + k.scalars().size() + " scalars " + k.scalars() + ", got " + scalars.length);
        }
        for (int i = 0; i < bufs.size(); i++) {
            // Checked inline, not through own(), so the hot path builds no message strings.
            DeviceBuffer db = bufs.get(i);
            if (!(db instanceof OpenClBuffer b) || b.owner() != this) {
                own(db, "buffer for input '" + k.inputs().get(i) + "'");
                throw new AssertionError("unreachable");
            }
            b.mem();
            if (b.byteSize() / Float.BYTES < n) {
                throw new IllegalArgumentException("buffer '" + b.name() + "' for input '" + k.inputs().get(i) + "' holds "
                        + b.byteSize() / Float.BYTES + " floats, launch needs " + n);
            }
        }
        launches++;
        if (n == 0) return;
        MemorySegment kh = ok.program().kernel();
        long[] last = ok.program().lastArgs();
        // Arguments stay set on the cl_kernel between launches: set only those that changed.
        if (last[0] != n) {
            argValue.set(JAVA_LONG, 0, n);
            last[0] = -1; // unknown until the call succeeds
            cl.setKernelArg(kh, 0, 8, argValue);
            last[0] = n;
        }
        int arg = 1;
        for (int i = 0; i < bufs.size(); i++, arg++) {
            MemorySegment mem = ((OpenClBuffer) bufs.get(i)).mem();
            if (last[arg] != mem.address()) {
                argValue.set(ADDRESS, 0, mem);
                last[arg] = -1;
                cl.setKernelArg(kh, arg, ADDRESS.byteSize(), argValue);
                last[arg] = mem.address();
            }
        }
        for (float s : scalars) {
            long bits = Float.floatToRawIntBits(s) & 0xffffffffL;
            if (last[arg] != bits) {
                argValue.set(JAVA_FLOAT, 0, s);
                last[arg] = -1;
                cl.setKernelArg(kh, arg, 4, argValue);
                last[arg] = bits;
            }
            arg++;
        }
        globalSize.set(JAVA_LONG, 0, (n + GLOBAL_ROUNDING - 1) / GLOBAL_ROUNDING * GLOBAL_ROUNDING);
        cl.enqueueNDRange(queue, kh, globalSize, eventTarget());
        recordEvent(KERNEL);
    }

    @Override
    public void finish() {
        checkOpen();
        cl.finish(queue);
        collectEvents();
    }

    // ---------------------------------------------------------------- profiling

    @Override
    public void profile(boolean on) {
        checkOpen();
        profiling = on;
    }

    @Override
    public DeviceTimes drainTimes() {
        checkOpen();
        collectEvents();
        DeviceTimes t = new DeviceTimes(copyInNanos, kernelNanos, copyOutNanos, launches);
        copyInNanos = kernelNanos = copyOutNanos = 0;
        launches = 0;
        return t;
    }

    private MemorySegment eventTarget() {
        return profiling ? eventOut : MemorySegment.NULL;
    }

    private void recordEvent(int kind) {
        if (!profiling) return;
        if (pending == pendingEvents.length) {
            pendingEvents = java.util.Arrays.copyOf(pendingEvents, pending * 2);
            pendingKinds = java.util.Arrays.copyOf(pendingKinds, pending * 2);
        }
        pendingEvents[pending] = eventOut.get(ADDRESS, 0);
        pendingKinds[pending++] = kind;
    }

    /** Waits for the recorded events, adds their durations, releases them. */
    private void collectEvents() {
        for (int i = 0; i < pending; i++) {
            MemorySegment ev = pendingEvents[i];
            try {
                eventScratch.set(ADDRESS, 0, ev);
                cl.waitForEvents(1, eventScratch);
                long ns = cl.eventNanos(ev, eventScratch);
                switch (pendingKinds[i]) {
                    case COPY_IN -> copyInNanos += ns;
                    case KERNEL -> kernelNanos += ns;
                    default -> copyOutNanos += ns;
                }
            } finally {
                cl.releaseEvent(ev);
                pendingEvents[i] = null;
            }
        }
        pending = 0;
    }

    // ---------------------------------------------------------------- close

    @Override
    public void close() {
        if (closed) return;
        List<RuntimeException> errors = new ArrayList<>();
        run(errors, () -> cl.finish(queue));
        for (int i = 0; i < pending; i++) {
            MemorySegment ev = pendingEvents[i];
            run(errors, () -> cl.releaseEvent(ev));
        }
        pending = 0;
        closed = true;
        for (OpenClKernel.Program p : programs.values()) {
            run(errors, () -> cl.releaseKernel(p.kernel()));
            run(errors, () -> cl.releaseProgram(p.program()));
        }
        programs.clear();
        for (OpenClBuffer b : buffers) run(errors, () -> b.release(cl));
        buffers.clear();
        run(errors, () -> cl.releaseQueue(queue));
        run(errors, () -> cl.releaseContext(context));
        arena.close();
        if (!errors.isEmpty()) {
            RuntimeException first = errors.getFirst();
            for (int i = 1; i < errors.size(); i++) first.addSuppressed(errors.get(i));
            throw first;
        }
    }

    private static void run(List<RuntimeException> errors, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            errors.add(e);
        }
    }

    @Override
    public String toString() {
        return "OpenClContext[" + device.info().spec() + " " + device.info().name() + (closed ? ", closed" : "") + "]";
    }
}
