package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.DeviceBuffer;

import java.lang.foreign.MemorySegment;

/** A {@code cl_mem} owned by an {@link OpenClContext}; closing releases it, use after close throws. */
final class OpenClBuffer implements DeviceBuffer {
    private final OpenClContext owner;
    private final String name;
    private final long byteSize;
    private final MemorySegment mem;
    private boolean closed;

    OpenClBuffer(OpenClContext owner, String name, long byteSize, MemorySegment mem) {
        this.owner = owner;
        this.name = name;
        this.byteSize = byteSize;
        this.mem = mem;
    }

    @Override public String name() { return name; }

    @Override public long byteSize() { return byteSize; }

    @Override public boolean isClosed() { return closed || owner.isClosed(); }

    OpenClContext owner() { return owner; }

    /** The native handle; throws if this buffer or its context is closed. */
    MemorySegment mem() {
        if (isClosed()) throw new IllegalStateException("device buffer '" + name + "' is closed");
        return mem;
    }

    /** Releases without telling the owner (the owner is closing). */
    void release(OpenCl cl) {
        if (closed) return;
        closed = true;
        cl.releaseMem(mem);
    }

    @Override
    public void close() {
        if (isClosed()) return;
        owner.forget(this);
    }

    @Override
    public String toString() { return "OpenClBuffer[" + name + ", " + byteSize + " bytes" + (isClosed() ? ", closed" : "") + "]"; }
}
