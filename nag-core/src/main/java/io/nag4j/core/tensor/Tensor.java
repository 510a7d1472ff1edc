package io.nag4j.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named float32 tensor in off-heap memory: C (row-major) order, native byte order, 64-byte
 * aligned for SIMD loads and device transfers. Indexing is by {@code long}, so one tensor may
 * exceed 2^31 elements.
 *
 * <p>A tensor owns its memory through a shared {@link Arena}; {@link #close()} frees it, and any
 * use afterwards throws {@link IllegalStateException} naming the tensor (never a crash). A tensor
 * made by {@link #wrap} is a view of memory its caller owns: closing it frees nothing.
 */
public final class Tensor implements AutoCloseable {
    /** Alignment of every tensor's memory, in bytes: a cache line and an AVX-512 vector. */
    public static final long ALIGNMENT = 64;
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final String name;
    private final long[] shape;
    private final long size;
    private final Arena arena;
    private final MemorySegment segment;
    private volatile boolean closed;

    private Tensor(String name, long[] shape) {
        this.name = checkName(name);
        this.shape = shape.clone();
        this.size = sizeOf(name, shape);
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(Math.max(1, size) * Float.BYTES, ALIGNMENT);
    }

    private Tensor(String name, long[] shape, MemorySegment memory) {
        this.name = checkName(name);
        this.shape = shape.clone();
        this.size = sizeOf(name, shape);
        Objects.requireNonNull(memory, "memory of tensor '" + name + "'");
        if (memory.byteSize() != size * Float.BYTES) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " needs " + size * Float.BYTES
                    + " bytes, the memory has " + memory.byteSize());
        }
        if (memory.isReadOnly()) throw new IllegalArgumentException("tensor '" + name + "': the memory is read-only, and params are updated in place");
        if (!memory.scope().isAlive()) throw new IllegalArgumentException("tensor '" + name + "': the memory's arena is closed");
        this.arena = null;
        this.segment = memory;
    }

    /**
     * A tensor over memory the caller owns, without copying: a step reads and writes it in place
     * (gradients from another library, a {@code float[]} through {@link MemorySegment#ofArray(float[])}).
     * The segment must be exactly {@code 4 * elements} bytes, writable and alive; floats are read
     * in native byte order, at any alignment. Every backend takes such tensors: the CPU backend
     * and the reference work on them directly (heap or native), the device backends copy them to
     * and from the device. Closing the tensor frees nothing; if the caller's arena closes first,
     * use throws {@link IllegalStateException}.
     */
    public static Tensor wrap(String name, MemorySegment memory, long... shape) {
        return new Tensor(name, shape, memory);
    }

    /** A zero-filled tensor. */
    public static Tensor zeros(String name, long... shape) {
        return new Tensor(name, shape);
    }

    /** A tensor holding a copy of {@code data}; the shape's element count must equal its length. */
    public static Tensor of(String name, float[] data, long... shape) {
        Objects.requireNonNull(data, "data");
        Tensor t = new Tensor(name, shape);
        if (t.size != data.length) {
            t.close();
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " holds " + t.size + " elements but data has " + data.length);
        }
        t.copyFrom(data);
        return t;
    }

    /** A one-dimensional tensor holding a copy of {@code data}. */
    public static Tensor of(String name, float... data) {
        return of(name, data, data.length);
    }

    /** A zero-filled tensor with the same shape, under another name. */
    public Tensor zerosLike(String newName) {
        return zeros(newName, shape());
    }

    /** A copy with its own memory, under another name. */
    public Tensor copy(String newName) {
        Tensor t = zeros(newName, shape());
        MemorySegment.copy(segment(), 0, t.segment, 0, size * Float.BYTES);
        return t;
    }

    public String name() { return name; }

    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    /** Number of elements (1 for a scalar of shape []). */
    public long size() { return size; }

    public long byteSize() { return size * Float.BYTES; }

    public boolean isClosed() { return closed || !segment.scope().isAlive(); }

    /** The tensor's memory, exactly {@link #byteSize()} bytes long. */
    public MemorySegment segment() {
        checkOpen();
        // The memory is exactly byteSize() long except for an empty tensor (one float is allocated): no slice to make, no allocation.
        return segment.byteSize() == byteSize() ? segment : segment.asSlice(0, byteSize());
    }

    public float get(long i) {
        checkOpen();
        Objects.checkIndex(i, size);
        return segment.getAtIndex(F32, i);
    }

    public void set(long i, float v) {
        checkOpen();
        Objects.checkIndex(i, size);
        segment.setAtIndex(F32, i, v);
    }

    /** A copy of the contents; the tensor must have at most {@code Integer.MAX_VALUE - 8} elements. */
    public float[] toArray() {
        checkOpen();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor '" + name + "' has " + size + " elements, too many for a float[]");
        }
        float[] out = new float[(int) size];
        MemorySegment.copy(segment, F32, 0, out, 0, out.length);
        return out;
    }

    /** Overwrites the contents with {@code data}, which must have exactly {@link #size()} elements. */
    public void copyFrom(float[] data) {
        checkOpen();
        if (data.length != size) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + size + " elements, data has " + data.length);
        }
        MemorySegment.copy(data, 0, segment, F32, 0, data.length);
    }

    /** Overwrites the contents with another tensor's, which must have the same shape. */
    public void copyFrom(Tensor other) {
        checkOpen();
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape)
                    + " but '" + other.name + "' has " + Arrays.toString(other.shape));
        }
        MemorySegment.copy(other.segment(), 0, segment, 0, byteSize());
    }

    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Throws {@link IllegalStateException} naming the tensor if it was closed. */
    public void checkOpen() {
        if (closed) throw new IllegalStateException("tensor '" + name + "' is closed");
        if (!segment.scope().isAlive()) throw new IllegalStateException("tensor '" + name + "': the memory it wraps was freed by its owner");
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            if (arena != null) arena.close(); // a wrapped tensor's memory is its caller's
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + name + " " + Arrays.toString(shape) + (closed ? " closed" : "") + "]";
    }

    private static String checkName(String name) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("a tensor needs a non-empty name, got " + (name == null ? "null" : "\"\""));
        return name;
    }

    /** Element count of a shape, refusing negative dimensions and overflow. */
    public static long sizeOf(String name, long[] shape) {
        Objects.requireNonNull(shape, "shape of tensor '" + name + "'");
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            try {
                n = Math.multiplyExact(n, d);
                Math.multiplyExact(n, (long) Float.BYTES);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " is too large");
            }
        }
        return n;
    }
}
