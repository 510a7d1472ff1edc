package io.nag4j.core.golden;

import io.nag4j.core.tensor.Tensor;

import static org.junit.jupiter.api.Assertions.fail;

/** Bitwise float comparison for tests: raw bits, except that any NaN matches any NaN. */
public final class Bits {
    private Bits() {}

    public static boolean same(float a, float b) {
        return Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b) || (Float.isNaN(a) && Float.isNaN(b));
    }

    public static String show(float v) {
        return String.format("%08x (%s)", Float.floatToRawIntBits(v), v);
    }

    /** Fails naming the context (step, tensor), the first differing element and both values. */
    public static void assertSame(float[] expected, float[] actual, String context) {
        if (expected.length != actual.length) fail(context + ": length " + actual.length + ", expected " + expected.length);
        int bad = 0, first = -1;
        for (int i = 0; i < expected.length; i++) {
            if (!same(expected[i], actual[i])) {
                if (first < 0) first = i;
                bad++;
            }
        }
        if (bad > 0) {
            fail(context + ": " + bad + " of " + expected.length + " elements differ; first is element " + first
                    + ": expected " + show(expected[first]) + ", got " + show(actual[first]));
        }
    }

    public static void assertSame(Tensor expected, Tensor actual, String context) {
        assertSame(expected.toArray(), actual.toArray(), context + " '" + actual.name() + "'");
    }
}
