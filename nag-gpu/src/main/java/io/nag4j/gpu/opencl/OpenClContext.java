package io.nag4j.gpu.opencl;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContextBase;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An OpenCL context with one in-order, profiling-enabled queue on one device: the native calls
 * behind {@link DeviceContextBase}, which holds the contract (ownership, checks, close). Launches
 * and copies reuse preallocated argument segments, so the hot path allocates no native memory.
 */
public final class OpenClContext extends DeviceContextBase<MemorySegment, OpenClContext.Program> {
    /** Work-items are launched in multiples of this; the kernel's bounds check drops the excess. */
    static final long GLOBAL_ROUNDING = 64;

    /**
     * A built program and its kernel. {@code lastArgs} remembers the argument values last set on
     * the {@code cl_kernel} (n, buffer addresses, scalar bits as unsigned ints; -1 where unknown),
     * so a launch re-sets only what changed.
     */
    record Program(MemorySegment program, MemorySegment kernel, boolean fromDisk, long[] lastArgs) {
        Program(MemorySegment program, MemorySegment kernel, boolean fromDisk, Kernel ir) {
            this(program, kernel, fromDisk, newArgs(ir));
        }

        private static long[] newArgs(Kernel ir) {
            long[] a = new long[1 + ir.bufferCount() + ir.scalars().size()];
            java.util.Arrays.fill(a, -1);
            return a;
        }
    }

    private final OpenCl cl;
    private final OpenClDriver.OpenClDevice device;
    private final ProgramCache diskCache;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment context, queue;
    // Preallocated argument memory for the hot path.
    private final MemorySegment argValue, globalSize, eventOut, eventScratch;

    private MemorySegment[] pendingEvents = new MemorySegment[16];
    private TimeKind[] pendingKinds = new TimeKind[16];
    private int pending;
    /** How a built program's binary is fetched for the disk cache (tests make it fail, as some drivers do). */
    java.util.function.Function<MemorySegment, byte[]> programBinary;

    OpenClContext(OpenCl cl, OpenClDriver.OpenClDevice device, ProgramCache diskCache) {
        super(device.info(), "OpenCL");
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
        this.programBinary = cl::programBinary;
    }

    /** The on-disk program cache this context uses. */
    public ProgramCache diskCache() { return diskCache; }

    // ---------------------------------------------------------------- memory

    @Override
    protected MemorySegment allocateMemory(String name, long bytes) {
        return cl.createBuffer(context, bytes);
    }

    @Override
    protected void freeMemory(MemorySegment mem) {
        cl.releaseMem(mem);
    }

    @Override
    protected void copyInMemory(MemorySegment mem, long offset, MemorySegment src, boolean blocking) {
        // A heap array may move before the device reads it: copy it blocking.
        cl.enqueueWrite(queue, mem, blocking || !src.isNative(), offset, src.byteSize(), src, eventTarget());
        recordEvent(TimeKind.COPY_IN);
    }

    @Override
    protected void copyOutMemory(MemorySegment mem, long offset, MemorySegment dst) {
        cl.enqueueRead(queue, mem, true, offset, dst.byteSize(), dst, eventTarget());
        recordEvent(TimeKind.COPY_OUT);
        collectTimes();
    }

    @Override
    protected void copyMemory(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, long bytes) {
        cl.enqueueCopy(queue, src, dst, srcOffset, dstOffset, bytes, eventTarget());
        recordEvent(TimeKind.COPY_IN); // device-side copy time is reported with the copies in
    }

    // ---------------------------------------------------------------- compile

    @Override
    protected Compiled<Program> compileProgram(Kernel kernel, Mode mode) {
        return compileSource(kernel, mode, OpenClRenderer.render(kernel, mode));
    }

    /**
     * Compiles {@code source} as {@code kernel}'s program (through the disk cache). A build the
     * driver refuses throws {@link OpenClException} with the build log and the numbered source.
     */
    Compiled<Program> compileSource(Kernel kernel, Mode mode, String source) {
        String options = OpenClRenderer.buildOptions(mode);
        String key = ProgramCache.key(kernel, source, device.identity(), mode, options);
        long t0 = System.nanoTime();
        String name = OpenClRenderer.kernelName(kernel);
        Program p = null;
        Optional<byte[]> binary = diskCache.load(key);
        if (binary.isPresent()) {
            try {
                p = fromBinary(binary.get(), options, name, kernel);
            } catch (OpenClException e) {
                diskCache.remove(key); // refused (driver update, corrupt file): compile from source below
            }
        }
        if (p == null) {
            try {
                p = buildSource(source, options, name, kernel);
            } catch (OpenClException e) {
                throw e.withSource(kernel.name(), source);
            }
            try {
                diskCache.store(key, programBinary.apply(p.program()));
            } catch (RuntimeException e) {
                // A driver that cannot hand out the binary only loses the disk cache: the program is built and kept.
            }
        }
        return compiled(kernel, mode, source, System.nanoTime() - t0, p.fromDisk(), "", p);
    }

