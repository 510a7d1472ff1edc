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
}
