package io.nag4j.gpu.ptx;

import io.nag4j.gpu.device.Listing;
import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContextBase;
import io.nag4j.gpu.device.DeviceInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One CUDA device opened for work: its primary context, one stream, and everything created on
 * them (device memory, modules, pinned host memory, events), all released by {@link #close()}:
 * the native calls behind {@link DeviceContextBase}, which holds the contract.
 *
 * <p>Host-to-device copies from native memory go straight to the driver (from memory this context
 * {@linkplain #allocatePinned pinned}, truly asynchronous); heap segments are first copied into a
 * pinned staging area that is reused after each {@link #finish()}.
 */
public final class CudaContext extends DeviceContextBase<Long, CudaContext.Module> {
    private static final long MIN_STAGING = 1L << 20;

    /** A loaded module, its entry, and the argument block its launches fill (values, and pointers to them). */
    record Module(MemorySegment module, MemorySegment function, MemorySegment values, MemorySegment pointers) {}

    private final Cuda cu;
    private final int device;
    private final MemorySegment ctx;
    private final MemorySegment stream;
    /** Owns kernel argument blocks and gives pinned segments their lifetime: closed first on close. */
    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> pinned = new ArrayList<>();
    private final Set<HostRegistration> registered = new LinkedHashSet<>();
    private MemorySegment staging;
    private long stagingUsed;
    private final List<Timing> pending = new ArrayList<>();
    private final ArrayDeque<MemorySegment> eventPool = new ArrayDeque<>();

    private record Timing(TimeKind kind, MemorySegment start, MemorySegment end) {}

    CudaContext(Cuda cu, DeviceInfo info) {
        super(info, "CUDA");
        this.cu = cu;
        this.device = cu.device(info.index());
        this.ctx = cu.primaryCtxRetain(device);
        MemorySegment s;
        try {
            cu.ctxSetCurrent(ctx);
            s = cu.streamCreate(Cuda.STREAM_NON_BLOCKING);
        } catch (RuntimeException e) {
            cu.primaryCtxRelease(device);
            throw e;
        }
        this.stream = s;
    }

    @Override
    protected void makeCurrent() {
        cu.ctxSetCurrent(ctx);
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Long allocateMemory(String name, long bytes) {
        return cu.memAlloc(bytes);
    }

    @Override
    protected void freeMemory(Long dptr) {
        cu.memFree(dptr);
    }

    /**
     * Page-locked host memory owned by this context, freed (and inaccessible) once it closes.
     * Copies from it are truly asynchronous; keep host tensors here to skip staging.
     */
    public MemorySegment allocatePinned(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("pinned allocation of " + bytes + " bytes");
        checkOpen();
        MemorySegment raw = cu.memHostAlloc(bytes, Cuda.MEMHOSTALLOC_PORTABLE);
        pinned.add(raw);
        return raw.reinterpret(bytes, arena, null);
    }

    /**
     * Page-locks existing native memory ({@code cuMemHostRegister}) so copies from and to it are truly
     * asynchronous, until the returned handle or this context closes. The caller keeps {@code seg}
     * alive at least that long.
     */
    public HostRegistration registerHost(MemorySegment seg) {
        if (!seg.isNative() || seg.byteSize() == 0) throw new IllegalArgumentException("only non-empty native memory can be page-locked");
        checkOpen();
        cu.memHostRegister(seg, seg.byteSize(), Cuda.MEMHOSTREGISTER_PORTABLE);
        HostRegistration r = new HostRegistration(this, seg);
        registered.add(r);
        return r;
    }

    /** Memory page-locked by {@link #registerHost}; closing unregisters it. */
    public static final class HostRegistration implements AutoCloseable {
        private final CudaContext owner;
        private final MemorySegment segment;

        private HostRegistration(CudaContext owner, MemorySegment segment) {
            this.owner = owner;
            this.segment = segment;
        }

        public MemorySegment segment() { return segment; }

        @Override
        public void close() {
            if (owner.isClosed() || !owner.registered.remove(this)) return;
            try {
                owner.finish(); // an asynchronous copy may still be reading it
            } finally {
                owner.cu.memHostUnregister(segment); // even after a sticky error: the caller may free the memory next
            }
        }
    }

    /** A pinned region holding {@code bytes}, valid until the next {@link #finish()}. */
    private MemorySegment stage(long bytes) {
        if (staging == null || stagingUsed + bytes > staging.byteSize()) {
            finishQueue(); // everything reading the staging area is done; start over at its beginning
            if (staging == null || bytes > staging.byteSize()) {
                if (staging != null) cu.memFreeHost(staging);
                staging = null;
                staging = cu.memHostAlloc(Math.max(MIN_STAGING, Long.highestOneBit(bytes - 1) << 1), Cuda.MEMHOSTALLOC_PORTABLE);
            }
        }
        MemorySegment region = staging.asSlice(stagingUsed, bytes);
        stagingUsed += (bytes + 255) & ~255L; // keep regions 256-byte aligned for the DMA engines
        return region;
    }

    @Override
    protected void copyInMemory(Long dptr, long offset, MemorySegment src, boolean blocking) {
        long bytes = src.byteSize();
        MemorySegment host = src;
        if (!src.isNative()) {
            host = stage(bytes);
            MemorySegment.copy(src, 0, host, 0, bytes);
        }
        MemorySegment start = begin();
        cu.memcpyHtoDAsync(dptr + offset, host, bytes, stream);
        end(TimeKind.COPY_IN, start);
        if (blocking) finishQueue();
    }

    @Override
    protected void copyOutMemory(Long dptr, long offset, MemorySegment dst) {
        long bytes = dst.byteSize();
        MemorySegment host = dst.isNative() ? dst : stage(bytes);
        MemorySegment start = begin();
        cu.memcpyDtoHAsync(host, dptr + offset, bytes, stream);
        end(TimeKind.COPY_OUT, start);
        finishQueue();
        if (host != dst) MemorySegment.copy(host, 0, dst, 0, bytes);
    }

    @Override
    protected void copyMemory(Long src, long srcOffset, Long dst, long dstOffset, long bytes) {
        MemorySegment start = begin();
        cu.memcpyDtoDAsync(dst + dstOffset, src + srcOffset, bytes, stream);
        end(TimeKind.COPY_IN, start); // device-side copy time is reported with the copies in
    }

    /**
     * Page-locks {@code host} with {@code cuMemHostRegister} until this context closes, so the
     * plan's per-step copies from it are truly asynchronous DMA (pageable memory goes through the
     * driver's own staging, synchronously). Refusals (memory already registered, or a driver limit)
     * leave the memory pageable, which is slower but correct. Registrations belong to the device's
     * primary context, which every CudaContext on the device shares: memory another open context
     * pinned is refused here (and copied as that context's pinned memory until it closes).
     */
    @Override
    public boolean pinHost(MemorySegment host) {
        checkOpen();
        if (!host.isNative() || host.byteSize() == 0) return false;
        for (HostRegistration r : registered) {
            if (r.segment.address() == host.address() && r.segment.byteSize() == host.byteSize()) return true;
        }
        try {
            registerHost(host);
            return true;
        } catch (CudaException e) {
            System.getLogger(CudaContext.class.getName()).log(System.Logger.Level.DEBUG,
                    "cuMemHostRegister refused " + host.byteSize() + " bytes; copies from them are staged: " + e.getMessage());
            return false;
        }
    }

    // ---------------------------------------------------------------- compile and launch

    @Override
    protected Compiled<Module> compileProgram(Kernel kernel, Mode mode) {
        String ptx = PtxRenderer.render(kernel, mode);
        String entry = PtxRenderer.entryName(kernel, mode);
        long t0 = System.nanoTime();
        Cuda.ModuleLoad load = cu.moduleLoadPtx(ptx);
        long nanos = System.nanoTime() - t0;
        if (load.result() != 0) {
            throw new CudaException("cuModuleLoadDataEx(" + entry + ") on " + info().name(), load.result(), cu.errorName(load.result()),
                    "JIT error log: " + (load.errorLog().isEmpty() ? "(empty)" : load.errorLog())
                            + (load.infoLog().isEmpty() ? "" : "\nJIT info log: " + load.infoLog())
                            + "\n--- generated PTX of kernel '" + kernel.name() + "' ---\n" + Listing.numbered(ptx));
        }
        MemorySegment function;
        try {
            function = cu.moduleGetFunction(load.module(), entry);
        } catch (RuntimeException e) {
            cu.moduleUnload(load.module());
            throw e;
        }
        int nArgs = 1 + kernel.bufferCount() + kernel.scalars().size();
        MemorySegment values = arena.allocate(8L * nArgs, 8);
        MemorySegment pointers = arena.allocate(ADDRESS, nArgs);
        for (int i = 0; i < nArgs; i++) pointers.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
        return compiled(kernel, mode, ptx, nanos, false, load.infoLog(), new Module(load.module(), function, values, pointers));
    }


    @Override
    protected void releaseProgram(Module m) {
        cu.moduleUnload(m.module());
    }

    @Override
    protected void launchProgram(Module m, Kernel ir, long n, List<DeviceBuffer> bufs, float[] scalars) {
        long blocks = (n + PtxRenderer.BLOCK_SIZE - 1) / PtxRenderer.BLOCK_SIZE;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("kernel '" + ir.name() + "': " + n + " elements is too many for one launch");
        m.values().setAtIndex(JAVA_LONG, 0, n);
        for (int i = 0; i < bufs.size(); i++) {
            Long dptr = memory(bufs.get(i));
            m.values().setAtIndex(JAVA_LONG, 1 + i, dptr == null ? 0 : dptr);
        }
        for (int s = 0; s < scalars.length; s++) m.values().set(JAVA_FLOAT, 8L * (1 + bufs.size() + s), scalars[s]);
        MemorySegment start = begin();
        cu.launchKernel(m.function(), (int) blocks, PtxRenderer.BLOCK_SIZE, stream, m.pointers());
        end(TimeKind.KERNEL, start);
    }

    @Override
    protected void finishQueue() {
        cu.streamSynchronize(stream);
        stagingUsed = 0;
    }

    // ---------------------------------------------------------------- profiling

    private MemorySegment begin() {
        if (!profiling()) return null;
        MemorySegment e = event();
        cu.eventRecord(e, stream);
        return e;
    }

    private void end(TimeKind kind, MemorySegment start) {
        if (start == null) return;
        MemorySegment e = event();
        cu.eventRecord(e, stream);
        pending.add(new Timing(kind, start, e));
    }

    private MemorySegment event() {
        MemorySegment e = eventPool.poll();
        return e != null ? e : cu.eventCreate(0);
    }

    @Override
    protected void collectTimes() {
        if (pending.isEmpty()) return;
        cu.eventSynchronize(pending.getLast().end());
        for (Timing t : pending) {
            addTime(t.kind(), Math.round(cu.eventElapsedMillis(t.start(), t.end()) * 1e6));
            eventPool.push(t.start());
            eventPool.push(t.end());
        }
        pending.clear();
    }

    // ---------------------------------------------------------------- close

    @Override
    protected void closeDriver(List<RuntimeException> errors) {
        arena.close(); // pinned segments and argument blocks become inaccessible before they are freed
        for (MemorySegment p : pinned) run(errors, () -> cu.memFreeHost(p));
        for (HostRegistration r : registered) run(errors, () -> cu.memHostUnregister(r.segment));
        if (staging != null) run(errors, () -> cu.memFreeHost(staging));
        for (MemorySegment e : eventPool) run(errors, () -> cu.eventDestroy(e));
        for (Timing t : pending) {
            run(errors, () -> cu.eventDestroy(t.start()));
            run(errors, () -> cu.eventDestroy(t.end()));
        }
        run(errors, () -> cu.streamDestroy(stream));
        run(errors, () -> cu.primaryCtxRelease(device));
        pinned.clear();
        registered.clear();
        pending.clear();
        eventPool.clear();
    }
}
