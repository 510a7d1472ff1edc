package io.nag4j.core.io;

import io.nag4j.core.ir.Narrowing;
import io.nag4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** BF16 and F16 tensors: read widened exactly, written narrowed (exact for 16-bit values), byte for byte as the format says. */
class SafetensorsHalfTest {
    @TempDir
    Path dir;

    @Test
    void sixteenBitTensorsRoundTripExactlyAndAreLittleEndianPatterns() throws Exception {
        short[] bf = {0x3f80, (short) 0xbf80, 0x7f80, (short) 0xff80, 0x7fc1, 0x0001, (short) 0x8000, 0x4049};
        short[] f16 = {0x3c00, (short) 0xbc00, 0x7c00, 0x0001, 0x03ff, 0x7bff, (short) 0xfe01, 0x0000};
        float[] bfv = new float[bf.length], fv = new float[f16.length];
        for (int i = 0; i < bf.length; i++) bfv[i] = Narrowing.fromBf16Bits(bf[i]);
        for (int i = 0; i < f16.length; i++) fv[i] = Narrowing.fromF16Bits(f16[i]);
        Path file = dir.resolve("half.safetensors");
        try (Tensor a = Tensor.of("a", bfv, 2, 4); Tensor b = Tensor.of("b", fv, 8); Tensor c = Tensor.of("c", 1.5f, -2f)) {
            LinkedHashMap<String, Tensor> m = new LinkedHashMap<>(Map.of());
            m.put("a", a);
            m.put("b", b);
            m.put("c", c);
            Safetensors.write(file, m, Map.of(), Map.of("a", "BF16", "b", "F16"));
        }
        byte[] bytes = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) headerLen, bytes.length - 8 - (int) headerLen).slice().order(ByteOrder.LITTLE_ENDIAN);
        for (short h : bf) assertEquals(h, data.getShort());
        for (short h : f16) assertEquals(h, data.getShort());
        assertEquals(1.5f, data.getFloat());
        try (SafetensorsReader r = SafetensorsReader.open(file); Tensor a = r.load("a"); Tensor b = r.load("b")) {
            assertEquals("BF16", r.dtype("a"));
            assertEquals("F16", r.dtype("b"));
            assertEquals("F32", r.dtype("c"));
            for (int i = 0; i < bf.length; i++) assertEquals(Float.floatToRawIntBits(bfv[i]), Float.floatToRawIntBits(a.get(i)), "a[" + i + "]");
            for (int i = 0; i < f16.length; i++) assertEquals(Float.floatToRawIntBits(fv[i]), Float.floatToRawIntBits(b.get(i)), "b[" + i + "]");
            assertArrayEquals(new long[] {2, 4}, a.shape());
        }
    }
}
