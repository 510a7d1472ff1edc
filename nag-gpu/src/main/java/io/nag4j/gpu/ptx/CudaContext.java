package io.nag4j.gpu.ptx;

import io.nag4j.core.ir.Kernel;
import io.nag4j.gpu.Mode;
import io.nag4j.gpu.device.CompiledKernel;
import io.nag4j.gpu.device.DeviceBuffer;
import io.nag4j.gpu.device.DeviceContext;
import io.nag4j.gpu.device.DeviceInfo;
import io.nag4j.gpu.device.DeviceTimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One CUDA device opened for work: its primary context, one stream, and everything created on
 * them (device memory, modules, pinned host memory, events), all released by {@link #close()}.
 *
 * <p>Host-to-device copies from native memory go straight to the driver (from memory this context
 * {@linkplain #allocatePinned pinned}, truly asynchronous); heap segments are first copied into a
 * pinned staging area that is reused after each {@link #finish()}.
 */
public final class CudaContext implements DeviceContext {
    private static final long MIN_STAGING = 1L << 20;

    private final Cuda cu;
    private final DeviceInfo info;
    private final int device;
    private final MemorySegment ctx;
    private final MemorySegment stream;
    /** Owns kernel argument blocks and gives pinned segments their lifetime: closed first on close. */
    private final Arena arena = Arena.ofShared();
    private final Set<CudaBuffer> buffers = new LinkedHashSet<>();
    private final Map<String, CudaKernel> kernels = new HashMap<>();
    private final List<MemorySegment> pinned = new ArrayList<>();
    private final Set<HostRegistration> registered = new LinkedHashSet<>();
    private MemorySegment staging;
    private long stagingUsed;
    private boolean profiling;
    private final List<Timing> pending = new ArrayList<>();
    private final ArrayDeque<MemorySegment> eventPool = new ArrayDeque<>();
    private long copyInNanos, kernelNanos, copyOutNanos;
    private int launches;
    private boolean closed;

    private enum Kind { COPY_IN, KERNEL, COPY_OUT }

    private record Timing(Kind kind, MemorySegment start, MemorySegment end) {}

    CudaContext(Cuda cu, DeviceInfo info) {
        this.cu = cu;
        this.info = info;
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

    @Override public DeviceInfo info() { return info; }

    private void open() {
        if (closed) throw new IllegalStateException("CUDA context on " + info.spec() + " (" + info.name() + ") is closed");
        // The context is current per thread, and an owner may hand the context to another thread.
        cu.ctxSetCurrent(ctx);
    }

    // ---- memory ----

    @Override
    public DeviceBuffer allocate(String name, long bytes) {
        Objects.requireNonNull(name, "name");
        if (bytes < 0) throw new IllegalArgumentException("buffer '" + name + "': negative size " + bytes);
        open();
        long dptr = bytes == 0 ? 0 : cu.memAlloc(bytes);
        CudaBuffer b = new CudaBuffer(this, name, bytes, dptr);
        buffers.add(b);
        return b;
    }

    void free(CudaBuffer b) {
        if (closed || !buffers.remove(b)) return; // the context already freed it
        open();
        if (b.dptr != 0) cu.memFree(b.dptr);
    }

    /**
     * Page-locked host memory owned by this context, freed (and inaccessible) once it closes.
     * Copies from it are truly asynchronous; keep host tensors here to skip staging.
     */
    public MemorySegment allocatePinned(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("pinned allocation of " + bytes + " bytes");
        open();
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
        open();
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
            if (owner.closed || !owner.registered.remove(this)) return;
            owner.open();
            try {
                owner.finish(); // an asynchronous copy may still be reading it
            } finally {
                owner.cu.memHostUnregister(segment); // even after a sticky error: the caller may free the memory next
            }
        }
    }

    private CudaBuffer own(DeviceBuffer b) {
        if (!(b instanceof CudaBuffer cb) || cb.owner != this) {
            throw new IllegalArgumentException("buffer '" + (b == null ? null : b.name()) + "' does not belong to this CUDA context");
        }
        if (cb.isClosed()) throw new IllegalStateException("buffer '" + cb.name() + "' is closed");
        return cb;
    }

    private static void checkRange(CudaBuffer b, long offset, long bytes, String what) {
        if (offset < 0 || bytes < 0 || offset > b.byteSize() - bytes) {
            throw new IllegalArgumentException(what + " of " + bytes + " bytes at offset " + offset + " does not fit buffer '"
                    + b.name() + "' of " + b.byteSize() + " bytes");
        }
    }

    /** A pinned region holding {@code bytes}, valid until the next {@link #finish()}. */
    private MemorySegment stage(long bytes) {
        if (staging == null || stagingUsed + bytes > staging.byteSize()) {
            finish(); // everything reading the staging area is done; start over at its beginning
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
    public void copyIn(DeviceBuffer dst, long dstOffsetBytes, MemorySegment src, boolean blocking) {
        open();
        CudaBuffer d = own(dst);
        long bytes = src.byteSize();
        checkRange(d, dstOffsetBytes, bytes, "copy in");
        if (bytes == 0) return;
        MemorySegment host = src;
        if (!src.isNative()) {
            host = stage(bytes);
            MemorySegment.copy(src, 0, host, 0, bytes);
        }
        MemorySegment start = begin();
        cu.memcpyHtoDAsync(d.dptr + dstOffsetBytes, host, bytes, stream);
        end(Kind.COPY_IN, start);
        if (blocking) finish();
    }

    @Override
    public void copyOut(DeviceBuffer src, long srcOffsetBytes, MemorySegment dst) {
        open();
        CudaBuffer s = own(src);
        if (dst.isReadOnly()) throw new IllegalArgumentException("copy out of '" + s.name() + "' into a read-only segment");
        long bytes = dst.byteSize();
        checkRange(s, srcOffsetBytes, bytes, "copy out");
        if (bytes == 0) return;
        MemorySegment host = dst.isNative() ? dst : stage(bytes);
        MemorySegment start = begin();
        cu.memcpyDtoHAsync(host, s.dptr + srcOffsetBytes, bytes, stream);
        end(Kind.COPY_OUT, start);
        finish();
        if (host != dst) MemorySegment.copy(host, 0, dst, 0, bytes);
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffsetBytes, DeviceBuffer dst, long dstOffsetBytes, long bytes) {
        open();
        CudaBuffer s = own(src), d = own(dst);
        checkRange(s, srcOffsetBytes, bytes, "copy from");
        checkRange(d, dstOffsetBytes, bytes, "copy to");
        DeviceContext.checkNoOverlap(s, srcOffsetBytes, d, dstOffsetBytes, bytes);
        if (bytes == 0) return;
        MemorySegment start = begin();
        cu.memcpyDtoDAsync(d.dptr + dstOffsetBytes, s.dptr + srcOffsetBytes, bytes, stream);
        end(Kind.COPY_IN, start); // device-side copy time is reported with the copies in
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
        open();
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

    // ---- kernels ----

    @Override
    public CompiledKernel compile(Kernel kernel, Mode mode) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(mode, "mode");
        open();
        String key = kernel.hash() + "/" + mode;
        CudaKernel hit = kernels.get(key);
        if (hit != null) return hit.asCached();
        String ptx = PtxRenderer.render(kernel, mode);
        String entry = PtxRenderer.entryName(kernel, mode);
        long t0 = System.nanoTime();
        Cuda.ModuleLoad load = cu.moduleLoadPtx(ptx);
        long nanos = System.nanoTime() - t0;
        if (load.result() != 0) {
            throw new CudaException("cuModuleLoadDataEx(" + entry + ") on " + info.name(), load.result(), cu.errorName(load.result()),
                    "JIT error log: " + (load.errorLog().isEmpty() ? "(empty)" : load.errorLog())
                            + (load.infoLog().isEmpty() ? "" : "\nJIT info log: " + load.infoLog()));
        }
        MemorySegment function;
        try {
            function = cu.moduleGetFunction(load.module(), entry);
        } catch (RuntimeException e) {
            cu.moduleUnload(load.module());
            throw e;
        }
        int nArgs = 1 + kernel.inputs().size() + kernel.scalars().size();
        MemorySegment values = arena.allocate(8L * nArgs, 8);
        MemorySegment pointers = arena.allocate(ADDRESS, nArgs);
        for (int i = 0; i < nArgs; i++) pointers.setAtIndex(ADDRESS, i, values.asSlice(8L * i, 8));
        CudaKernel k = new CudaKernel(this, kernel, mode, ptx, nanos, false, load.infoLog(), load.module(), function, values, pointers);
        kernels.put(key, k);
        return k;
    }

    @Override
    public void launch(CompiledKernel compiled, long n, List<DeviceBuffer> bufferArgs, float[] scalars) {
        open();
        if (!(compiled instanceof CudaKernel k) || k.owner != this) {
            throw new IllegalArgumentException("kernel was not compiled by this CUDA context");
        }
        Kernel ir = k.kernel();
        if (n < 0) throw new IllegalArgumentException("kernel '" + ir.name() + "': negative element count " + n);
        if (bufferArgs.size() != ir.inputs().size()) {
            throw new IllegalArgumentException("kernel '" + ir.name() + "' takes " + ir.inputs().size() + " buffers " + ir.inputs()
                    + ", got " + bufferArgs.size());
        }
        if (scalars.length != ir.scalars().size()) {
            throw new IllegalArgumentException("kernel '" + ir.name() + "' takes " + ir.scalars().size() + " scalars " + ir.scalars()
                    + ", got " + scalars.length);
        }
        long[] dptrs = new long[bufferArgs.size()];
        for (int i = 0; i < dptrs.length; i++) {
            CudaBuffer b = own(bufferArgs.get(i));
            if (b.byteSize() / 4 < n) {
                throw new IllegalArgumentException("kernel '" + ir.name() + "' input " + ir.inputs().get(i) + ": buffer '" + b.name()
                        + "' holds " + b.byteSize() / 4 + " floats, launch needs " + n);
            }
            dptrs[i] = b.dptr;
        }
        if (n == 0) return;
        long blocks = (n + PtxRenderer.BLOCK_SIZE - 1) / PtxRenderer.BLOCK_SIZE;
        if (blocks > Integer.MAX_VALUE) throw new IllegalArgumentException("kernel '" + ir.name() + "': " + n + " elements is too many for one launch");
        // The driver copies the argument values during cuLaunchKernel, so one block per kernel is reused.
        k.values.setAtIndex(JAVA_LONG, 0, n);
        for (int i = 0; i < dptrs.length; i++) k.values.setAtIndex(JAVA_LONG, 1 + i, dptrs[i]);
        for (int s = 0; s < scalars.length; s++) k.values.set(JAVA_FLOAT, 8L * (1 + dptrs.length + s), scalars[s]);
        MemorySegment start = begin();
        cu.launchKernel(k.function, (int) blocks, PtxRenderer.BLOCK_SIZE, stream, k.pointers);
        end(Kind.KERNEL, start);
        launches++;
    }

    @Override
    public void finish() {
        open();
        cu.streamSynchronize(stream);
        stagingUsed = 0;
    }

    // ---- profiling ----

    @Override
    public void profile(boolean on) {
        open();
        profiling = on;
    }

    private MemorySegment begin() {
        if (!profiling) return null;
        MemorySegment e = event();
        cu.eventRecord(e, stream);
        return e;
    }

    private void end(Kind kind, MemorySegment start) {
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
    public DeviceTimes drainTimes() {
        open();
        if (!pending.isEmpty()) {
            cu.eventSynchronize(pending.getLast().end());
            for (Timing t : pending) {
                long ns = Math.round(cu.eventElapsedMillis(t.start(), t.end()) * 1e6);
                switch (t.kind()) {
                    case COPY_IN -> copyInNanos += ns;
                    case KERNEL -> kernelNanos += ns;
                    case COPY_OUT -> copyOutNanos += ns;
                }
                eventPool.push(t.start());
                eventPool.push(t.end());
            }
            pending.clear();
        }
        DeviceTimes times = new DeviceTimes(copyInNanos, kernelNanos, copyOutNanos, launches);
        copyInNanos = kernelNanos = copyOutNanos = 0;
        launches = 0;
        return times;
    }

    // ---- close ----

    @Override
    public void close() {
        if (closed) return;
        RuntimeException first = null;
        try {
            cu.ctxSetCurrent(ctx);
            cu.streamSynchronize(stream);
        } catch (RuntimeException e) {
            first = e;
        }
        closed = true;
        arena.close(); // pinned segments and argument blocks become inaccessible before they are freed
        List<Runnable> releases = new ArrayList<>();
        for (CudaKernel k : kernels.values()) releases.add(() -> cu.moduleUnload(k.module));
        for (CudaBuffer b : buffers) if (b.dptr != 0) releases.add(() -> cu.memFree(b.dptr));
        for (MemorySegment p : pinned) releases.add(() -> cu.memFreeHost(p));
        for (HostRegistration r : registered) releases.add(() -> cu.memHostUnregister(r.segment));
        if (staging != null) releases.add(() -> cu.memFreeHost(staging));
        for (MemorySegment e : eventPool) releases.add(() -> cu.eventDestroy(e));
        for (Timing t : pending) {
            releases.add(() -> cu.eventDestroy(t.start()));
            releases.add(() -> cu.eventDestroy(t.end()));
        }
        releases.add(() -> cu.streamDestroy(stream));
        releases.add(() -> cu.primaryCtxRelease(device));
        for (Runnable r : releases) {
            try {
                r.run();
            } catch (RuntimeException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
        }
        kernels.clear();
        buffers.clear();
        pinned.clear();
        registered.clear();
        pending.clear();
        eventPool.clear();
        if (first != null) throw first;
    }

    boolean isClosed() { return closed; }

    /** Device memory of one {@link CudaContext}. */
    static final class CudaBuffer implements DeviceBuffer {
        final CudaContext owner;
        private final String name;
        private final long byteSize;
        final long dptr;
        private boolean closed;

        CudaBuffer(CudaContext owner, String name, long byteSize, long dptr) {
            this.owner = owner;
            this.name = name;
            this.byteSize = byteSize;
            this.dptr = dptr;
        }

        @Override public String name() { return name; }
        @Override public long byteSize() { return byteSize; }
        @Override public boolean isClosed() { return closed || owner.isClosed(); }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            owner.free(this);
        }

        @Override public String toString() { return "cuda buffer '" + name + "' (" + byteSize + " bytes)"; }
    }

    /** A loaded module and its entry, with the argument block its launches fill. */
    static final class CudaKernel implements CompiledKernel {
        final CudaContext owner;
        private final Kernel kernel;
        private final Mode mode;
        private final String source;
        private final long compileNanos;
        private final boolean cached;
        private final String compileLog;
        final MemorySegment module, function, values, pointers;

        CudaKernel(CudaContext owner, Kernel kernel, Mode mode, String source, long compileNanos, boolean cached, String compileLog,
                   MemorySegment module, MemorySegment function, MemorySegment values, MemorySegment pointers) {
            this.owner = owner;
            this.compileLog = compileLog;
            this.kernel = kernel;
            this.mode = mode;
            this.source = source;
            this.compileNanos = compileNanos;
            this.cached = cached;
            this.module = module;
            this.function = function;
            this.values = values;
            this.pointers = pointers;
        }

        @Override public String compileLog() { return compileLog; }

        CudaKernel asCached() {
            return new CudaKernel(owner, kernel, mode, source, 0, true, compileLog, module, function, values, pointers);
        }

        @Override public Kernel kernel() { return kernel; }
        @Override public Mode mode() { return mode; }
        @Override public String source() { return source; }
        @Override public long compileNanos() { return compileNanos; }
        @Override public boolean cached() { return cached; }
    }
}
