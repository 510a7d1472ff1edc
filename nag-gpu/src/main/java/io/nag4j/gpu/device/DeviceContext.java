package io.nag4j.gpu.device;

import io.nag4j.core.ir.Kernel;
import io.nag4j.core.optim.Mode;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A device opened for work: a context and one in-order queue (stream). Everything it creates
 * (buffers, programs) is released when it closes; use after close throws
 * {@link IllegalStateException}. Not thread-safe: one owner at a time (an execution plan).
 *
 * <p>Operations are enqueued in order. A non-blocking {@link #copyIn} reads {@code src} later, so
 * {@code src} must stay alive and unchanged until {@link #finish()}.
 */
public interface DeviceContext extends AutoCloseable {
    DeviceInfo info();

    /** Device memory of {@code bytes} bytes (contents undefined until written). */
    DeviceBuffer allocate(String name, long bytes);

    /**
     * Renders and compiles {@code kernel} (cached by IR hash, device and options) and loads its
     * entry point. Whether EXACT can hold here is not the context's question: the caller asks
     * {@link io.nag4j.gpu.plan.Exactness#require} first.
     */
    CompiledKernel compile(Kernel kernel, Mode mode);

    void copyIn(DeviceBuffer dst, long dstOffsetBytes, MemorySegment src, boolean blocking);

    /** Blocking copy of {@code dst.byteSize()} bytes from the device. */
    void copyOut(DeviceBuffer src, long srcOffsetBytes, MemorySegment dst);

    /**
     * Enqueues a copy of {@code bytes} bytes between two buffers of this device (not overlapping
     * when they are the same buffer). The benchmarks measure the device's memory bandwidth with it.
     */
    void copy(DeviceBuffer src, long srcOffsetBytes, DeviceBuffer dst, long dstOffsetBytes, long bytes);

    /** For implementations of {@link #copy}: refuses overlapping ranges within one buffer, naming both. */
    static void checkNoOverlap(DeviceBuffer src, long srcOffsetBytes, DeviceBuffer dst, long dstOffsetBytes, long bytes) {
        if (src == dst && srcOffsetBytes < dstOffsetBytes + bytes && dstOffsetBytes < srcOffsetBytes + bytes) {
            throw new IllegalArgumentException("copy within '" + src.name() + "': ranges [" + srcOffsetBytes + ", +" + bytes
                    + ") and [" + dstOffsetBytes + ", +" + bytes + ") overlap");
        }
    }

    /**
     * Asks the driver to page-lock {@code host} (native memory that outlives this context) so
     * copies from and to it need no staging and run asynchronously; it stays locked until this
     * context closes. A hint: returns whether it was done (false where the driver has no such
     * thing, as OpenCL's host pointers do not, or where the driver refuses).
     */
    default boolean pinHost(MemorySegment host) { return false; }

    /**
     * Enqueues one launch over elements {@code [0, n)} with the kernel ABI of
     * {@link io.nag4j.core.ir.Kernel}: {@code buffers} one per kernel input, then {@code scalars}.
     */
    void launch(CompiledKernel kernel, long n, List<DeviceBuffer> buffers, float[] scalars);

    /** Waits for everything enqueued. */
    void finish();

    /** Turns collection of device event times on or off (off by default: it costs host time). */
    void profile(boolean on);

    /** Device times collected since the last call, then resets them. */
    DeviceTimes drainTimes();

    @Override
    void close();
}
