package io.nag4j.core.io;

import io.nag4j.core.golden.Bits;
import io.nag4j.core.tensor.ParamSet;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {
    @TempDir
    Path dir;

    static float f(int bits) { return Float.intBitsToFloat(bits); }

    /** Special values: NaN payloads (quiet and signalling, both signs), -0, subnormals, infinities. */
    static final float[] SPECIAL = {
            f(0x7fc00000), f(0x7fa00001), f(0xffc12345), f(0x7f800001), -0.0f, 0.0f, f(0x00000001), f(0x807fffff),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MIN_NORMAL, 1.0f, 0.1f};

    static void assertRawBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + " element " + i + ": expected " + Bits.show(expected[i]) + ", got " + Bits.show(actual[i]));
        }
    }

    @Test
    void roundTripKeepsNamesOrderShapesBitsAndMetadata() throws IOException {
        Path p = dir.resolve("a.safetensors");
        float[] big = new float[300_000];  // spans more than one write chunk
        for (int i = 0; i < big.length; i++) big[i] = f(i * 7919 + 0x3f000000);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "test");
        meta.put("ünïcode", "välue \"quoted\"\n");
        try (ParamSet ps = ParamSet.of(
                Tensor.of("z/special", SPECIAL, 2, 7),
                Tensor.of("scalar", new float[] {-0.0f}, new long[0]),
                Tensor.zeros("empty", 0, 3),
                Tensor.of("big", big, 300, 1000))) {
            Safetensors.write(p, ps.tensors(), meta);
        }
        try (Safetensors.Contents c = Safetensors.read(p)) {
            assertEquals(List.of("z/special", "scalar", "empty", "big"), c.tensors().names());
            assertArrayEquals(new long[] {2, 7}, c.tensors().get(0).shape());
            assertArrayEquals(new long[0], c.tensors().get(1).shape());
            assertArrayEquals(new long[] {0, 3}, c.tensors().get(2).shape());
            assertArrayEquals(new long[] {300, 1000}, c.tensors().get(3).shape());
            assertRawBits(SPECIAL, c.tensors().get(0).toArray(), "z/special");
            assertRawBits(new float[] {-0.0f}, c.tensors().get(1).toArray(), "scalar");
            assertEquals(0, c.tensors().get(2).size());
            assertRawBits(big, c.tensors().get(3).toArray(), "big");
            assertEquals(meta, c.metadata());
        }
    }

    @Test
    void onDiskLayoutIsLittleEndianWithAPaddedHeader() throws IOException {
        Path p = dir.resolve("l.safetensors");
        try (Tensor t = Tensor.of("x", 1.0f, -2.0f)) {
            Safetensors.write(p, List.of(t), Map.of());
        }
        byte[] b = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header.strip());
        assertEquals(8 + n + 8, b.length);
        // 1.0f = 0x3f800000, -2.0f = 0xc0000000, little-endian.
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xc0}, Arrays.copyOfRange(b, (int) (8 + n), b.length));
    }

    @Test
    void readsForeignFilesInDataOrderWithUnpaddedHeader() throws IOException {
        // As another writer may lay it out: header entries not in data order, metadata last, no padding.
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"a\":{\"shape\":[],\"data_offsets\":[0,4],\"dtype\":\"F32\"},\"__metadata__\":{\"k\":\"v\"}}";
        Path p = file(header, le(3.5f, -1.25f));
        try (Safetensors.Contents c = Safetensors.read(p)) {
            assertEquals(List.of("a", "b"), c.tensors().names());
            assertEquals(3.5f, c.tensors().get("a").get(0));
            assertEquals(-1.25f, c.tensors().get("b").get(0));
            assertEquals(Map.of("k", "v"), c.metadata());
        }
    }

    @Test
    void readerCopiesSlicesOfOneTensor() throws IOException {
        Path p = dir.resolve("u.safetensors");
        try (Tensor t = Tensor.of("u", new float[] {1, 2, 3, 4, 5, 6}, 3, 2)) {
            Safetensors.write(p, List.of(t), Map.of());
        }
        try (SafetensorsReader r = Safetensors.open(p); Tensor step = Tensor.zeros("s", 2)) {
            r.copy("u", 4, step);
            assertArrayEquals(new float[] {5, 6}, step.toArray());
            assertThrows(IllegalArgumentException.class, () -> r.copy("u", 5, step));
            assertThrows(IllegalArgumentException.class, () -> r.copy("nope", 0, step));
        }
    }

    @Test
    void tensorsPast2To31ElementsAreAddressedWithLongs() throws IOException {
        // A sparse file: one tensor of 2^31 + 16 elements (8 GiB), of which only the last 8 are written.
        long n = (1L << 31) + 16;
        byte[] h = ("{\"huge\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + (n * 4) + "]}}")
                .getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("huge.safetensors");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.write(bytes(h.length, h, new byte[0]));
            f.setLength(8 + h.length + n * 4);
            f.seek(8 + h.length + (n - 8) * 4);
            f.write(le(1, 2, 3, 4, 5, 6, 7, 8));
        }
        try (SafetensorsReader r = Safetensors.open(p); Tensor tail = Tensor.zeros("tail", 8)) {
            assertEquals(n, r.find("huge").size());
            r.copy("huge", n - 8, tail);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, tail.toArray());
            r.copy("huge", (1L << 31) + 4, tail);  // past int range, straddling zeros and data
            assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2, 3, 4}, tail.toArray());
        }
    }

    // ---------------------------------------------------------------- hostile files

    static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    static byte[] bytes(long headerLength, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    Path file(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return write(bytes(h.length, h, data));
    }

    Path write(byte[] content) throws IOException {
        Path p = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(p, content);
        return p;
    }

    static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    static Arguments bad(String why, String header, byte[] data, String expected) {
        return Arguments.of(why, header, data, expected);
    }

    static Stream<Arguments> hostileHeaders() {
        byte[] eight = le(1, 2), twelve = le(1, 2, 3), four = le(1);
        return Stream.of(
                bad("not JSON", "{not json", eight, "not valid JSON"),
                bad("a JSON array", "[1,2]", eight, "not a JSON object"),
                bad("two JSON values", "{} {}", new byte[0], "not valid JSON"),
                bad("duplicate names", "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("a", "F32", "[1]", "[4,8]") + "}", eight, "duplicate name"),
                bad("entry not an object", "{\"a\":3}", eight, "tensor 'a': header entry is 3"),
                bad("empty name", "{" + entry("", "F32", "[1]", "[0,4]") + "}", four, "empty name"),
                bad("missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", four, "tensor 'a' has no 'dtype'"),
                bad("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", four, "tensor 'a' has no 'shape'"),
                bad("missing offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", four, "tensor 'a' has no 'data_offsets'"),
                bad("unknown field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"crc\":1}}", four, "tensor 'a' has an unknown field 'crc'"),
                bad("dtype not a string", "{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", four, "tensor 'a': dtype 5 is not a string"),
                bad("F64", "{" + entry("x", "F64", "[1]", "[0,8]") + "}", eight, "tensor 'x' has dtype F64; nag4j reads F32, BF16 and F16"),
                bad("F16 sized as F32", "{" + entry("x", "F16", "[2]", "[0,8]") + "}", eight, "tensor 'x': data_offsets [0,8] hold 8 bytes but F16 shape [2] needs 4"),
                bad("BF16 sized as F32", "{" + entry("x", "BF16", "[2]", "[0,8]") + "}", eight, "tensor 'x': data_offsets [0,8] hold 8 bytes but BF16 shape [2] needs 4"),
                bad("I32", "{" + entry("x", "I32", "[1]", "[0,4]") + "}", four, "tensor 'x' has dtype I32; nag4j reads F32, BF16 and F16"),
                bad("unknown dtype", "{" + entry("x", "Q7", "[1]", "[0,4]") + "}", four, "tensor 'x' has unknown dtype 'Q7'"),
                bad("F32 after a bad one", "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "U8", "[4]", "[4,8]") + "}", eight, "tensor 'b' has dtype U8"),
                bad("shape not an array", "{" + entry("a", "F32", "2", "[0,8]") + "}", eight, "tensor 'a': shape 2 is not an array"),
                bad("negative dimension", "{" + entry("a", "F32", "[-1]", "[0,4]") + "}", four, "tensor 'a': shape [-1] has dimension -1"),
                bad("fractional dimension", "{" + entry("a", "F32", "[1.5]", "[0,4]") + "}", four, "tensor 'a': shape [1.5] has dimension 1.5"),
                bad("string dimension", "{" + entry("a", "F32", "[\"1\"]", "[0,4]") + "}", four, "has dimension \"1\""),
                bad("dimension past long", "{" + entry("a", "F32", "[100000000000000000000]", "[0,4]") + "}", four, "has dimension 100000000000000000000"),
                bad("overflowing shape", "{" + entry("a", "F32", "[4611686018427387904,4]", "[0,4]") + "}", four, "tensor 'a': shape [4611686018427387904,4] is too large"),
                bad("offsets not a pair", "{" + entry("a", "F32", "[1]", "[0]") + "}", four, "tensor 'a': data_offsets [0] is not [begin, end]"),
                bad("negative offset", "{" + entry("a", "F32", "[1]", "[-4,0]") + "}", four, "are not two non-negative integers"),
                bad("begin after end", "{" + entry("a", "F32", "[0]", "[4,0]") + "}", four, "tensor 'a': data_offsets [4,0] begin after they end"),
                bad("size lies", "{" + entry("a", "F32", "[2]", "[0,4]") + "}", four, "tensor 'a': data_offsets [0,4] hold 4 bytes but F32 shape [2] needs 8"),
                bad("out of the data area", "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}", eight,
                        "tensor 'b': data_offsets [4,12] run past the end of the data area (8 bytes)"),
                bad("overlap", "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[1]", "[4,8]") + "," + entry("c", "F32", "[1]", "[8,12]") + "}", twelve,
                        "tensor 'b' at bytes [4, 8) overlaps tensor 'a' at [0, 8)"),
                bad("same offsets twice", "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[0,4]") + "}", eight, "overlaps"),
                bad("gap", "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", twelve,
                        "bytes [4, 8) of the data area before tensor 'b' belong to no tensor"),
                bad("trailing bytes", "{" + entry("a", "F32", "[1]", "[0,4]") + "}", eight, "4 trailing bytes after the last tensor"),
                bad("metadata not an object", "{\"__metadata__\":[1]}", new byte[0], "__metadata__ is a JSON array, not an object of strings"),
                bad("metadata value a number", "{\"__metadata__\":{\"step\":3}}", new byte[0], "__metadata__ value of 'step' is 3, not a string"),
                bad("metadata value null", "{\"__metadata__\":{\"k\":null}}", new byte[0], "__metadata__ value of 'k' is null"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileHeaders")
    void hostileHeaderIsRefusedNamingTheProblem(String why, String header, byte[] data, String expected) throws IOException {
        Path p = file(header, data);
        assertRefused(p, expected);
    }

    @Test
    void tooShortAndAbsurdLengthsAreRefused() throws IOException {
        assertRefused(write(new byte[0]), "0 bytes long, too short");
        assertRefused(write(new byte[5]), "5 bytes long, too short");
        assertRefused(write(bytes(-1L, new byte[8], new byte[0])), "header length 18446744073709551615 is absurd");
        assertRefused(write(bytes(200_000_000L, new byte[8], new byte[0])), "header length 200000000 is absurd");
        assertRefused(write(bytes(1000, "{}".getBytes(StandardCharsets.UTF_8), new byte[0])), "header length 1000 runs past the end of the file (10 bytes)");
        assertRefused(write(bytes(0, new byte[0], new byte[0])), "not a JSON object");
        byte[] notUtf8 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}".getBytes(StandardCharsets.UTF_8);
        notUtf8[2] = (byte) 0xff; // the tensor's name: not UTF-8
        assertRefused(write(bytes(notUtf8.length, notUtf8, new byte[0])), "UTF-8");
        // An 8 GB header claim in a small file: refused from the length alone, nothing allocated.
        assertRefused(write(bytes(8L << 30, new byte[8], new byte[0])), "header length 8589934592 is absurd");
    }

    @Test
    void invalidUtf8HeaderIsRefused() throws IOException {
        byte[] h = "{\"a\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        assertRefused(write(bytes(h.length, h, new byte[0])), "not valid JSON");
    }

    @Test
    void truncatedFileIsRefused() throws IOException {
        Path p = dir.resolve("t.safetensors");
        try (Tensor a = Tensor.of("a", 1, 2, 3); Tensor b = Tensor.of("b", 4, 5)) {
            Safetensors.write(p, List.of(a, b), Map.of());
        }
        byte[] full = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(full, full.length - 1));
        assertRefused(p, "tensor 'b': data_offsets [12,20] run past the end of the data area (19 bytes)");
        Files.write(p, Arrays.copyOf(full, 12));
        assertRefused(p, "runs past the end of the file (12 bytes)");
    }

    @Test
    void missingFileIsAnIOException() {
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Safetensors.read(dir.resolve("absent.safetensors")));
    }

    static void assertRefused(Path p, String expected) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> {
            try (Safetensors.Contents c = Safetensors.read(p)) {
                throw new AssertionError("loaded " + c.tensors());
            }
        });
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
        assertTrue(e.getMessage().startsWith(p.toString()), "message names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        // Opening is refused too, before anything is mapped or allocated.
        assertThrows(SafetensorsException.class, () -> Safetensors.open(p).close());
    }

    // ---------------------------------------------------------------- atomic writes

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        try (Tensor t = Tensor.of("old", 1, 2)) {
            Safetensors.write(p, List.of(t), Map.of("v", "old"));
        }
        byte[] before = Files.readAllBytes(p);
        // A body that fails halfway through writing: the rename never happens.
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            throw new IOException("disk full (simulated)");
        }));
        assertEquals("disk full (simulated)", e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        assertOnlyFiles(Set("keep.safetensors"));
        // A body that fails with a runtime exception: the same.
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            throw new IllegalStateException("tensor closed (simulated)");
        }));
        assertArrayEquals(before, Files.readAllBytes(p));
        assertOnlyFiles(Set("keep.safetensors"));
        // A closed tensor is refused before the file is touched.
        Tensor closed = Tensor.of("c", 3, 4);
        closed.close();
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, List.of(closed), Map.of()));
        assertArrayEquals(before, Files.readAllBytes(p));
        // A successful write replaces it.
        try (Tensor t = Tensor.of("new", 5)) {
            Safetensors.write(p, List.of(t), Map.of());
        }
        try (Safetensors.Contents c = Safetensors.read(p)) {
            assertEquals(List.of("new"), c.tensors().names());
        }
        assertOnlyFiles(Set("keep.safetensors"));
    }

    @Test
    void writingOverADirectoryFailsAndCleansUp() throws IOException {
        Path target = dir.resolve("adir");
        Files.createDirectory(target);
        Files.writeString(target.resolve("inside"), "x");
        try (Tensor t = Tensor.of("a", 1)) {
            assertThrows(IOException.class, () -> Safetensors.write(target, List.of(t), Map.of()));
        }
        assertTrue(Files.isDirectory(target));
        assertEquals("x", Files.readString(target.resolve("inside")));
        assertOnlyFiles(Set("adir"));
    }

    @Test
    void writingIntoAMissingDirectoryFails() {
        try (Tensor t = Tensor.of("a", 1)) {
            assertThrows(java.nio.file.NoSuchFileException.class,
                    () -> Safetensors.write(dir.resolve("no/such/dir/x.safetensors"), List.of(t), Map.of()));
        }
    }

    @Test
    void writerRefusesBadArguments() {
        Path p = dir.resolve("w.safetensors");
        try (Tensor a = Tensor.of("a", 1); Tensor a2 = Tensor.of("a", 2); Tensor m = Tensor.of("__metadata__", 1)) {
            assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, List.of(a, a2), Map.of()));
            assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, List.of(m), Map.of()));
            assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, (List<Tensor>) null, Map.of()));
        }
        assertFalse(Files.exists(p));
    }

    private static java.util.Set<String> Set(String... names) { return java.util.Set.of(names); }

    private void assertOnlyFiles(java.util.Set<String> expected) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(expected, s.map(x -> x.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
    }
}
