package io.nag4j.gpu.opencl;

import io.nag4j.gpu.device.DeviceBuffer;

import java.lang.foreign.MemorySegment;

/**
 * A {@code cl_mem}, or a fine-grained SVM allocation the host reads and writes in place, owned by
 * an {@link OpenClContext}; closing releases it, use after close throws.
 */
final class OpenClBuffer implements DeviceBuffer {
    private final OpenClContext owner;
    private final String name;
    private final long byteSize;
    private final MemorySegment mem;
    /** The SVM memory itself (then {@link #mem} is its pointer), or null for a {@code cl_mem}. */
    private final MemorySegment svm;
    private boolean closed;

    OpenClBuffer(OpenClContext owner, String name, long byteSize, MemorySegment mem) {
        this(owner, name, byteSize, mem, null);
    }

    OpenClBuffer(OpenClContext owner, String name, long byteSize, MemorySegment mem, MemorySegment svm) {
        this.owner = owner;
        this.name = name;
        this.byteSize = byteSize;
        this.mem = mem;
        this.svm = svm;
    }

    /** The host view of SVM memory; null for a {@code cl_mem}. Touch it only while the queue is idle. */
    MemorySegment svm() {
        mem();
        return svm;
    }

    boolean isSvm() { return svm != null; }

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
        if (svm != null) cl.svmFree(owner.contextHandle(), mem);
        else cl.releaseMem(mem);
    }

    @Override
    public void close() {
        if (isClosed()) return;
        owner.forget(this);
    }

    @Override
    public String toString() { return "OpenClBuffer[" + name + ", " + byteSize + " bytes" + (isClosed() ? ", closed" : "") + "]"; }
}
