package io.nag4j.core.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {
    @Test
    void roundTripsFloatArraysBitForBit() {
        float[] data = {0f, -0f, Float.MIN_VALUE, Float.NaN, Float.intBitsToFloat(0x7fa00001), Float.NEGATIVE_INFINITY, 3f, -1e-40f};
        try (Tensor t = Tensor.of("w", data, 2, 4)) {
            float[] back = t.toArray();
            for (int i = 0; i < data.length; i++) {
                assertEquals(Float.floatToRawIntBits(data[i]), Float.floatToRawIntBits(back[i]), "element " + i);
            }
            assertArrayEquals(new long[] {2, 4}, t.shape());
            assertEquals(8, t.size());
            assertEquals(0, t.segment().address() % Tensor.ALIGNMENT, "aligned");
        }
    }

    @Test
    void indexesBeyondTwoToTheThirtyOneWithLongs() {
        long n = (1L << 31) + 3;
        try (Tensor t = Tensor.zeros("big", n)) {
            t.set(n - 1, 7f);
            assertEquals(7f, t.get(n - 1));
            assertEquals(n, t.size());
            assertThrows(IllegalStateException.class, t::toArray, "too large for float[]");
        }
    }

    @Test
    void useAfterCloseIsAnExceptionNamingTheTensor() {
        Tensor t = Tensor.of("bias", 1f, 2f);
        t.close();
        var e = assertThrows(IllegalStateException.class, () -> t.get(0));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        assertThrows(IllegalStateException.class, t::segment);
        t.close(); // idempotent
    }

    @Test
    void badShapesAndDataAreRefusedNamingTheTensor() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.of("w", new float[3], 2, 2));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros("neg", 2, -1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros("huge", Long.MAX_VALUE, 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros("", 2));
        assertThrows(IndexOutOfBoundsException.class, () -> {
            try (Tensor t = Tensor.zeros("w", 2)) {
                t.get(2);
            }
        });
    }

    @Test
    void scalarTensorHasOneElement() {
        try (Tensor t = Tensor.of("s", new float[] {5f})) {
            assertEquals(1, t.size());
            try (Tensor s = Tensor.zeros("rank0")) {
                assertEquals(1, s.size());
                assertEquals(0, s.rank());
            }
        }
    }

    @Test
    void paramSetRefusesDuplicatesAndMismatches() {
        try (Tensor a = Tensor.of("a", 1f, 2f); Tensor b = Tensor.of("a", 1f)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ParamSet.of(a, b));
            assertTrue(e.getMessage().contains("'a'"), e.getMessage());
        }
        try (ParamSet p = ParamSet.of(Tensor.of("w", 1f, 2f)); ParamSet u = ParamSet.of(Tensor.of("w", 1f, 2f, 3f))) {
            var e = assertThrows(IllegalArgumentException.class, () -> p.checkCompatible(u, "updates"));
            assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[2]"), e.getMessage());
        }
    }

    @Test
    void wrapIsAZeroCopyViewOfTheCallersMemory() {
        float[] data = {1f, 2f, 3f, 4f, 5f, 6f};
        try (Tensor t = Tensor.wrap("w", java.lang.foreign.MemorySegment.ofArray(data), 2, 3)) {
            t.set(4, 50f);
            org.junit.jupiter.api.Assertions.assertEquals(50f, data[4], "a write shows in the caller's array");
            data[0] = 10f;
            org.junit.jupiter.api.Assertions.assertEquals(10f, t.get(0), "the caller's write shows in the tensor");
        }
        org.junit.jupiter.api.Assertions.assertEquals(6f, data[5], "closing the view frees nothing");
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        Tensor native1 = Tensor.wrap("n", arena.allocate(16), 4);
        native1.set(3, 7f);
        arena.close();
        org.junit.jupiter.api.Assertions.assertTrue(native1.isClosed(), "the owner freed it");
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> native1.get(0));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'n'"), e.getMessage());
        var size = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Tensor.wrap("s", java.lang.foreign.MemorySegment.ofArray(new float[5]), 2, 3));
        org.junit.jupiter.api.Assertions.assertTrue(size.getMessage().contains("'s'") && size.getMessage().contains("24 bytes"), size.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Tensor.wrap("r", java.lang.foreign.MemorySegment.ofArray(new float[2]).asReadOnly(), 2));
    }
}