    /** Compiles OpenCL C {@code source} and creates kernel {@code kernelName} (not cached; for tests and tools too). */
    Program buildSource(String source, String options, String kernelName) {
        checkOpen();
        Program p = buildSource(source, options, kernelName, new Kernel(kernelName, List.of(), List.of(), List.of(), List.of()));
        // Not owned by a compiled kernel: released at once, a test only needs to see it build.
        releaseProgram(p);
        return p;
    }

    private Program buildSource(String source, String options, String kernelName, Kernel ir) {
        MemorySegment program = cl.createProgramWithSource(context, source);
        try {
            cl.buildProgram(program, device.device(), options);
            return new Program(program, cl.createKernel(program, kernelName), false, ir);
        } catch (RuntimeException e) {
            cl.releaseProgram(program);
            throw e;
        }
    }

    private Program fromBinary(byte[] binary, String options, String kernelName, Kernel ir) {
        MemorySegment program = cl.createProgramWithBinary(context, device.device(), binary);
        try {
            cl.buildProgram(program, device.device(), options);
            return new Program(program, cl.createKernel(program, kernelName), true, ir);
        } catch (RuntimeException e) {
            cl.releaseProgram(program);
            throw e;
        }
    }

    @Override
    protected void releaseProgram(Program p) {
        try {
            cl.releaseKernel(p.kernel());
        } finally {
            cl.releaseProgram(p.program());
        }
    }

    // ---------------------------------------------------------------- launch

    @Override
    protected void launchProgram(Program p, Kernel k, long n, List<DeviceBuffer> bufs, float[] scalars) {
        MemorySegment kh = p.kernel();
        long[] last = p.lastArgs();
        // Arguments stay set on the cl_kernel between launches: set only those that changed.
        if (last[0] != n) {
            argValue.set(JAVA_LONG, 0, n);
            last[0] = -1; // unknown until the call succeeds
            cl.setKernelArg(kh, 0, 8, argValue);
            last[0] = n;
        }
        int arg = 1;
        for (int i = 0; i < bufs.size(); i++, arg++) {
            MemorySegment mem = memory(bufs.get(i));
            long address = mem == null ? 0 : mem.address();
            if (last[arg] != address) {
                argValue.set(ADDRESS, 0, mem == null ? MemorySegment.NULL : mem);
                last[arg] = -1;
                cl.setKernelArg(kh, arg, ADDRESS.byteSize(), argValue);
                last[arg] = address;
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
        recordEvent(TimeKind.KERNEL);
    }

    @Override
    protected void finishQueue() {
        cl.finish(queue);
        collectTimes();
    }

    // ---------------------------------------------------------------- profiling

    private MemorySegment eventTarget() {
        return profiling() ? eventOut : MemorySegment.NULL;
    }

    private void recordEvent(TimeKind kind) {
        if (!profiling()) return;
        if (pending == pendingEvents.length) {
            pendingEvents = java.util.Arrays.copyOf(pendingEvents, pending * 2);
            pendingKinds = java.util.Arrays.copyOf(pendingKinds, pending * 2);
        }
        pendingEvents[pending] = eventOut.get(ADDRESS, 0);
        pendingKinds[pending++] = kind;
    }

    /** Waits for the recorded events, adds their durations, releases them. */
    @Override
    protected void collectTimes() {
        for (int i = 0; i < pending; i++) {
            MemorySegment ev = pendingEvents[i];
            try {
                eventScratch.set(ADDRESS, 0, ev);
                cl.waitForEvents(1, eventScratch);
                addTime(pendingKinds[i], cl.eventNanos(ev, eventScratch));
            } finally {
                cl.releaseEvent(ev);
                pendingEvents[i] = null;
            }
        }
        pending = 0;
    }

    // ---------------------------------------------------------------- close

    @Override
    protected void closeDriver(List<RuntimeException> errors) {
        for (int i = 0; i < pending; i++) {
            MemorySegment ev = pendingEvents[i];
            run(errors, () -> cl.releaseEvent(ev));
        }
        pending = 0;
        run(errors, () -> cl.releaseQueue(queue));
        run(errors, () -> cl.releaseContext(context));
        arena.close();
    }
}
