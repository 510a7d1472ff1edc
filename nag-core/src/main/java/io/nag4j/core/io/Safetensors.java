package io.nag4j.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.Set;

/**
 * Reads and writes safetensors files of float32 tensors.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length {@code N}; {@code N} bytes of UTF-8
 * JSON mapping each tensor name to {@code {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}}
 * (offsets into the data area that follows the header), plus an optional {@code "__metadata__"}
 * object of string values; then the raw little-endian tensor data.
 *
 * <p>Reading is strict: anything that could hide a corrupt or lying file is refused with a
 * {@link SafetensorsException} naming the problem (see {@link #parseHeader}), and nothing is half
 * loaded. Writing is atomic ({@link AtomicFiles}): tensors in order, contiguous, the header
 * padded with spaces to a multiple of 8 bytes so the data is 8-byte aligned.
 */
public final class Safetensors {
    /** The largest header accepted: far above any real file, small enough to read into memory. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The key of the metadata object in the header. */
    public static final String METADATA_KEY = "__metadata__";
    /** A float32 as stored in the file: little-endian, at any byte offset. */
    static final ValueLayout.OfFloat FILE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** A 16-bit float's bits as stored in the file: little-endian. */
    static final ValueLayout.OfShort FILE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Every dtype the safetensors format defines; nag4j loads F32, BF16 and F16 and names the others. */
    private static final Set<String> KNOWN_DTYPES = Set.of("BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32",
            "F32", "F64", "I64", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");
    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");
    /** What nag4j reads: float32, and the 16-bit floats, widened exactly to float32 on load. */
    public static final Set<String> READ_DTYPES = Set.of("F32", "BF16", "F16");

    static int bytesOf(String dtype) { return dtype.equals("F32") ? 4 : 2; }

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Size of the staging buffer that converts tensor data to little-endian when writing. */
    private static final int WRITE_CHUNK_BYTES = 1 << 20;

    private Safetensors() {}

    /**
     * One tensor as the header describes it.
     *
     * @param begin byte offset of its data in the data area
     * @param end   byte offset just past its data
     */
    public record Entry(String name, long[] shape, long begin, long end, String dtype) {
        public Entry {
            shape = shape.clone();
        }

        /** Bytes per element: 4 for F32, 2 for BF16 and F16. */
        public int elementBytes() { return bytesOf(dtype); }

        @Override
        public long[] shape() { return shape.clone(); }

        /** Number of elements (1 for shape []). */
        public long size() { return (end - begin) / elementBytes(); }

        /** Dimension {@code i} of the shape. */
        public long dim(int i) { return shape[i]; }

        public int rank() { return shape.length; }

        @Override
        public String toString() { return name + Arrays.toString(shape); }
    }

    /** A parsed header: entries in data order (by offset), metadata in header order. */
    public record Header(List<Entry> entries, Map<String, String> metadata, long dataStart, long dataSize) {
        public Header {
            entries = List.copyOf(entries);
            metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    /** A whole file loaded into tensors; closing it closes the tensors. */
    public record Contents(ParamSet tensors, Map<String, String> metadata) implements AutoCloseable {
        @Override
        public void close() { tensors.close(); }
    }

    // ---------------------------------------------------------------- reading

    /** Loads every tensor of {@code path} into off-heap tensors, in data order, with the metadata. */
    public static Contents read(Path path) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(path)) {
            return new Contents(r.loadAll(), r.metadata());
        }
    }

    /** Opens {@code path} for reading tensor by tensor (memory-mapped), after checking its header. */
    public static SafetensorsReader open(Path path) throws IOException {
        return SafetensorsReader.open(path);
    }

    /**
     * Reads and checks the header of an open file. Refused, each with a message naming it: a file
     * shorter than 8 bytes; a header length over {@link #MAX_HEADER_BYTES} or past the end of the
     * file; a header that is not one JSON object (or has duplicate names); an entry that is not
     * an object, lacks or has unknown fields, or has fields of the wrong type; a dtype other than
     * F32 (unknown dtypes are named as such); a negative or overflowing shape; offsets that are
     * not two non-negative integers with begin &lt;= end, whose size is not the shape's element
     * count times 4, that run past the data area, or that overlap; gaps between tensors and
     * trailing bytes after the last one; metadata that is not an object of strings.
     */
    static Header parseHeader(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) {
            throw new SafetensorsException(path, "file is " + fileSize + " bytes long, too short for the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(path, ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsException(path, "header length " + Long.toUnsignedString(n) + " is absurd (limit "
                    + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
        }
        if (n > fileSize - 8) {
            throw new SafetensorsException(path, "header length " + n + " runs past the end of the file ("
                    + fileSize + " bytes): truncated or not a safetensors file");
        }
        byte[] headerBytes = new byte[(int) n];
        readFully(path, ch, ByteBuffer.wrap(headerBytes), 8);
        JsonNode root;
        try {
            root = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage();
            if (m != null && m.startsWith("Duplicate field")) {
                throw new SafetensorsException(path, "header has a duplicate name: " + m, e);
            }
            throw new SafetensorsException(path, "header is not valid JSON: " + oneLine(m), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(path, "header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataSize = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(path, f.getValue());
            } else {
                entries.add(parseEntry(path, f.getKey(), f.getValue(), dataSize));
            }
        }
        // Data order; a stable sort keeps header order among zero-size tensors at one offset.
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry prev = null;
        for (Entry e : entries) {
            if (e.begin() < expected) {
                throw new SafetensorsException(path, "tensor '" + e.name() + "' at bytes [" + e.begin() + ", " + e.end()
                        + ") overlaps tensor '" + prev.name() + "' at [" + prev.begin() + ", " + prev.end() + ")");
            }
            if (e.begin() > expected) {
                throw new SafetensorsException(path, "bytes [" + expected + ", " + e.begin() + ") of the data area before tensor '"
                        + e.name() + "' belong to no tensor (a gap: the offsets lie or the file is corrupt)");
            }
            expected = e.end();
            prev = e;
        }
        if (expected != dataSize) {
            throw new SafetensorsException(path, (dataSize - expected) + " trailing bytes after the last tensor's data (data area is "
                    + dataSize + " bytes, tensors cover " + expected + ")");
        }
        return new Header(entries, metadata, dataStart, dataSize);
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) throws SafetensorsException {
        if (!node.isObject()) {
            throw new SafetensorsException(path, METADATA_KEY + " is a JSON " + node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
                    + ", not an object of strings");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            if (!f.getValue().isTextual()) {
                throw new SafetensorsException(path, METADATA_KEY + " value of '" + f.getKey() + "' is " + f.getValue()
                        + ", not a string");
            }
            m.put(f.getKey(), f.getValue().textValue());
        }
        return m;
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) throws SafetensorsException {
        String what = "tensor '" + name + "'";
        if (name.isEmpty()) throw new SafetensorsException(path, "a tensor has an empty name");
        if (!node.isObject()) throw new SafetensorsException(path, what + ": header entry is " + node + ", not an object");
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            String k = f.getKey();
            if (!ENTRY_FIELDS.contains(k)) throw new SafetensorsException(path, what + " has an unknown field '" + k + "'");
        }
        JsonNode dtype = required(path, what, node, "dtype");
        if (!dtype.isTextual()) throw new SafetensorsException(path, what + ": dtype " + dtype + " is not a string");
        String dt = dtype.textValue();
        if (!READ_DTYPES.contains(dt)) {
            if (KNOWN_DTYPES.contains(dt)) {
                throw new SafetensorsException(path, what + " has dtype " + dt + "; nag4j reads F32, BF16 and F16");
            }
            throw new SafetensorsException(path, what + " has unknown dtype '" + dt + "'; nag4j reads F32, BF16 and F16");
        }
        JsonNode shapeNode = required(path, what, node, "shape");
        if (!shapeNode.isArray()) throw new SafetensorsException(path, what + ": shape " + shapeNode + " is not an array");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
                throw new SafetensorsException(path, what + ": shape " + shapeNode + " has dimension " + d
                        + ", not a non-negative integer");
            }
            shape[i] = d.longValue();
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.sizeOf(name, shape), (long) bytesOf(dt));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new SafetensorsException(path, what + ": shape " + shapeNode + " is too large", e);
        }
        JsonNode off = required(path, what, node, "data_offsets");
        if (!off.isArray() || off.size() != 2) {
            throw new SafetensorsException(path, what + ": data_offsets " + off + " is not [begin, end]");
        }
        for (JsonNode o : off) {
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw new SafetensorsException(path, what + ": data_offsets " + off + " are not two non-negative integers");
            }
        }
        long begin = off.get(0).longValue(), end = off.get(1).longValue();
        if (begin > end) throw new SafetensorsException(path, what + ": data_offsets " + off + " begin after they end");
        if (end - begin != bytes) {
            throw new SafetensorsException(path, what + ": data_offsets " + off + " hold " + (end - begin)
                    + " bytes but " + dt + " shape " + shapeNode + " needs " + bytes);
        }
        if (end > dataSize) {
            throw new SafetensorsException(path, what + ": data_offsets " + off + " run past the end of the data area ("
                    + dataSize + " bytes): the file is truncated or the offsets lie");
        }
        return new Entry(name, shape, begin, end, dt);
    }

    private static JsonNode required(Path path, String what, JsonNode node, String field) throws SafetensorsException {
        JsonNode v = node.get(field);
        if (v == null) throw new SafetensorsException(path, what + " has no '" + field + "'");
        return v;
    }

    private static void readFully(Path path, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) throw new SafetensorsException(path, "file ended early at byte " + pos);
            pos += r;
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ");
    }

    // ---------------------------------------------------------------- writing

    /** Writes {@code tensors} (in this order, under their names) and {@code metadata} to {@code path}, atomically. */
    public static void write(Path path, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        if (tensors == null) throw new IllegalArgumentException("tensors to write to " + path + " are null");
        SequencedMap<String, Tensor> named = new LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t == null) throw new IllegalArgumentException("tensor #" + i + " to write to " + path + " is null");
            if (named.putIfAbsent(t.name(), t) != null) {
                throw new IllegalArgumentException("two tensors to write to " + path + " are named '" + t.name() + "'");
            }
        }
        write(path, named, metadata);
    }

    /**
     * Writes each tensor under its key (in the map's order) and {@code metadata} to {@code path},
     * atomically. The key may differ from the tensor's own name (a checkpoint's state tensors).
     */
    public static void write(Path path, SequencedMap<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(path, tensors, metadata, Map.of());
    }

    /**
     * As {@link #write(Path, SequencedMap, Map)}, storing the tensors {@code dtypes} names as BF16
     * or F16 (the rest F32): each value rounded to nearest even ({@link io.nag4j.core.ir.Narrowing}),
     * which is exact for values already of that type (a mixed-precision param).
     */
    public static void write(Path path, SequencedMap<String, Tensor> tensors, Map<String, String> metadata, Map<String, String> dtypes) throws IOException {
        Objects.requireNonNull(path, "path");
        for (var d : dtypes.entrySet()) {
            if (!READ_DTYPES.contains(d.getValue())) throw new IllegalArgumentException("tensor '" + d.getKey() + "': nag4j writes F32, BF16 or F16, not " + d.getValue());
        }
        if (tensors == null) throw new IllegalArgumentException("tensors to write to " + path + " are null");
        if (metadata == null) metadata = Map.of();
        // Check everything before the file is touched.
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("a tensor to write to " + path + " has no name");
            if (t == null) throw new IllegalArgumentException("tensor '" + name + "' to write to " + path + " is null");
            if (t.isClosed()) throw new IllegalArgumentException("tensor '" + name + "' to write to " + path + " is closed");
            if (name.equals(METADATA_KEY)) throw new IllegalArgumentException("a tensor may not be named " + METADATA_KEY);
        }
        List<Tensor> order = List.copyOf(tensors.values());
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(METADATA_KEY);
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata for " + path + " has a null key or value: " + e);
                }
                m.put(e.getKey(), e.getValue());
            }
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> named : tensors.entrySet()) {
            Tensor t = named.getValue();
            ObjectNode e = root.putObject(named.getKey());
            String dt = dtypes.getOrDefault(named.getKey(), "F32");
            e.put("dtype", dt);
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            long bytes = t.size() * bytesOf(dt);
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IOException("cannot encode the header of " + path, e);
        }
        long headerLength = (json.length + 7L) / 8 * 8;
        if (headerLength > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("header of " + path + " would be " + headerLength + " bytes, over the limit of " + MAX_HEADER_BYTES);
        }
        ByteBuffer head = ByteBuffer.allocate(8 + (int) headerLength).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(headerLength).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(path, ch -> {
            writeFully(ch, head);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staging = arena.allocate(WRITE_CHUNK_BYTES, Tensor.ALIGNMENT);
                long chunkElements = WRITE_CHUNK_BYTES / Float.BYTES;
                List<String> keys = List.copyOf(tensors.keySet());
                for (int ti = 0; ti < order.size(); ti++) {
                    Tensor t = order.get(ti);
                    long n = t.size();
                    String dt = dtypes.getOrDefault(keys.get(ti), "F32");
                    if (!dt.equals("F32")) {
                        boolean bf = dt.equals("BF16");
                        for (long at = 0; at < n; at += chunkElements) {
                            long count = Math.min(chunkElements, n - at);
                            for (long i = 0; i < count; i++) {
                                float v = t.get(at + i);
                                staging.set(FILE_I16, 2 * i, bf ? (io.nag4j.core.ir.Narrowing.isBf16(v) ? io.nag4j.core.ir.Narrowing.bf16Pattern(v) : io.nag4j.core.ir.Narrowing.toBf16Bits(v))
                                        : (io.nag4j.core.ir.Narrowing.isF16(v) ? io.nag4j.core.ir.Narrowing.f16Pattern(v) : io.nag4j.core.ir.Narrowing.toF16Bits(v)));
                            }
                            writeFully(ch, staging.asSlice(0, count * 2).asByteBuffer());
                        }
                        continue;
                    }
                    for (long at = 0; at < n; at += chunkElements) {
                        long count = Math.min(chunkElements, n - at);
                        // segment() checks the tensor is still open: a tensor closed midway fails the write.
                        MemorySegment.copy(t.segment(), Tensor.F32, at * Float.BYTES, staging, FILE_F32, 0, count);
                        writeFully(ch, staging.asSlice(0, count * Float.BYTES).asByteBuffer());
                    }
                }
            }
        });
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
