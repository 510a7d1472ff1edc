package io.nag4j.core.io;

import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An open safetensors file whose header has been checked ({@link Safetensors#parseHeader}):
 * the file is memory-mapped, and tensors, or slices of them, are copied out on demand, so a
 * large file (a whole trajectory of updates) is never held twice.
 */
public final class SafetensorsReader implements AutoCloseable {
    private final Path path;
    private final Safetensors.Header header;
    private final Map<String, Safetensors.Entry> byName = new LinkedHashMap<>();
    private final Arena arena;
    private final MemorySegment data;

    private SafetensorsReader(Path path, Safetensors.Header header, Arena arena, MemorySegment data) {
        this.path = path;
        this.header = header;
        this.arena = arena;
        this.data = data;
        for (Safetensors.Entry e : header.entries()) byName.put(e.name(), e);
    }

    /** Opens and checks {@code path}; throws {@link SafetensorsException} naming any problem. */
    public static SafetensorsReader open(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Safetensors.Header h = Safetensors.parseHeader(path, ch);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = h.dataSize() == 0 ? MemorySegment.NULL
                        : ch.map(FileChannel.MapMode.READ_ONLY, h.dataStart(), h.dataSize(), arena);
                return new SafetensorsReader(path, h, arena, data);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    public Path path() { return path; }

    /** The tensors, in data order. */
    public List<Safetensors.Entry> entries() { return header.entries(); }

    public List<String> names() { return List.copyOf(byName.keySet()); }

    public Map<String, String> metadata() { return header.metadata(); }

    /** The entry of that name, or {@code null}. */
    public Safetensors.Entry find(String name) { return byName.get(name); }

    /** The dtype of tensor {@code name} as stored (F32, BF16 or F16; loads widen to float32). */
    public String dtype(String name) { return entry(name).dtype(); }

    /** Loads one tensor into a new off-heap tensor of the same name and shape. */
    public Tensor load(String name) {
        return load(name, name);
    }

    /** Loads tensor {@code name} into a new off-heap tensor of its shape, named {@code as}. */
    public Tensor load(String name, String as) {
        Safetensors.Entry e = entry(name);
        Tensor t = Tensor.zeros(as, e.shape());
        try {
            copy(e, 0, t);
            return t;
        } catch (RuntimeException ex) {
            t.close();
            throw ex;
        }
    }

    /** Loads every tensor, in data order; on failure, closes those already loaded. */
    public ParamSet loadAll() {
        List<Tensor> out = new ArrayList<>(header.entries().size());
        try {
            for (Safetensors.Entry e : header.entries()) out.add(load(e.name()));
            return new ParamSet(out);
        } catch (RuntimeException ex) {
            out.forEach(Tensor::close);
            throw ex;
        }
    }

    /**
     * Copies {@code dst.size()} elements of tensor {@code name}, starting at element
     * {@code firstElement} (in C order), into {@code dst}: one step of a trajectory.
     */
    public void copy(String name, long firstElement, Tensor dst) {
        copy(entry(name), firstElement, dst);
    }

    private void copy(Safetensors.Entry e, long firstElement, Tensor dst) {
        checkOpen();
        long n = dst.size();
        if (firstElement < 0 || firstElement > e.size() || n > e.size() - firstElement) {
            throw new IllegalArgumentException("tensor '" + e.name() + "' of " + path + " has " + e.size()
                    + " elements; cannot copy " + n + " from element " + firstElement);
        }
        if (n == 0) return;
        if (!e.dtype().equals("F32")) { // a 16-bit float, widened exactly
            boolean bf = e.dtype().equals("BF16");
            long at = e.begin() + firstElement * 2;
            for (long i = 0; i < n; i++) {
                short h = data.get(Safetensors.FILE_I16, at + 2 * i);
                dst.set(i, bf ? io.nag4j.core.ir.Narrowing.fromBf16Bits(h) : io.nag4j.core.ir.Narrowing.fromF16Bits(h));
            }
            return;
        }
        MemorySegment.copy(data, Safetensors.FILE_F32, e.begin() + firstElement * Float.BYTES,
                dst.segment(), Tensor.F32, 0, n);
    }

    private Safetensors.Entry entry(String name) {
        Safetensors.Entry e = byName.get(name);
        if (e == null) throw new IllegalArgumentException(path + " has no tensor '" + name + "'; has " + byName.keySet());
        return e;
    }

    private void checkOpen() {
        if (!arena.scope().isAlive()) throw new IllegalStateException(path + " is closed");
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
